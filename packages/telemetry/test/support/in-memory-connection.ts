import type { Server } from 'node:http';
import { Duplex } from 'node:stream';

/**
 * A connection to a real `http.Server` without TCP: the server gets a Duplex through its own `connection` event
 * and parses the raw HTTP/1.1 we push, so requests take the full node:http and express path, minus the kernel.
 */
export class InMemoryConnection extends Duplex {
  #responses = 0;
  #waiters: { count: number; resolve: () => void }[] = [];
  #tail = '';

  constructor(server: Server) {
    super();
    server.emit('connection', this);
  }

  // Socket methods node:http calls.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  get remoteAddress(): string {
    return '127.0.0.1';
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = this.#tail + chunk.toString('latin1');
    let index = text.indexOf('HTTP/1.1 ');
    while (index !== -1) {
      this.#responses++;
      index = text.indexOf('HTTP/1.1 ', index + 9);
    }
    this.#tail = text.slice(-8);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#responses < w.count) return true;
      w.resolve();
      return false;
    });
    callback();
  }

  /** Sends raw requests (pipelined) and resolves when `expected` responses in total have started. */
  send(raw: string, expected: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push({ count: expected, resolve });
      this.push(raw, 'latin1');
    });
  }
}
