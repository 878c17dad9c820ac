export type { Clock, TimerHandle, TimerOptions } from './clock.js';
export { ManualClock, systemClock, flushMicrotasks } from './clock.js';
export { brand, hasBrand } from './errors.js';
export type { ErrorHandler, Event, Listener, Subscription } from './events.js';
export { EventEmitter, reportError, setErrorHandler } from './events.js';
export type { NumberBounds } from './options.js';
export { checkFunction, checkNumber, checkOneOf, invalidOption } from './options.js';
