import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { affinity, Pinning } from '../proof/pinning.js';

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
