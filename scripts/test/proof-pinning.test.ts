import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { testService } from '@ballast/testkit/vitest';
import { affinity, brokerPid, isLoopback, Pinning, redisPid } from '../proof/pinning.js';

// The overload proof pins the service, the load generator and PostgreSQL's postmaster with taskset; whatever it
// changes must be put back, PostgreSQL being shared with everything else on the machine.

const canPin = await Pinning.available(os.cpus().length);

describe.skipIf(!canPin)('Pinning', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  it('pins a process and the processes it forks afterwards, and puts every affinity back', async () => {
    // A shell that forks a child when told to: stands in for a postmaster forking backends.
    const parent = spawn('sh', ['-c', 'read line; sleep 30 & echo $!; wait'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    children.push(parent);
    const before = await affinity(parent.pid!);
    expect(before).toBeDefined();
    const pinning = new Pinning();
    await pinning.pin(parent.pid!, '0', 'parent');
    expect(await affinity(parent.pid!)).toBe('1');
    const forked = await new Promise<number>((resolve) => {
      parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      parent.stdin.write('go\n');
    });
    expect(await affinity(forked)).toBe('1'); // inherited
    expect(pinning.notes).toEqual([`parent (pid ${parent.pid}) on CPU 0`]);
    await pinning.release();
    expect(await affinity(parent.pid!)).toBe(before);
    expect(await affinity(forked)).toBe(before);
    process.kill(forked, 'SIGKILL');
  });
});

// Redis and RabbitMQ are pinned with PostgreSQL when they run on this machine: found by their process ids.
const redis = testService('redis');
const rabbitmq = testService('rabbitmq');
const comm = async (pid: number | undefined) =>
  pid === undefined ? undefined : (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();

describe.skipIf(redis.skip || !isLoopback(redis.url))('the local Redis, pinned beside PostgreSQL', () => {
  it('is found by INFO server; a remote one is not looked for', async () => {
    expect(await comm(await redisPid(redis.url))).toBe('redis-server');
    expect(await redisPid('redis://redis.example.invalid:6379')).toBeUndefined();
  });
});

describe.skipIf(rabbitmq.skip || !isLoopback(rabbitmq.url))(
  'the local RabbitMQ, pinned beside PostgreSQL',
  () => {
    it("is found as its node's Erlang VM; a remote broker is not looked for", async () => {
      expect(await comm(await brokerPid(rabbitmq.url))).toBe('beam.smp');
      expect(await brokerPid('amqp://guest:guest@broker.example.invalid:5672')).toBeUndefined();
    });
  },
);
