import { CHAOS_STATUS, OPS_ENV, READINESS, chaosOff, metrics } from '../alerts/ops.js';
import { GENERATED_NOTE, type DashboardRef } from './render.js';

/** One line of the runbook index. */
export interface IndexEntry {
  readonly name: string;
  readonly severity: string;
  readonly summary: string;
  /** Where the rule is defined (the rule file under `examples/retailflow/prometheus/`). */
  readonly ruleFile: string;
}

/** `runbooks/README.md`: the index of every runbook and the process documents. */
export function renderIndex(entries: readonly IndexEntry[], dashboards: readonly DashboardRef[]): string {
  const rows = [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map(
      (e) =>
        `| [${e.name}](${e.name}.md) | \`${e.severity}\` | ${e.summary.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, '`<$1>`').replace(/\|/g, '\\|')} | \`${e.ruleFile}\` |`,
    );
  return [
    GENERATED_NOTE,
    '# Runbooks',
    '',
    'One page per alert: what it means, what users feel, how to diagnose it (PromQL, the dashboard panel, the',
    'curl against RetailFlow\'s ops endpoints) and how to mitigate it with Ballast\'s levers. Every alert\'s',
    '`runbook_url` points here, and a test fails when an alert has no page or a page has no alert.',
    '',
    '## Alerts',
    '',
    '| alert | severity | summary | rule file |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    'Severities: `critical` and `page` wake someone up; `warning` and `ticket` are handled in working hours.',
    '',
    '## Process',
    '',
    '- [Incident response](incident-response.md): detect → triage → mitigate → resolve → postmortem, roles, comms.',
    '- [Postmortem template](postmortem-template.md) (blameless).',
    '- [On-call handoff checklist](oncall-handoff.md).',
    '',
    '## Dashboards',
    '',
    ...dashboards.map((d) => `- **${d.title}**: [\`dashboards/${d.file}\`](../dashboards/${d.file}) (uid \`${d.uid}\`)`),
    '',
    'Import them into Grafana 10 or later; pick the Prometheus data source, then `job` and `instance`.',
    '',
  ].join('\n');
}

/** `runbooks/incident-response.md`. */
export function renderIncidentResponse(): string {
  return `${GENERATED_NOTE}
# Incident response

An incident is any unplanned event that hurts users or puts an SLO at risk. This is how we run one, from the first
page to the postmortem. Speed of mitigation beats speed of diagnosis: stop the bleeding first, understand later.

## Roles

| role | who | does |
| --- | --- | --- |
| Incident commander (IC) | the on-call engineer who got the page, until they hand it over | owns the incident: decides, delegates, keeps the timeline moving; does not debug |
| Operations lead | an engineer the IC names | investigates and applies mitigations; says what they will do before doing it |
| Communications lead | the IC on small incidents, someone else on large ones | posts status updates inside and outside on a fixed cadence |
| Scribe | anyone | keeps the timeline: every action, every finding, with UTC timestamps |

One person may hold several roles on a small incident; on a large one (more than one team, or customer-visible for
more than 30 minutes) the IC hands off debugging and keeps only command.

## 1. Detect

- An alert pages (\`critical\` or an SLO \`page\` burn-rate alert), a customer reports, or someone notices.
- Acknowledge the page within 5 minutes. Open the alert's runbook (its \`runbook_url\`) and the dashboard panel it names.
- Open an incident channel \`#inc-<date>-<short-name>\` and post the alert, the time, and "I am IC".

## 2. Triage

- What do users feel? Check the SLO overview dashboard and \`GET /api/v1/slo\`: which SLOs burn, and how fast.
- Set the severity:

  | severity | when | comms |
  | --- | --- | --- |
  | SEV1 | checkout down or data at risk, for everyone | status page now, updates every 15 min, wake the engineering manager |
  | SEV2 | a feature or a group of tenants degraded, SLO burning at page rate | status page if customers notice, updates every 30 min |
  | SEV3 | degraded with no user impact yet (ticket-rate burn, DLQ not empty) | incident channel only |

- Ask "what changed?": deploys, flag changes, config, chaos experiments, traffic from one tenant.

  \`\`\`sh
  ${OPS_ENV}
  ${READINESS}
  ${CHAOS_STATUS}
  ${metrics('ballast_circuit_breaker_state|ballast_load_shed_total')}
  \`\`\`

## 3. Mitigate

Pick the most reversible lever that stops user pain, say it in the channel, apply it, and watch the dashboard:

- **Switch chaos off** if an experiment is running (it looks exactly like an outage):

  \`\`\`sh
  ${chaosOff('payments')}
  ${chaosOff('storage')}
  \`\`\`

- **Roll back** the last deploy or flag change.
- **Isolate a breaker** in front of a dependency that is down, so calls fail fast (and fallbacks serve) instead of
  piling up: \`isolate()\` on its \`CircuitBreakerPolicy\` (RetailFlow: \`policies.paymentBreaker\`); \`reset()\`
  releases it when the dependency is back.
- **Change a shed priority**: make non-essential routes \`sheddable\` so the load shedder keeps room for checkout
  (RetailFlow: \`classify()\` in \`examples/retailflow/src/http/priority.ts\`).
- **Lower one tenant's rate limit** when one tenant's traffic drives the overload.
- **Scale out**; each instance's adaptive limiter finds its own limit.

## 4. Resolve

- The incident is resolved when the SLIs are back within objective and the alert cleared, not when the fix is merged.
- Undo temporary levers deliberately (release isolated breakers, restore priorities and limits) and watch for 15
  minutes after each.
- Post the final status update; note the end time and the error budget the incident spent (SLO detail dashboard).

## 5. Postmortem

- Every SEV1 and SEV2, and any incident that spent more than 20% of an SLO's error budget, gets a postmortem within
  five working days, written from [the template](postmortem-template.md). It is blameless: it asks how the system
  let a reasonable action cause harm, never who.
- Action items get an owner and a ticket; the IC follows them up.

## Comms

- Internal: the incident channel is the single source of truth; decisions are written there, not only said on a call.
- External: the communications lead posts on the status page: what users see, what we are doing, when the next
  update comes. No speculation about causes while the incident is open.
- Hand over explicitly ("you are IC now") when a shift ends; use the [handoff checklist](oncall-handoff.md).
`;
}

/** `runbooks/postmortem-template.md`. */
export function renderPostmortemTemplate(): string {
  return `${GENERATED_NOTE}
# Postmortem: <title>

> Blameless: this document describes how the system, the tools and the process let the incident happen and how we
> responded. It names roles, not people to blame; everyone acted reasonably with what they knew at the time.

| | |
| --- | --- |
| Date (UTC) | <yyyy-mm-dd> |
| Severity | SEV<n> |
| Duration | <start> to <end> (<minutes> min) |
| Incident commander | <role/name> |
| Authors | <names> |
| Status | draft / reviewed / action items done |

## Summary

Two or three sentences: what happened, what users saw, how it was fixed.

## Impact

- Users and tenants affected, requests failed (from the RED dashboard), orders delayed.
- Error budget spent per SLO (SLO detail dashboard: budget before and after).
- Alerts that fired, and when.

## Timeline (UTC)

| time | event |
| --- | --- |
| hh:mm | trigger (deploy, dependency failure, traffic change) |
| hh:mm | first alert fired: <alert> |
| hh:mm | acknowledged; IC: <role> |
| hh:mm | mitigation applied: <lever> |
| hh:mm | SLIs back within objective |
| hh:mm | resolved |

## Root causes and trigger

What made the system vulnerable (causes, usually several) and what set it off (the trigger). Ask "how did this
make sense at the time?" and "what made this possible?" rather than "who did this?".

## Detection

How we found out. Did the right alert fire early enough? Was the runbook right? Would a different burn-rate
window or threshold have paged sooner without more noise?

## Response and recovery

What we did and how long each step took. Which Ballast levers were used (chaos off, isolated breaker, shed
priority, rate limit) and whether they worked as expected.

## What went well

## What went poorly

## Where we got lucky

## Action items

| action | type (prevent / detect / mitigate / process) | owner | priority | ticket |
| --- | --- | --- | --- | --- |
| | | | | |

## Lessons

What another team could learn from this.
`;
}

/** `runbooks/oncall-handoff.md`. */
export function renderHandoffChecklist(dashboards: readonly DashboardRef[]): string {
  const slo = dashboards.find((d) => d.uid === 'ballast-slo-overview');
  return `${GENERATED_NOTE}
# On-call handoff checklist

Go through this with the next on-call engineer at every shift change, in writing (the on-call channel), so nothing
lives only in one person's head.

## Outgoing engineer

- [ ] **Open incidents:** for each, its channel, the IC, the current state and the next step. Hand IC over explicitly.
- [ ] **Alerts this shift:** every alert that fired, whether it was actionable, and the ticket for any that was noise.
- [ ] **Silences:** every active Alertmanager silence, why, and when it expires (none should outlive its reason).
- [ ] **Error budgets:** budget left per SLO${slo ? ` (${slo.title} dashboard, [\`dashboards/${slo.file}\`](../dashboards/${slo.file}))` : ''}; any SLO under 25% of its budget.
- [ ] **Levers still pulled:** isolated breakers, changed shed priorities, lowered tenant limits, chaos switches on.
      Each one needs an owner and an end.
- [ ] **Changes in flight:** deploys, migrations, flag rollouts and experiments scheduled for the next shift.
- [ ] **Follow-ups:** postmortems owed, action items due, tickets opened during the shift.

## Incoming engineer

- [ ] Paging works: send yourself a test page.
- [ ] You can reach the dashboards, Prometheus and the ops endpoints:

  \`\`\`sh
  ${OPS_ENV}
  ${READINESS}
  curl -s -H "Authorization: Bearer $OPS_TOKEN" "$RETAILFLOW_OPS/api/v1/slo"
  ${CHAOS_STATUS}
  \`\`\`

- [ ] You know the escalation path (secondary on-call, engineering manager, the owners of the payment provider and
      the database).
- [ ] You have read the runbooks of every alert that fired last shift ([index](README.md)).
`;
}
