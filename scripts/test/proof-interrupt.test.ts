import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { descendants, running as alive } from '../proof/interrupt.js';

// A proof interrupted by a signal sent to its process alone (a CI timeout, `kill <pid>`) must put the machine back:
// its sections' clean-ups run, and no process it started is left running.

const HERE = path.dirname(fileURLToPath(import.meta.url));
const INTERRUPT = path.resolve(HERE, '../proof/interrupt.ts');

describe.skipIf(process.platform !== 'linux')('an interrupted proof', () => {
  let dir: string | undefined;
  const started: number[] = [];
  afterEach(async () => {
    for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('runs the clean-ups newest first, stops the processes it started (grandchildren too), and exits 128 + signal', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ballast-interrupt-'));
    const script = path.join(dir, 'run.mts');
    const trail = path.join(dir, 'trail');
    // Stands in for a proof run: a fleet (a shell whose child ignores SIGTERM, as a stuck process would), two
    // sections holding something to give back, and an unregistered clean-up that must not run.
    await writeFile(
      script,
      `import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { handleInterrupts, onInterrupt } from ${JSON.stringify(INTERRUPT)};
handleInterrupts((line) => console.error(line), 5000);
onInterrupt('first', async () => appendFileSync(${JSON.stringify(trail)}, 'first\\n'));
const forget = onInterrupt('done already', async () => appendFileSync(${JSON.stringify(trail)}, 'forgotten\\n'));
forget();
onInterrupt('second', async () => appendFileSync(${JSON.stringify(trail)}, 'second\\n'));
const fleet = spawn('sh', ['-c', "trap '' TERM; sleep 300 & echo $!; wait"], { stdio: ['ignore', 'pipe', 'ignore'] });
fleet.stdout.once('data', (d) => console.log(JSON.stringify({ fleet: fleet.pid, grandchild: Number(String(d).trim()) })));
setInterval(() => undefined, 1000);
`,
    );
    const proof = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(proof.pid!);
    let stderr = '';
    proof.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [line] = (await once(proof.stdout, 'data')) as [Buffer];
    const { fleet, grandchild } = JSON.parse(line.toString()) as { fleet: number; grandchild: number };
    started.push(fleet, grandchild);
    expect(await descendants(proof.pid!)).toEqual(expect.arrayContaining([fleet, grandchild]));

    proof.kill('SIGTERM'); // the proof's process alone, not its group
    const [code] = (await once(proof, 'exit')) as [number | null];

    expect(code, stderr).toBe(143);
    expect(await readFile(trail, 'utf8')).toBe('second\nfirst\n');
    expect(alive(fleet)).toBe(false);
    expect(alive(grandchild)).toBe(false); // its shell ignored SIGTERM: killed after the grace period
    // The fleet's two, and whatever helpers the runner itself started (tsx's compiler service).
    expect(stderr).toMatch(/stopped [2-9] process\(es\)/);
  });

  it('cleans up when one Ctrl-C arrives twice (from the terminal and passed on by the runner) and a section fails meanwhile, and exits at a later second signal', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ballast-interrupt-'));
    const script = path.join(dir, 'run.mts');
    const trail = path.join(dir, 'trail');
    // A clean-up that takes 1.5 s: the echo arrives while it runs, the deliberate second signal after the echo
    // window, and the clean-up must have run to its end only in the first case.
    await writeFile(
      script,
      `import { appendFileSync } from 'node:fs';
import { handleInterrupts, onInterrupt } from ${JSON.stringify(INTERRUPT)};
handleInterrupts((line) => console.error(line), 5000, 1000);
onInterrupt('slow', async () => {
  appendFileSync(${JSON.stringify(trail)}, 'started\\n');
  await new Promise((r) => setTimeout(r, 1500));
  appendFileSync(${JSON.stringify(trail)}, 'finished\\n');
});
// A section whose service stopped with the group: its error surfaces while the clean-up runs.
process.once('SIGINT', () => setTimeout(() => { throw new Error('fetch failed'); }, 100));
console.log('ready');
setInterval(() => undefined, 1000);
`,
    );
    const run = async (gapMs: number) => {
      await rm(trail, { force: true });
      const proof = spawn(process.execPath, ['--import', 'tsx', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(proof.pid!);
      let stderr = '';
      proof.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await once(proof.stdout, 'data');
      const exited = once(proof, 'exit');
      proof.kill('SIGINT');
      await new Promise((r) => setTimeout(r, gapMs));
      proof.kill('SIGINT');
      const [code] = (await exited) as [number | null];
      return { code, stderr, trail: await readFile(trail, 'utf8').catch(() => '') };
    };

    const echoed = await run(20);
    expect(echoed.code, echoed.stderr).toBe(130);
    expect(echoed.trail).toBe('started\nfinished\n');
    expect(echoed.stderr).not.toMatch(/again/);
    expect(echoed.stderr).toMatch(/a section failed while interrupted: Error: fetch failed/);

    const twice = await run(1200);
    expect(twice.code, twice.stderr).toBe(130);
    expect(twice.trail).toBe('started\n');
    expect(twice.stderr).toMatch(/SIGINT again: exiting without cleaning up/);
  });

  it('finds no descendants of a process without children', async () => {
    const lone = spawn('sleep', ['30']);
    started.push(lone.pid!);
    expect(await descendants(lone.pid!)).toEqual([]);
  });
});
