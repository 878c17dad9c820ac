import type { SloReport } from './model.js';
import { formatTime, rowCells } from './format.js';

/**
 * Escapes text for inline Markdown (table cells, headings, list items): HTML becomes entities and the characters
 * that start emphasis, code, links, tables or strikethrough are backslashed; newlines become spaces.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, ' ');
}

/** Like {@link escapeMarkdown}, for a paragraph: a leading `#`, `-`, `+` or `1.` would start a block. */
export function escapeMarkdownBlock(text: string): string {
  return escapeMarkdown(text).replace(/^(\s*)(#|[-+]|\d+(?=\.))/, (_, space: string, mark: string) =>
    /^\d/.test(mark) ? `${space}${mark}\\` : `${space}\\${mark}`,
  );
}

const POLICY = { ok: '🟢 healthy', warning: '🟠 at risk', exhausted: '🔴 budget spent' } as const;

/**
 * Renders a report as Markdown: a table of SLOs (objective, period, SLI, budget left, burn rate, time to
 * exhaustion, alerts, status) and one section per SLO listing the alerts of the period. Every string from a spec
 * is escaped, HTML included.
 *
 * @example
 * ```ts
 * import { engineReport, renderMarkdownReport } from '@ballast/slo';
 * process.stdout.write(renderMarkdownReport(engineReport(slos, events, { title: 'Shop SLOs' })));
 * ```
 */
export function renderMarkdownReport(report: SloReport): string {
  const lines = [
    `# ${escapeMarkdown(report.title)}`,
    '',
    `Status at ${formatTime(report.at)}, from ${escapeMarkdown(report.source)}.`,
    '',
    '| SLO | Service | Objective | Period | SLI | Budget left | Burn rate | Budget lasts | Alerts in period | Status |',
    '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const { slo, status, alerts } of report.entries) {
    const c = rowCells(status, alerts);
    lines.push(
      `| ${[
        escapeMarkdown(slo.displayName),
        escapeMarkdown(slo.service),
        c.objective,
        escapeMarkdown(c.window!),
        c.sli,
        c.budget,
        escapeMarkdown(c.burn!),
        c.exhaustion,
        c.alerts,
        POLICY[status.policy],
      ].join(' | ')} |`,
    );
  }
  for (const { slo, status, alerts } of report.entries) {
    lines.push('', `## ${escapeMarkdown(slo.displayName)}`, '');
    if (slo.description !== '') lines.push(escapeMarkdownBlock(slo.description), '');
    lines.push(
      `Period ${formatTime(status.period.start)} to ${formatTime(status.period.end)}: ` +
        `${status.events.good} good and ${status.events.bad} bad events.`,
      '',
    );
    if (alerts.length === 0) lines.push('No alert fired in this period.');
    for (const a of alerts) {
      lines.push(
        `- **${a.severity}** ${formatTime(a.start)} to ${a.end === null ? 'still firing' : formatTime(a.end)}: ` +
          `${escapeMarkdown(a.name)} (${a.conditions.map(escapeMarkdown).join(', ')})`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
