/** Structured JSON logging (pino); one root logger, children per component. */
import { pino } from 'pino';

/** Creates the process logger. `silent` in tests unless MODELGATE_LOG_LEVEL says otherwise. */
export function createLogger(level = process.env.MODELGATE_LOG_LEVEL ?? 'info'): pino.Logger {
  return pino({ level, base: { service: 'modelgate' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** The logger type used throughout. */
export type Logger = pino.Logger;
