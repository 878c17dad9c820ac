import { systemClock, type Clock } from '@ballast/core';
import { loadSlos, SloEngine, type SloAlertEvent } from '@ballast/slo';

/** Loads the specs, starts an engine, and logs every alert that starts or stops firing. */
export async function startSloEngine(specDir: string, clock: Clock = systemClock) {
  const slos = await loadSlos(['slos/checkout.yaml'], specDir); // throws SpecValidationError with every error
  const engine = new SloEngine({ slos, clock, timestampResolutionMs: 1000 });
  const alerts: SloAlertEvent[] = [];
  engine.onAlert((alert) => {
    alerts.push(alert);
    console.log(`${alert.slo} ${alert.alert} (${alert.severity}) ${alert.firing ? 'FIRING' : 'resolved'}`);
  });

  /** Call once per request (for example from HTTP middleware). */
  function recordRequest(status: number, seconds: number): void {
    engine.recordEvent('checkout-availability', status < 500);
    engine.recordLatency('checkout-latency', seconds);
  }

  return { engine, alerts, recordRequest };
}
