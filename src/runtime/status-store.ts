/**
 * Statuses as published in file mode: the compiler's conditions merged over the previous ones, so
 * lastTransitionTime moves only when a condition's status changes (the same rule the Kubernetes writer follows).
 */
import { type Condition, mergeConditions, type ResourceStatus } from '../resources/status.ts';

/** A published status. */
export interface PublishedStatus {
  readonly observedGeneration?: number;
  readonly conditions: readonly Condition[];
  readonly [field: string]: unknown;
}

/** Keeps the latest status of every resource. */
export class StatusStore {
  #statuses = new Map<string, PublishedStatus>();

  /** Replaces all statuses with the compiler's; returns the refs whose conditions changed. */
  update(statuses: readonly ResourceStatus[], now: Date): string[] {
    const next = new Map<string, PublishedStatus>();
    const changed: string[] = [];
    for (const s of statuses) {
      const prev = this.#statuses.get(s.ref);
      const conditions = mergeConditions(
        (prev?.conditions ?? []).filter((c) => s.conditions.some((n) => n.type === c.type)),
        s.conditions,
        s.observedGeneration,
        now,
      );
      const published: PublishedStatus = {
        ...(s.observedGeneration !== undefined ? { observedGeneration: s.observedGeneration } : {}),
        ...s.fields,
        conditions,
      };
      if (!prev || JSON.stringify(prev.conditions.map(strip)) !== JSON.stringify(conditions.map(strip)))
        changed.push(s.ref);
      next.set(s.ref, published);
    }
    this.#statuses = next;
    return changed;
  }

  get(ref: string): PublishedStatus | undefined {
    return this.#statuses.get(ref);
  }

  /** All statuses keyed by ref, sorted. */
  all(): Record<string, PublishedStatus> {
    return Object.fromEntries([...this.#statuses].sort(([a], [b]) => a.localeCompare(b)));
  }
}

function strip(c: Condition): unknown {
  return [c.type, c.status, c.reason, c.message];
}
