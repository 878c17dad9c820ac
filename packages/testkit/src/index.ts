export type { ServiceName, ServiceStatus } from './services.js';
export {
  probeService,
  redactUrl,
  SERVICE_NAMES,
  serviceUrl,
  servicesRequired,
  unreachableMessage,
} from './services.js';
export type { BenchResult, BenchTask, MeasureOptions } from './bench.js';
export { measure, report, row } from './bench.js';
export { seededRandom } from './random.js';
