/** Resource status as the compiler reports it and as it is written back (Kubernetes conventions). */
import { exact } from './compact.ts';

/** A condition before it has a transition time (the compiler has no clock). */
export interface ConditionInput {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** Builds a condition (type, status, reason, message). */
export function condition(
  type: string,
  status: ConditionInput['status'],
  reason: string,
  message: string,
): ConditionInput {
  return { type, status, reason, message };
}

/** A condition as published, with observedGeneration and lastTransitionTime. */
export interface Condition extends ConditionInput {
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

/** The compiler's verdict on one resource. */
export interface ResourceStatus {
  readonly ref: string;
  readonly observedGeneration?: number;
  readonly conditions: readonly ConditionInput[];
  /** Kind-specific status fields (e.g. a ModelAPI's url and versions). */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/**
 * Merges freshly computed conditions into the previous ones: lastTransitionTime changes only when the status of a
 * condition changes; conditions of other types are kept (another writer may own them).
 */
export function mergeConditions(
  previous: readonly Condition[],
  next: readonly ConditionInput[],
  observedGeneration: number | undefined,
  now: string,
  shared?: Map<string, Condition>,
): Condition[] {
  const byType = new Map(previous.map((c) => [c.type, c]));
  for (const c of next) {
    const old = byType.get(c.type);
    const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : now;
    // Most resources report the same few conditions at the same time ("all backends resolved", …): with `shared`,
    // equal conditions are one object (ten thousand APIs publish tens of thousands of conditions otherwise).
    const key = shared
      ? `${c.type}\0${c.status}\0${c.reason}\0${c.message}\0${observedGeneration ?? ''}\0${lastTransitionTime}`
      : '';
    const known = shared?.get(key);
    if (known) {
      byType.set(c.type, known);
      continue;
    }
    const merged: Condition = {
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      ...(observedGeneration !== undefined ? { observedGeneration } : {}),
      lastTransitionTime,
    };
    shared?.set(key, merged);
    byType.set(c.type, merged);
  }
  return exact([...byType.values()]);
}
