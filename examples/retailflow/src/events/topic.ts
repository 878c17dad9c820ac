/**
 * AMQP topic matching: `pattern` and `key` are dot-separated words; `*` matches exactly one word, `#` zero or
 * more. Used by the in-process broker so it routes like a RabbitMQ topic exchange.
 *
 * @example
 * ```ts
 * topicMatches('order.*', 'order.confirmed'); // true
 * topicMatches('order.#', 'order'); // true
 * ```
 */
export function topicMatches(pattern: string, key: string): boolean {
  return match(pattern.split('.'), 0, key.split('.'), 0);
}

function match(p: readonly string[], i: number, k: readonly string[], j: number): boolean {
  if (i === p.length) return j === k.length;
  const word = p[i];
  if (word === '#') {
    for (let skip = j; skip <= k.length; skip++) if (match(p, i + 1, k, skip)) return true;
    return false;
  }
  if (j === k.length) return false;
  return (word === '*' || word === k[j]) && match(p, i + 1, k, j + 1);
}
