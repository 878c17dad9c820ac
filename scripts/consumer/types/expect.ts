/**
 * Exact type assertions for the consumer type tests. `Equal` is true only when both types are identical, so
 * `number | undefined` does not pass for `number`, and `exactly` refuses `any` whatever is expected.
 */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/**
 * `exactly<Expected>()(value)` compiles only when `value`'s type is exactly `Expected`; otherwise the error names
 * both types.
 *
 * @example
 * ```ts
 * exactly<number>()(await policy.execute(async () => 42));
 * ```
 */
export function exactly<Expected>() {
  return <Actual>(
    _value: 0 extends 1 & Actual
      ? never // `any` is assignable to every parameter type but `never`
      : Equal<Actual, Expected> extends true
        ? Actual
        : {
            readonly error: 'not exactly the expected type';
            readonly expected: Expected;
            readonly got: Actual;
          },
  ): void => undefined;
}
