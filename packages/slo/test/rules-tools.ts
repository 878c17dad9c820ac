import { spawnSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Whether a command-line tool these suites need is installed (Debian's `prometheus` package ships promtool). */
export function tool(name: string, versionArgs: string[] = ['--version']): { skip: boolean; reason: string } {
  const probe = spawnSync(name, versionArgs, { encoding: 'utf8' });
  const available = probe.error === undefined && probe.status === 0;
  const reason = available ? '' : `${name} is not installed (apt-get install prometheus)`;
  if (!available && process.env.BALLAST_REQUIRE_SERVICES !== '1') {
    console.warn(`[ballast] skipping suites that need ${name}: ${reason}`);
  }
  // Under BALLAST_REQUIRE_SERVICES=1 the suite runs and fails on the missing tool instead of skipping.
  return { skip: !available && process.env.BALLAST_REQUIRE_SERVICES !== '1', reason };
}

/** Runs promtool; resolves with its exit code and output, never rejects on a non-zero exit. */
export async function promtool(args: string[], cwd?: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code === 'string') throw new Error(`promtool could not run: ${e.code}`);
    return { code: e.code ?? 1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}
