#!/usr/bin/env node
// The `ballast-slo` command. A file of its own rather than `dist/cli/main.js`, so that npm links the command when
// the repository installs, before its `prepare` step builds `dist/`: `npx ballast-slo` then works at the root.
import process from 'node:process';
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
