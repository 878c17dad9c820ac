#!/usr/bin/env node
// The `ballast-ops` command. A file of its own rather than `dist/cli/main.js`, so that npm links the command when
// the repository installs, before its `prepare` step builds `dist/`: `npx ballast-ops` then works at the root.
import process from 'node:process';
import { runOpsCli } from '../dist/cli/main.js';

process.exitCode = await runOpsCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  cwd: process.cwd(),
});
