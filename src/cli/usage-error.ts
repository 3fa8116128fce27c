/**
 * What the command line does with a mistake in how it was called: one line on stderr naming the verb and the mistake,
 * and exit 2 (a mistake in what the arguments point at — a port in use, a directory that is not there — is exit 1).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake in the command line itself: exit 2. */
export class UsageError extends Error {}

/** A problem found at start with what the arguments name (file, port, kubeconfig): exit 1. */
export class StartError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * node:util parseArgs in strict mode, with its errors reduced to one line (its own messages run to three sentences
 * and suggest `--` tricks) and the number of positional arguments checked.
 */
export function parseVerbArgs(
  args: readonly string[],
  options: Options,
  positionals: { names: readonly string[]; required: number } = { names: [], required: 0 },
): ParsedArgs {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: positionals.names.length > 0,
      strict: true,
    }) as ParsedArgs;
  } catch (err) {
    throw new UsageError(reason(err as Error & { code?: string }));
  }
  if (parsed.values.help) return parsed;
  const given = parsed.positionals.length;
  if (given < positionals.required)
    throw new UsageError(`missing ${positionals.names.slice(given, positionals.required).join(' and ')}`);
  if (given > positionals.names.length)
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals.names.length])}`);
  return parsed;
}

function reason(err: Error & { code?: string }): string {
  // Node quotes the option as written in the spec ('-c, --config <value>'): name the long form.
  const quoted = err.message.match(/'(-[^']*)'/)?.[1] ?? '';
  const option = quoted.match(/--[\w-]+/)?.[0] ?? quoted.split(/[ ,]/)[0];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? err.message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take/.test(err.message) ? `option ${option} takes no value` : `option ${option} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(err.message.match(/'([^']*)'/)?.[1] ?? '')}`;
    default:
      return err.message.split('\n')[0]!;
  }
}

/** A TCP port: 0 to 65535, digits only (`--port abc`, `--port 8080x`, `--port 70000` are usage errors). */
export function portOption(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535)
    throw new UsageError(`--${name} must be a port number from 0 to 65535, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** One of a fixed set of words. */
export function choiceOption<T extends string>(
  name: string,
  value: string | boolean | undefined,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T))
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, not ${JSON.stringify(String(value))}`);
  return value as T;
}
