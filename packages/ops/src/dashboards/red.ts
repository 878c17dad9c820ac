import type { DashboardSpec } from '../grafana/spec.js';
import { quantile, rate, sel, sumBy } from './query.js';

const SERVER = 'http_server_request_duration_seconds';
const CLIENT = 'http_client_request_duration_seconds';
const SERVER_ERRORS = 'http_response_status_code=~"5.."';
const CLIENT_ERRORS = 'error_type!=""';

/** RED service overview: rate, errors and duration of inbound requests per route and outbound calls per dependency. */
export const redDashboard: DashboardSpec = {
  uid: 'ballast-red',
  title: 'Ballast / RED service overview',
  description:
    'Rate, errors and duration of every route the service serves and every dependency it calls (OpenTelemetry HTTP semantic conventions).',
  tags: ['ballast', 'red'],
  jobMetric: `${SERVER}_count`,
  rows: [
    {
      title: 'Inbound requests',
      panels: [
        {
          title: 'Request rate by route',
          description: 'Requests per second served, per matched route template.',
          unit: 'reqps',
          queries: [{ expr: sumBy('http_route', rate(`${SERVER}_count`)), legend: '{{http_route}}' }],
        },
        {
          title: 'Error ratio by route (5xx)',
          description: 'Share of requests answered with a 5xx status, per route.',
          unit: 'percentunit',
          min: 0,
          queries: [
            {
              expr: `${sumBy('http_route', rate(`${SERVER}_count`, SERVER_ERRORS))} / ${sumBy('http_route', rate(`${SERVER}_count`))}`,
              legend: '{{http_route}}',
            },
          ],
        },
        {
          title: 'Latency p50 / p99 by route',
          description:
            'Request duration quantiles estimated from the histogram, per route. The dots are exemplars: sampled requests with their trace id, a link from a spike to its trace and, through the trace id, to its log lines.',
          unit: 's',
          queries: [
            { expr: quantile(0.5, SERVER, 'http_route'), legend: 'p50 {{http_route}}' },
            { expr: quantile(0.99, SERVER, 'http_route'), legend: 'p99 {{http_route}}', exemplar: true },
          ],
        },
        {
          title: 'Responses by status code',
          description: 'Requests per second by HTTP status code.',
          unit: 'reqps',
          queries: [
            { expr: sumBy('http_response_status_code', rate(`${SERVER}_count`)), legend: '{{http_response_status_code}}' },
          ],
        },
        {
          title: 'Requests in flight',
          description: 'Inbound requests being served right now.',
          unit: 'short',
          queries: [{ expr: sumBy('instance', sel('http_server_active_requests')), legend: '{{instance}}' }],
        },
        {
          title: 'Mean latency by route',
          description: 'Mean request duration per route (sum of durations over count).',
          unit: 's',
          queries: [
            {
              expr: `${sumBy('http_route', rate(`${SERVER}_sum`))} / ${sumBy('http_route', rate(`${SERVER}_count`))}`,
              legend: '{{http_route}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Outbound dependencies',
      panels: [
        {
          title: 'Outbound call rate by dependency',
          description: 'Calls per second to each dependency (bounded `server_address`).',
          unit: 'reqps',
          width: 8,
          queries: [{ expr: sumBy('server_address', rate(`${CLIENT}_count`)), legend: '{{server_address}}' }],
        },
        {
          title: 'Outbound error ratio by dependency',
          description: 'Share of outbound calls that ended with an error type (network error, timeout, 5xx).',
          unit: 'percentunit',
          width: 8,
          min: 0,
          queries: [
            {
              expr: `${sumBy('server_address', rate(`${CLIENT}_count`, CLIENT_ERRORS))} / ${sumBy('server_address', rate(`${CLIENT}_count`))}`,
              legend: '{{server_address}}',
            },
          ],
        },
        {
          title: 'Outbound latency p99 by dependency',
          description: 'p99 duration of outbound calls, per dependency.',
          unit: 's',
          width: 8,
          queries: [{ expr: quantile(0.99, CLIENT, 'server_address'), legend: '{{server_address}}' }],
        },
      ],
    },
  ],
};
