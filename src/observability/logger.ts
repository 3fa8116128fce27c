/** Structured JSON logging (pino); one root logger, children per component. */
import { pino } from 'pino';
import type { SecretRedactor } from '../common/secret-redactor.ts';

/**
 * Creates the process logger. `silent` in tests unless MODELGATE_LOG_LEVEL says otherwise. With a redactor, every
 * line goes through it on its way out: a secret in an error message, a URL or a field never reaches the log.
 */
export function createLogger(
  level = process.env.MODELGATE_LOG_LEVEL ?? 'info',
  redactor?: SecretRedactor,
  destination?: pino.DestinationStream,
): pino.Logger {
  return pino(
    {
      level,
      base: { service: 'modelgate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(redactor ? { hooks: { streamWrite: (line: string) => redactor.redactText(line) } } : {}),
    },
    destination,
  );
}

/** The logger type used throughout. */
export type Logger = pino.Logger;
