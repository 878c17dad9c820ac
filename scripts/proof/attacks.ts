import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { KEYS, setChaos, sleep, type ServiceProcess } from './service.js';

/** One goal as every proof section reports it. */
export interface Goal {
  readonly value: number;
  readonly goal: number;
  readonly met: boolean;
}

/** Knobs of the attack scenarios. */
export interface AttackOptions {
  /** Slow connections held open during the slow-request attack. */
  readonly slowConnections: number;
  /**
   * How long the cancel-during-charge race and the noisy neighbour's burst last, in seconds: their goals count
   * checkouts (cancelled mid-charge; another tenant's, served during the burst), a few hundred per window.
   */
  readonly phaseSec: number;
  /**
   * How long another tenant's calls are measured unloaded and under the slow-request attack, and alone before the
   * noisy neighbour's burst, in seconds. The slow-request figures are a p99 and a success ratio over some thousands
   * of calls a window; the checkouts alone are not gated. @default phaseSec
   */
  readonly victimSec?: number;
  readonly log: (line: string) => void;
}

/** What the attacks measured. */
export interface AttackResult {
  readonly slow: {
    readonly connections: number;
    readonly unloadedP99Ms: number;
    readonly attackedP99Ms: number;
    readonly attackedSuccess: number;
    readonly requests: number;
    readonly attackerAnswers: Record<string, number>;
  };
  readonly abusive: { readonly cases: number; readonly serverErrors: number; readonly examples: string[] };
  readonly money: {
    readonly checkouts: number;
    readonly cancelAttempts: number;
    readonly cancelRefused: number;
    readonly charges: number;
    readonly orphanCharges: number;
    readonly cancelledAnswered201: number;
  };
  readonly noisy: {
    readonly unloadedSuccess: number;
    readonly burstSuccess: number;
    readonly victimCheckouts: number;
    readonly burstAnswers: Record<string, number>;
  };
  readonly goals: Record<string, Goal>;
}

const json = (key: string) => ({
  authorization: `Bearer ${key}`,
  'content-type': 'application/json',
  'idempotency-key': randomUUID(),
});
const MUG = JSON.stringify({ items: [{ productId: 'sku-mug', quantity: 1 }] });

function p99(samples: readonly number[]): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

/** A victim tenant's closed loop (catalog reads and checkouts) for `ms`; latencies and the share answered < 500. */
async function victim(url: string, key: string, ms: number, workers: number) {
  const latencies: number[] = [];
  let ok = 0;
  let total = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const checkout = (i + w) % 3 === 0;
        const started = performance.now();
        let status = 0;
        try {
          const res = await fetch(`${url}/api/v1/${checkout ? 'orders' : 'products'}`, {
            method: checkout ? 'POST' : 'GET',
            headers: checkout ? json(key) : { authorization: `Bearer ${key}` },
            ...(checkout ? { body: MUG } : {}),
            signal: AbortSignal.timeout(10_000),
          });
          status = res.status;
          await res.arrayBuffer();
        } catch {
          status = 0;
        }
        latencies.push(performance.now() - started);
        total++;
        if (status >= 200 && status < 300) ok++;
      }
    }),
  );
  return { latencies, ok, total };
}

/**
 * One slow attacker: connects, sends the headers of a checkout and then one body byte every 2 s; when the
 * service answers or closes, it waits a little and connects again, until `until`.
 */
async function slowLoris(url: string, key: string | undefined, until: number, answers: Record<string, number>) {
  const { hostname, port } = new URL(url);
  while (performance.now() < until) {
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), hostname);
      let timer: NodeJS.Timeout | undefined;
      let first = true;
      const done = () => {
        clearInterval(timer);
        socket.destroy();
        resolve();
      };
      socket.on('connect', () => {
        const headers = [
          'POST /api/v1/orders HTTP/1.1',
          `Host: ${hostname}`,
          'Content-Type: application/json',
          'Content-Length: 10000',
          `Idempotency-Key: ${randomUUID()}`,
          ...(key === undefined ? [] : [`Authorization: Bearer ${key}`]),
        ];
        socket.write(`${headers.join('\r\n')}\r\n\r\n{`);
        timer = setInterval(() => {
          if (performance.now() > until) done();
          else socket.write(' ');
        }, 2000);
      });
      socket.on('data', (chunk: Buffer) => {
        if (first) {
          const status = /^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 'other';
          answers[status] = (answers[status] ?? 0) + 1;
          first = false;
        }
      });
      socket.on('error', done);
      socket.on('close', done);
    });
    // A slow attacker: it comes back, but it does not flood (that is the unauthenticated-flood scenario).
    await sleep(2000);
  }
}

