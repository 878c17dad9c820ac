const NAME = /^[A-Za-z_][\w.-]{0,63}$/;

/**
 * The `error_type` label for a thrown value: a Node error code (`ECONNREFUSED`) found on the error or its `cause`,
 * else the error's class name (`TypeError`), else `_OTHER`. Still passed through the cardinality guard.
 */
export function errorTypeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '_OTHER';
  const cause = (error as { cause?: unknown }).cause;
  const code =
    (error as { code?: unknown }).code ??
    (typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined);
  if (typeof code === 'string' && NAME.test(code)) return code;
  const name = (error as { name?: unknown }).name;
  if (typeof name === 'string' && NAME.test(name)) return name;
  return '_OTHER';
}
