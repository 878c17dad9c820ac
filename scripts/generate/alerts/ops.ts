/**
 * The RetailFlow ops commands runbooks show. Runbooks use two shell variables the on-call engineer sets once:
 * `RETAILFLOW` (the service's base URL) and `ADMIN_KEY` (the key `/admin/*` routes take).
 */

/** The line every runbook's Diagnosis starts its shell block with. */
export const OPS_ENV =
  'export RETAILFLOW=http://127.0.0.1:3000 ADMIN_KEY=rf_admin_dev_key  # your instance and key';

/** Readiness with the state of each dependency. */
export const READINESS = 'curl -s "$RETAILFLOW/readyz"';

/** Chaos settings in force (an injected fault looks exactly like a real outage). */
export const CHAOS_STATUS = 'curl -s -H "Authorization: Bearer $ADMIN_KEY" "$RETAILFLOW/admin/chaos"';

/** Switches a chaos target off. */
export function chaosOff(target: 'payments' | 'storage'): string {
  return `curl -s -X POST -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' -d '{"target":"${target}","enabled":false}' "$RETAILFLOW/admin/chaos"`;
}

/** The scrape, filtered to some metric families. */
export function metrics(pattern: string): string {
  return `curl -s "$RETAILFLOW/metrics" | grep -E '^(${pattern})'`;
}

/** Labels every promtool test series carries. */
export const TEST_TARGET = 'job="retailflow",instance="127.0.0.1:3000"';

/** The same labels as an object (what the firing alert carries). */
export const TEST_LABELS = { job: 'retailflow', instance: '127.0.0.1:3000' } as const;

/** How to switch off chaos, as a mitigation step. */
export const CHAOS_OFF_STEP =
  'Rule out an experiment first: `GET /admin/chaos` shows what is injected. If a fault is on, switch it off with `POST /admin/chaos` (`{"target":"payments","enabled":false}`, same for `storage`); the change is audited.';
