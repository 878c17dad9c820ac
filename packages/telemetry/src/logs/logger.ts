/**
 * One log method in pino's calling convention: a merge object, then the message. A pino `Logger` (or child)
 * fits; so does any logger with the same shape.
 */
export type LogMethod = (fields: object, message: string) => void;

/** The log levels Ballast's helpers write at. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * What Ballast's log helpers need from a logger (structurally a pino `Logger`; `@ballast/telemetry` never imports
 * pino).
 */
export type LoggerLike = Readonly<Record<LogLevel, LogMethod>>;
