/**
 * What a generic alert needs to know about the service it is generated for: how runbooks fetch its metrics from a
 * shell, and the labels its promtool test series carry.
 */
export interface AlertContext {
  /** The shell command that prints the service's scrape, filtered to some metric families. */
  readonly metrics: (pattern: string) => string;
  /** Labels every promtool test series carries, in PromQL notation (`job="x",instance="h:p"`). */
  readonly TEST_TARGET: string;
  /** The same labels as an object (what the firing alert carries). */
  readonly TEST_LABELS: { readonly job: string; readonly instance: string };
}

/**
 * The {@link AlertContext} of a service scraped as `job` at `target`, whose base URL shell commands name `url`
 * (`$SERVICE_URL`); `metricsCommand` prints its `/metrics` when they are elsewhere or need a token.
 */
export function alertContext(
  job: string,
  target: string,
  url: string,
  metricsCommand = `curl -s "${url}/metrics"`,
): AlertContext {
  return {
    metrics: (pattern) => `${metricsCommand} | grep -E '^(${pattern})'`,
    TEST_TARGET: `job="${job}",instance="${target}"`,
    TEST_LABELS: { job, instance: target },
  };
}
