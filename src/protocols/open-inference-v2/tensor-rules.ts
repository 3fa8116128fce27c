import type { BodyViolation } from '../protocol.ts';

/**
 * V2 rules JSON Schema cannot express: each input's data holds exactly as many elements as its shape multiplies
 * to (flat or nested), and input names are unique.
 */
export function tensorViolations(body: unknown): BodyViolation[] {
  const out: BodyViolation[] = [];
  const inputs = (body as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs)) return out;
  const seen = new Set<string>();
  inputs.forEach((input: unknown, i) => {
    if (typeof input !== 'object' || input === null) return;
    const { name, shape, data } = input as { name?: unknown; shape?: unknown; data?: unknown };
    if (typeof name === 'string') {
      if (seen.has(name)) out.push({ pointer: `/inputs/${i}/name`, message: `input ${name} appears twice` });
      seen.add(name);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || data === undefined) return;
    const expected = shape.reduce((a: number, d: number) => a * d, 1);
    const actual = countElements(data);
    if (actual !== expected)
      out.push({
        pointer: `/inputs/${i}/data`,
        message: `shape [${shape.join(', ')}] needs ${expected} element(s), the data has ${actual}`,
      });
  });
  return out;
}

function countElements(data: unknown): number {
  if (!Array.isArray(data)) return 1;
  let n = 0;
  for (const d of data) n += countElements(d);
  return n;
}
