import { defineSlo, type Slo } from '@ballast/slo';

/** The checkout SLOs, written with the typed API instead of YAML: the same model comes out. */
export const checkoutSlos: Slo[] = [
  defineSlo({
    service: 'checkout',
    name: 'checkout-availability',
    displayName: 'Checkout availability',
    objective: 0.999,
    window: '30d',
    indicator: {
      bad: 'http_requests_total{job="checkout",code=~"5.."}',
      total: 'http_requests_total{job="checkout"}',
    },
    alerting: {
      minEvents: 50,
      conditions: [
        { name: 'fast-burn', severity: 'page', burnRate: 14.4, longWindow: '1h', shortWindow: '5m' },
        { name: 'slow-burn', severity: 'ticket', burnRate: 3, longWindow: '1d', shortWindow: '2h' },
      ],
    },
    labels: { team: 'payments' },
  }),
  defineSlo({
    service: 'checkout',
    name: 'checkout-latency',
    objective: 0.99,
    window: { calendar: 'month', timeZone: 'Europe/Berlin' },
    indicator: { latency: { histogram: 'http_request_duration_seconds{job="checkout"}', threshold: 0.3 } },
    // No conditions: the Workbook's four, scaled to the period (page 14.4x 1h/5m and 6x 6h/30m, ...).
  }),
];