/** Slow bodies from hundreds of connections (a third with a tenant key) while another tenant is served. */
async function slowAttack(service: ServiceProcess, opts: AttackOptions) {
  const ms = (opts.victimSec ?? opts.phaseSec) * 1000;
  // Warm up, then the unloaded baseline.
  // Two workers: the victim stays within its own checkout share, so every failure is the attack's.
  await victim(service.url, KEYS.acme, 1000, 2);
  const unloaded = await victim(service.url, KEYS.acme, ms, 2);
  const answers: Record<string, number> = {};
  const until = performance.now() + ms + 2000;
  const attackers = Array.from({ length: opts.slowConnections }, (_, i) =>
    slowLoris(service.url, i % 3 === 0 ? KEYS.globex : undefined, until, answers),
  );
  await sleep(1000); // let the slow connections open
  const attacked = await victim(service.url, KEYS.acme, ms, 2);
  await Promise.all(attackers);
  return {
    connections: opts.slowConnections,
    unloadedP99Ms: p99(unloaded.latencies),
    attackedP99Ms: p99(attacked.latencies),
    attackedSuccess: attacked.total === 0 ? 0 : attacked.ok / attacked.total,
    requests: attacked.total,
    attackerAnswers: answers,
  };
}

/** Client input that used to answer 5xx, and its relatives: every one must be a 4xx. */
async function abusive(service: ServiceProcess) {
  const cases: { name: string; method: string; path: string; headers: Record<string, string>; body?: string }[] = [];
  for (const key of [KEYS.acme, undefined]) {
    const auth: Record<string, string> = key ? json(key) : { 'content-type': 'application/json' };
    cases.push(
      { name: 'gzip header, plain body', method: 'POST', path: '/api/v1/orders', headers: { ...auth, 'content-encoding': 'gzip' }, body: MUG },
      { name: 'deflate header, plain body', method: 'POST', path: '/api/v1/orders', headers: { ...auth, 'content-encoding': 'deflate' }, body: MUG },
      { name: 'unknown encoding', method: 'POST', path: '/api/v1/orders', headers: { ...auth, 'content-encoding': 'zstd' }, body: MUG },
      { name: 'bad charset', method: 'POST', path: '/api/v1/orders', headers: { ...auth, 'content-type': 'application/json; charset=klingon' }, body: MUG },
      { name: '%ff in a path', method: 'GET', path: '/api/v1/orders/%ff', headers: auth },
      { name: '%c0%af in a path', method: 'DELETE', path: '/api/v1/orders/%c0%af', headers: auth },
      { name: 'NUL in productId', method: 'POST', path: '/api/v1/orders', headers: auth, body: JSON.stringify({ items: [{ productId: 'sku-\u0000', quantity: 1 }] }) },
      { name: 'repeated lines', method: 'POST', path: '/api/v1/orders', headers: auth, body: JSON.stringify({ items: Array.from({ length: 5 }, () => ({ productId: 'sku-mug', quantity: 100 })) }) },
      { name: 'deadline 0', method: 'POST', path: '/api/v1/orders', headers: { ...auth, 'x-request-deadline-ms': '0' }, body: MUG },
      { name: 'deadline 1', method: 'GET', path: '/api/v1/products', headers: { ...auth, 'x-request-deadline-ms': '1' } },
      { name: 'case variant', method: 'POST', path: '/API/V1/ORDERS', headers: auth, body: MUG },
      { name: 'metrics on the public listener', method: 'GET', path: '/metrics', headers: auth },
      { name: 'admin on the public listener', method: 'POST', path: '/admin/chaos', headers: { ...auth, authorization: `Bearer ${KEYS.admin}` }, body: '{"target":"payments","enabled":true,"errorRate":1}' },
    );
  }
  let serverErrors = 0;
  const examples: string[] = [];
  for (const c of cases) {
    let status = 0;
    try {
      const res = await fetch(`${service.url}${c.path}`, {
        method: c.method,
        headers: c.headers,
        ...(c.body === undefined ? {} : { body: c.body }),
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      await res.arrayBuffer();
    } catch (error) {
      examples.push(`${c.name}: ${String(error)}`);
      continue;
    }
    if (status >= 500) {
      serverErrors++;
      examples.push(`${c.name}: ${status}`);
    }
  }
  return { cases: cases.length, serverErrors, examples };
}

/** Checkouts with slow charges, each cancelled while its charge is in flight; then every charge is reconciled. */
async function money(service: ServiceProcess, opts: AttackOptions) {
  await setChaos(service.opsUrl, 'payments', { enabled: true, latencyMs: 300, errorRate: 0 });
  const headers = { authorization: `Bearer ${KEYS.acme}` };
  let checkouts = 0;
  let cancelAttempts = 0;
  let cancelRefused = 0;
  let cancelledAnswered201 = 0;
  const ids = new Set<string>();
  const end = performance.now() + opts.phaseSec * 1000;
  try {
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (performance.now() < end) {
          const placing = fetch(`${service.url}/api/v1/orders`, { method: 'POST', headers: json(KEYS.acme), body: MUG });
          checkouts++;
          await sleep(100);
          // The order is pending now, its charge under way: cancel it.
          const list = (await (await fetch(`${service.url}/api/v1/orders?limit=20`, { headers })).json()) as {
            items: { id: string; status: string }[];
          };
          for (const o of list.items.filter((x) => x.status === 'pending')) {
            cancelAttempts++;
            const res = await fetch(`${service.url}/api/v1/orders/${o.id}`, { method: 'DELETE', headers });
            await res.arrayBuffer();
            if (res.status === 409) cancelRefused++;
          }
          const placed = await placing;
          const body = (await placed.json()) as { id?: string; status?: string };
          if (body.id) ids.add(body.id);
          // A checkout must never answer 201 with an order that was cancelled under it (a cancel after the
          // payment was recorded is a later, separate change and is fine).
          if (placed.status === 201 && body.status === 'cancelled') cancelledAnswered201++;
        }
      }),
    );
  } finally {
    await setChaos(service.opsUrl, 'payments', { enabled: false, latencyMs: 0, errorRate: 0 });
  }
  // Reconcile: every charge the provider made must be recorded as the payment of its order, or refunded (a cancel
  // during an in-flight charge refunds it, possibly through the saga's recovery a little later: wait for that).
  type Charge = { id: string; reference: string; status?: string };
  const orphansOf = async (): Promise<{ charges: Charge[]; orphans: number }> => {
    const charges = (await (
      await fetch(`${service.paymentUrl}/admin/charges`, { headers: { authorization: `Bearer ${KEYS.ops}` } })
    ).json()) as Charge[];
    let orphans = 0;
    for (const charge of charges) {
      if (charge.status === 'refunded') continue;
      const res = await fetch(`${service.url}/api/v1/orders/${charge.reference}`, { headers });
      const order = res.ok ? ((await res.json()) as { paymentId: string | null }) : undefined;
      if (order?.paymentId !== charge.id) orphans++;
    }
    return { charges, orphans };
  };
  let reconciled = await orphansOf();
  for (let waited = 0; reconciled.orphans > 0 && waited < 40; waited += 2) {
    await sleep(2000);
    reconciled = await orphansOf();
  }
  const charges = reconciled.charges;
  const orphanCharges = reconciled.orphans;
  return { checkouts, cancelAttempts, cancelRefused, charges: charges.length, orphanCharges, cancelledAnswered201 };
}

