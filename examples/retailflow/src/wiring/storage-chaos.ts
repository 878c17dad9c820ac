import type { Repository } from '../data/index.js';

/** Store methods the chaos switch leaves alone: probes and lifecycle must keep telling the truth. */
const EXEMPT = new Set<string | symbol>(['health', 'close', 'kind']);

/**
 * The store behind the storage chaos switch: every asynchronous method call runs through `chaos` (injected
 * latency and errors, when `/admin/chaos` turns them on), except `health` and `close`.
 */
export function withStorageChaos(
  repo: Repository,
  chaos: <T>(work: () => Promise<T>) => Promise<T>,
): Repository {
  return new Proxy(repo, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || EXEMPT.has(property)) return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => chaos(() => Promise.resolve(method.apply(target, args)));
    },
  });
}
