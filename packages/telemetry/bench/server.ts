/** Child process for the HTTP benchmark: serves one variant on an ephemeral port and reports it over IPC. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Variant, buildApp, buildNodeHttpServer } from './apps.js';

const variant = process.argv[2] as Variant;
const server = variant === 'node-http' ? buildNodeHttpServer() : http.createServer(buildApp(variant));
server.listen(0, '127.0.0.1', () => {
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
