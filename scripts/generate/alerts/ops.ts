/**
 * The RetailFlow ops commands runbooks show. Runbooks use shell variables the on-call engineer sets once:
 * `RETAILFLOW` (the public listener, for `/readyz`), `RETAILFLOW_OPS` (the ops listener: `/metrics`, `/admin/*`,
 * loopback on the instance), `OPS_TOKEN` (for `/metrics`) and `ADMIN_KEY` (for `/admin/*`).
 */

/** The line every runbook's Diagnosis starts its shell block with. */
export const OPS_ENV =
  'export RETAILFLOW=http://127.0.0.1:3000 RETAILFLOW_OPS=http://127.0.0.1:3002 OPS_TOKEN=rf_ops_dev_token ADMIN_KEY=rf_admin_dev_key  # your instance (the ops listener is loopback: run these on it) and its secrets';

/** Readiness with the state of each dependency. */
export const READINESS = 'curl -s "$RETAILFLOW/readyz"';

/** Chaos settings in force (an injected fault looks exactly like a real outage). */
export const CHAOS_STATUS = 'curl -s -H "Authorization: Bearer $ADMIN_KEY" "$RETAILFLOW_OPS/admin/chaos"';

/** Switches a chaos target off. */
export function chaosOff(target: 'payments' | 'storage'): string {
  return `curl -s -X POST -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' -d '{"target":"${target}","enabled":false}' "$RETAILFLOW_OPS/admin/chaos"`;
}

/** The scrape, filtered to some metric families. */
export function metrics(pattern: string): string {
  return `curl -s -H "Authorization: Bearer $OPS_TOKEN" "$RETAILFLOW_OPS/metrics" | grep -E '^(${pattern})'`;
}

/** Labels every promtool test series carries. */
export const TEST_TARGET = 'job="retailflow",instance="127.0.0.1:3000"';

/** The same labels as an object (what the firing alert carries). */
export const TEST_LABELS = { job: 'retailflow', instance: '127.0.0.1:3000' } as const;

/** How to switch off chaos, as a mitigation step. */
export const CHAOS_OFF_STEP =
  'Rule out an experiment first: `GET /admin/chaos` shows what is injected. If a fault is on, switch it off with `POST /admin/chaos` (`{"target":"payments","enabled":false}`, same for `storage`); the change is audited.';
