/** Child process for the HTTP benchmark: serves one variant on an ephemeral port and reports it over IPC. */
import type { AddressInfo } from 'node:net';
import { type Variant, buildApp } from './apps.js';

const variant = process.argv[2] as Variant;
const server = buildApp(variant).listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
// The parent asks for this process's CPU time before and after each load, to get CPU time per request.
process.on('message', (message: unknown) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuMicros: user + system });
  }
});
process.on('disconnect', () => server.close(() => process.exit(0)));
