export type { AppDependencies } from './app.js';
export { createApp } from './app.js';
export type { RetailFlowConfig } from './config.js';
export { DEFAULT_CONFIG, loadConfig } from './config.js';
export type { RetailFlow, RetailFlowOptions } from './service.js';
export { banner, startRetailFlow } from './service.js';
export type {
  Charge,
  PaymentSimulator,
  PaymentSimulatorOptions,
  ProviderKnobs,
} from './payments/simulator.js';
export { startPaymentSimulator } from './payments/simulator.js';
export { startTracing } from './tracing.js';