/** Another tenant's checkouts, alone and then during a burst of concurrent checkouts from globex. */
async function noisy(service: ServiceProcess, opts: AttackOptions) {
  const checkouts = async (key: string, workers: number, answers?: Record<string, number>, sec = opts.phaseSec) => {
    let ok = 0;
    let total = 0;
    const end = performance.now() + sec * 1000;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (performance.now() < end) {
          let status = 0;
          try {
            const res = await fetch(`${service.url}/api/v1/orders`, { method: 'POST', headers: json(key), body: MUG });
            status = res.status;
            await res.arrayBuffer();
          } catch {
            status = 0;
          }
          total++;
          if (status === 201) ok++;
          if (answers) answers[String(status)] = (answers[String(status)] ?? 0) + 1;
        }
      }),
    );
    return { ok, total };
  };
  const alone = await checkouts(KEYS.acme, 2, undefined, opts.victimSec ?? opts.phaseSec);
  const burstAnswers: Record<string, number> = {};
  const [during] = await Promise.all([checkouts(KEYS.acme, 2), checkouts(KEYS.globex, 32, burstAnswers)]);
  return {
    unloadedSuccess: alone.total === 0 ? 0 : alone.ok / alone.total,
    burstSuccess: during.total === 0 ? 0 : during.ok / during.total,
    victimCheckouts: during.total,
    burstAnswers,
  };
}

