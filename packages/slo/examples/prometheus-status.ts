import { loadSlos, PrometheusBackend, prometheusReport, renderMarkdownReport } from '@ballast/slo';

/** Reads the SLOs' status from Prometheus (calendar periods included) and renders the Markdown report. */
export async function prometheusStatus(specFile: string, prometheusUrl: string) {
  const slos = await loadSlos([specFile]);
  const backend = new PrometheusBackend(slos, { url: prometheusUrl });
  const statuses = await backend.statusAll(); // the same SloStatus objects as the engine's
  const exhausted = statuses.filter((s) => s.policy === 'exhausted').map((s) => s.slo);
  const markdown = renderMarkdownReport(await prometheusReport(backend, { title: 'Shop SLOs' }));
  return { exhausted, markdown };
}
