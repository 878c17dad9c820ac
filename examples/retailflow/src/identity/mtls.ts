import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Agent, fetch as undiciFetch } from 'undici';

const run = promisify(execFile);

/** PEM material of one party of a mutual TLS connection. */
export interface TlsIdentity {
  /** The certificate chain this party presents. */
  readonly cert: string;
  /** Its private key (memory only: never written anywhere that outlives the generation). */
  readonly key: string;
  /** The CA it trusts for the other party. */
  readonly ca: string;
}

/** Development certificates for mutual TLS between RetailFlow and the payment provider. */
export interface DevCertificates {
  /** The provider's server identity (SAN `127.0.0.1`, `localhost`). */
  readonly server: TlsIdentity;
  /** RetailFlow's client identity (CN `retailflow`). */
  readonly client: TlsIdentity;
  /** A client certificate from another CA (for tests: it must be refused). */
  readonly stranger: TlsIdentity;
}

async function openssl(cwd: string, args: readonly string[]): Promise<void> {
  await run('openssl', args, { cwd, timeout: 30_000 });
}

async function ca(dir: string, name: string): Promise<void> {
  await openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  await openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    `${name}.key`,
    '-sha256',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    `${name}.crt`,
  ]);
}

async function leaf(dir: string, caName: string, name: string, cn: string, ext: string): Promise<void> {
  await writeFile(path.join(dir, `${name}.ext`), ext);
  await openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  await openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${caName}.crt`,
    '-CAkey',
    `${caName}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-sha256',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
}

/**
 * Generates, with the system's `openssl`, a throw-away CA and from it a server certificate for the payment provider
 * and a client certificate for RetailFlow (ECDSA P-256, valid two days), plus a client certificate from a second CA
 * that the provider must refuse. The files live in a private temporary directory only while `openssl` runs; the
 * keys are returned in memory and the directory is removed. Development and tests only: production certificates
 * come from the platform's PKI (cert-manager, a service mesh, a KMS-backed CA).
 *
 * @example
 * ```ts
 * const certs = await generateDevCertificates();
 * const provider = await startPaymentSimulator({ tls: certs.server });
 * const gateway = httpPaymentGateway(provider.url, mtlsFetch(certs.client));
 * ```
 */
export async function generateDevCertificates(): Promise<DevCertificates> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'retailflow-mtls-'));
  try {
    await ca(dir, 'dev-ca');
    await ca(dir, 'other-ca');
    await leaf(
      dir,
      'dev-ca',
      'server',
      'payment-provider',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n',
    );
    const client = 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n';
    await leaf(dir, 'dev-ca', 'client', 'retailflow', client);
    await leaf(dir, 'other-ca', 'stranger', 'retailflow', client);
    const read = (file: string) => readFile(path.join(dir, file), 'utf8');
    const devCa = await read('dev-ca.crt');
    return {
      server: { cert: await read('server.crt'), key: await read('server.key'), ca: devCa },
      client: { cert: await read('client.crt'), key: await read('client.key'), ca: devCa },
      stranger: { cert: await read('stranger.crt'), key: await read('stranger.key'), ca: devCa },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A `fetch` that presents `identity`'s client certificate and trusts only `identity.ca` for the server (undici
 * `Agent` with TLS options): what RetailFlow's payment client uses when the provider requires mutual TLS. Pass
 * `identity: undefined` parts to test refusals.
 *
 * @example
 * ```ts
 * const gateway = httpPaymentGateway('https://127.0.0.1:3001', mtlsFetch(certs.client));
 * ```
 */
export function mtlsFetch(identity: Partial<TlsIdentity> & Pick<TlsIdentity, 'ca'>): typeof fetch {
  const dispatcher = new Agent({
    connect: {
      ca: identity.ca,
      ...(identity.cert === undefined ? {} : { cert: identity.cert }),
      ...(identity.key === undefined ? {} : { key: identity.key }),
      rejectUnauthorized: true,
    },
  });
  return ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}
