import {
  engineReport,
  loadSlos,
  renderHtmlReport,
  renderMarkdownReport,
  type ReportEvent,
} from '@ballast/slo';

/**
 * Renders the shop's SLO report from events replayed into the engine: one HTML page and its Markdown twin.
 * `events` are counts per SLO and time, for example one line per SLO per minute from your request logs.
 */
export async function shopReport(specFile: string, events: readonly ReportEvent[]) {
  const slos = await loadSlos([specFile]);
  const report = engineReport(slos, events, { title: 'Shop: service level objectives' });
  return { html: renderHtmlReport(report), markdown: renderMarkdownReport(report) };
}
