import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/command.js';
import { main } from '../src/cli/main.js';
import { shopEvents } from './report-events.js';

const pkg = join(import.meta.dirname, '..');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: pkg, now: () => 0 };
  return { code: await main(args, io), stdout, stderr };
}

describe('ballast-slo report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-report-cli-'));
  const events = join(dir, 'events.jsonl');
  writeFileSync(
    events,
    shopEvents(3)
      .map((e) => JSON.stringify({ t: new Date(e.at).toISOString(), slo: e.slo, good: e.good, bad: e.bad }))
      .join('\n'),
  );

  it('renders HTML from an events file by default, Markdown with --format md', async () => {
    const html = await cli([
      'report',
      'examples/shop',
      '--events',
      events,
      '-o',
      join(dir, 'r.html'),
      '--title',
      'Shop',
    ]);
    expect(html).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toMatch(/^<!doctype html>[\s\S]*<h1>Shop<\/h1>/);
    const md = await cli([
      'report',
      'examples/shop',
      '--events',
      events,
      '--format',
      'md',
      '--at',
      '2026-11-04T12:00:00Z',
    ]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('Status at 2026-11-04 12:00 UTC');
    expect(md.stdout).toMatch(/\| Checkout availability \| shop \| 99\.9% \| 30d \|/);
  });

  it('exits 1 when Prometheus cannot be reached', async () => {
    const r = await cli(['report', 'examples/shop', '--prometheus', 'http://127.0.0.1:9/']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Prometheus at http:\/\/127\.0\.0\.1:9 did not answer/);
  });

  it('exits 1 on a bad events file and 2 on usage errors', async () => {
    writeFileSync(join(dir, 'bad.jsonl'), '{"t": "yesterday", "slo": "checkout-availability"}\n');
    const bad = await cli(['report', 'examples/shop', '--events', join(dir, 'bad.jsonl')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.jsonl:1:1: t: expected an ISO 8601 time/);
    for (const args of [
      ['report', 'examples/shop'],
      ['report', 'examples/shop', '--events', events, '--prometheus', 'http://x:9090'],
      ['report', 'examples/shop', '--events', events, '--format', 'pdf'],
      ['report', 'examples/shop', '--events', events, '--at', 'soon'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
