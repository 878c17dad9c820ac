// HAProxy in front of a RetailFlow fleet: the configuration, written from the fleet's slots, and a client of the
// runtime API (the admin socket) that moves traffic between servers while HAProxy keeps running.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

/** One server slot of the backend. A slot exists from the start; its state says whether it takes traffic. */
export interface HaproxyServer {
  readonly name: string;
  readonly port: number;
  /** Relative share of new requests, 0–256. */
  readonly weight: number;
  /** `maint` until its instance runs. */
  readonly state: 'ready' | 'maint';
}

/** What {@link haproxyConfig} writes. */
export interface HaproxyOptions {
  readonly frontendPort: number;
  readonly socketPath: string;
  readonly servers: readonly HaproxyServer[];
  /** Health-check interval (`inter`); a server is down after three failed checks in a row, up after two good. */
  readonly checkIntervalMs: number;
}

/** The name of the one backend: runtime commands address `retailflow/<server>`. */
export const BACKEND = 'retailflow';

/**
 * HAProxy's configuration for the fleet: one frontend, one backend checked on `/readyz`, and retries of requests
 * that never reached a server (`retry-on conn-failure`, safe for a POST) on another server, so a server that stops
 * listening between two checks costs a retry, not a failed request.
 */
export function haproxyConfig(o: HaproxyOptions): string {
  return [
    'global',
    `  stats socket ${o.socketPath} mode 600 level admin`,
    '  maxconn 4096',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 30s',
    '  timeout server 30s',
    // Longer than any client's idle keep-alive (the drills' undici pool closes idle sockets after 1 s), so HAProxy
    // never closes a connection a client is sending on.
    '  timeout http-keep-alive 10s',
    // A check answers within this, whatever `inter` is: a busy instance's /readyz is slow before it is wrong.
    '  timeout check 3s',
    '  option redispatch',
    '  retries 3',
    '  retry-on conn-failure empty-response',
    '',
    'frontend api',
    `  bind 127.0.0.1:${o.frontendPort}`,
    `  default_backend ${BACKEND}`,
    '',
    `backend ${BACKEND}`,
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    // Close the server side after each answer: a server being drained gets no new request on an old connection.
    '  option http-server-close',
    // The client's address for the instances (their TRUSTED_PROXIES lists this HAProxy): without it, every client
    // shares HAProxy's address, and one client's wrong credentials spend everyone's failure budget.
    '  option forwardfor',
    // Which server answered: the drills attribute each answer to the version that served it.
    '  http-response set-header x-served-by %s',
    `  default-server inter ${o.checkIntervalMs}ms fall 3 rise 2`,
    ...o.servers.map(
      (s) =>
        `  server ${s.name} 127.0.0.1:${s.port} check weight ${s.weight}${s.state === 'maint' ? ' disabled' : ''}`,
    ),
    '',
  ].join('\n');
}

/** One server's line of `show stat`, the fields the drills read. */
export interface ServerStat {
  readonly name: string;
  /** `UP`, `DOWN`, `MAINT`, `DRAIN`, `NOLB`... */
  readonly status: string;
  readonly weight: number;
  /** Sessions open now. */
  readonly current: number;
  /** Sessions since start. */
  readonly total: number;
}

/** The runtime API on HAProxy's admin socket: one command per connection, as HAProxy's non-interactive mode has it. */
export class HaproxyRuntime {
  constructor(readonly socketPath: string) {}

  /** Sends one command and answers HAProxy's reply; throws when HAProxy says the command failed. */
  async command(line: string): Promise<string> {
    const socket = net.connect(this.socketPath);
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (reply += chunk));
    await once(socket, 'connect');
    socket.end(`${line}\n`);
    await once(socket, 'close');
    if (/^(Unknown command|No such|Require|Invalid|'.*' only supports)/m.test(reply)) {
      throw new Error(`haproxy: ${line}: ${reply.trim()}`);
    }
    return reply;
  }

  /** Sets a server's weight (0 takes it out of the rotation, its open sessions finish). */
  async setWeight(server: string, weight: number): Promise<void> {
    await this.command(`set weight ${BACKEND}/${server} ${Math.round(weight)}`);
  }

  /** `ready` takes traffic, `drain` finishes what it has and takes nothing new, `maint` is out. */
  async setState(server: string, state: 'ready' | 'drain' | 'maint'): Promise<void> {
    await this.command(`set server ${BACKEND}/${server} state ${state}`);
  }

  /** Every server of the backend with its status, weight and sessions. */
  async servers(): Promise<ServerStat[]> {
    const csv = await this.command('show stat');
    const lines = csv.split('\n').filter((l) => l.trim() !== '');
    const header = lines[0]!.replace(/^# /, '').split(',');
    const col = (name: string) => header.indexOf(name);
    return lines
      .slice(1)
      .map((l) => l.split(','))
      .filter((f) => f[col('pxname')] === BACKEND && !['BACKEND', 'FRONTEND'].includes(f[col('svname')]!))
      .map((f) => ({
        name: f[col('svname')]!,
        status: f[col('status')]!,
        weight: Number(f[col('weight')]),
        current: Number(f[col('scur')]),
        total: Number(f[col('stot')]),
      }));
  }
}

/** A running HAProxy process. */
export interface HaproxyProcess {
  readonly child: ChildProcess;
  readonly runtime: HaproxyRuntime;
  stop(): Promise<void>;
  output(): string;
}

/** Starts `haproxy -f <config>` in the foreground and waits until its admin socket answers. */
export async function startHaproxy(configFile: string, socketPath: string): Promise<HaproxyProcess> {
  const child = spawn('haproxy', ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-10_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-10_000)));
  const runtime = new HaproxyRuntime(socketPath);
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${out}`);
    try {
      await runtime.command('show info');
      break;
    } catch {
      if (performance.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`haproxy's admin socket did not answer within 10 s:\n${out}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    child,
    runtime,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