/**
 * The attacks that broke RetailFlow once, each with a measured goal: slow bodies from hundreds of connections
 * (another tenant's success and p99), abusive input (no 5xx), cancellations during in-flight charges (no charge
 * without its recorded payment), and a noisy neighbour (another tenant's checkouts unaffected).
 */
export async function attacks(service: ServiceProcess, opts: AttackOptions): Promise<AttackResult> {
  opts.log(`  slow-request attack: ${opts.slowConnections} slow connections for ${opts.victimSec ?? opts.phaseSec} s`);
  const slow = await slowAttack(service, opts);
  opts.log(
    `    other tenant: ${(slow.attackedSuccess * 100).toFixed(2)}% ok, p99 ${slow.attackedP99Ms.toFixed(1)} ms (unloaded ${slow.unloadedP99Ms.toFixed(1)} ms); attackers got ${JSON.stringify(slow.attackerAnswers)}`,
  );
  const abuse = await abusive(service);
  opts.log(`  abusive input: ${abuse.cases} cases, ${abuse.serverErrors} 5xx`);
  const cash = await money(service, opts);
  opts.log(
    `  cancel during in-flight charges: ${cash.checkouts} checkouts, ${cash.cancelAttempts} cancels (${cash.cancelRefused} refused), ${cash.charges} charges, ${cash.orphanCharges} without their order`,
  );
  const neighbour = await noisy(service, opts);
  opts.log(
    `  noisy neighbour: acme ${(neighbour.unloadedSuccess * 100).toFixed(2)}% alone, ${(neighbour.burstSuccess * 100).toFixed(2)}% during globex's burst ${JSON.stringify(neighbour.burstAnswers)}`,
  );
  const p99Goal = 2 * slow.unloadedP99Ms;
  return {
    slow,
    abusive: abuse,
    money: cash,
    noisy: neighbour,
    goals: {
      slowAttackOtherTenantSuccess: { value: slow.attackedSuccess, goal: 0.99, met: slow.attackedSuccess >= 0.99 },
      slowAttackOtherTenantP99Ms: { value: slow.attackedP99Ms, goal: p99Goal, met: slow.attackedP99Ms <= p99Goal },
      abusiveInputNo5xx: { value: abuse.serverErrors, goal: 0, met: abuse.serverErrors === 0 },
      chargesWithoutRecordedPayment: { value: cash.orphanCharges, goal: 0, met: cash.orphanCharges === 0 },
      cancelledOrdersAnswered201: { value: cash.cancelledAnswered201, goal: 0, met: cash.cancelledAnswered201 === 0 },
      noisyNeighbourVictimSuccess: { value: neighbour.burstSuccess, goal: 0.99, met: neighbour.burstSuccess >= 0.99 },
    },
  };
}
