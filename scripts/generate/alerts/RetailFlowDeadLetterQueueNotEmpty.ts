import type { AlertSpec } from './alert.js';
import { READINESS, TEST_LABELS, TEST_TARGET, metrics } from './ops.js';

const G = 'retailflow_dlq_depth';

/** Messages are sitting in a dead-letter queue: consumers gave up on them and someone must look. */
export const RetailFlowDeadLetterQueueNotEmpty: AlertSpec = {
  name: 'RetailFlowDeadLetterQueueNotEmpty',
  severity: 'warning',
  expr: `max by (job, queue) (${G}) > 0`,
  for: '5m',
  summary: 'Dead-letter queue {{ $labels.queue }} is not empty',
  description:
    'For 5 minutes dead-letter queue {{ $labels.queue }} of {{ $labels.job }} has held messages. A consumer rejected them after its retries: they will not be processed until someone replays or discards them.',
  runbook: {
    meaning:
      'A consumer that cannot process a message (a poison message, a bug, a dependency that stayed down past every retry) rejects it, and the broker moves it to the dead-letter queue. Nothing processes that queue automatically.',
    impact:
      'The orders behind those messages are missing a downstream step (a confirmation e-mail, a fulfilment request) until the messages are handled. No data is lost: the messages wait in the queue.',
    queries: [
      { title: 'Messages in each dead-letter queue', expr: `max by (queue) (${G})` },
      { title: 'When it started growing', expr: `delta(${G}[1h])` },
    ],
    panels: [{ dashboard: 'ballast-red', panel: 'Outbound error ratio by dependency' }],
    curl: [READINESS, metrics('retailflow_dlq')],
    steps: [
      'Read a few dead-lettered messages (RabbitMQ management UI or `rabbitmqadmin get queue=<queue> count=5`): the `x-death` header says which queue rejected them and how often.',
      'One bad message is a poison message (fix the consumer or discard it); many messages at once point at a dependency that was down.',
    ],
    mitigation: [
      'Fix the cause first (deploy the consumer fix, wait for the dependency), then replay the messages to their original queue with the shovel or `rabbitmqadmin`.',
      'Discard a message only after recording its id and content in the incident notes.',
    ],
    mitigationCommands: [],
  },
  tests: [
    {
      name: 'a message dead-lettered and left there fires after 5 minutes; resolves when the queue is drained',
      series: [{ series: `${G}{${TEST_TARGET},queue="order-events.dlq"}`, values: '0x5 2x15 0x20' }],
      firing: [{ at: '15m', labels: { job: TEST_LABELS.job, queue: 'order-events.dlq' } }],
      quiet: ['3m', '8m', '30m'],
    },
  ],
};
