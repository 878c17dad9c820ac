import type http from 'node:http';

/**
 * Counts requests an HTTP server is handling (from `request` until the response closes), so shutdown can wait
 * for them to drain before closing connections.
 */
export class InFlightRequests {
  #count = 0;
  #waiters: (() => void)[] = [];

  constructor(server: http.Server) {
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      this.#count++;
      res.once('close', () => {
        this.#count--;
        if (this.#count === 0) for (const wake of this.#waiters.splice(0)) wake();
      });
    });
  }

  get count(): number {
    return this.#count;
  }

  /**
   * Resolves `true` once no request is in flight, or `false` when `timeoutMs` passes first. The timeout is wall
   * time on purpose: it bounds how long a process waits for sockets, whatever clock the cores run on.
   */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
