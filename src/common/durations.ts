/** Gateway API duration strings (`1m30s`, `500ms`) to milliseconds. */
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Parses a duration validated by DURATION_PATTERN; `undefined` passes through. */
export function durationMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|h|m|s)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}
