// Sink filters: which events a sink receives (actions, statuses, a minimum severity, a predicate).
import type { AuditEvent } from './event';
import { InvalidOptionError } from './errors';
import type { StatusScheme } from './statuses';

/** Which events reach a sink; all given conditions must hold. */
export interface EventFilter {
  /** Only these action types. */
  actions?: readonly string[];
  /** Only these statuses. */
  statuses?: readonly string[];
  /** Only this status and the more severe ones, as the logger's scheme orders them. */
  minSeverity?: string;
  /** Only events for which this returns true. */
  predicate?: (event: AuditEvent) => boolean;
}

/** Compiled form of a filter: a plain predicate. */
export type EventPredicate = (event: AuditEvent) => boolean;

/** Compiles a filter against a scheme; fails fast on a minimum severity the scheme does not know. */
export function compileFilter(filter: EventFilter | undefined, scheme: StatusScheme, owner: string): EventPredicate | undefined {
  if (!filter) return undefined;
  const checks: EventPredicate[] = [];
  if (filter.actions) {
    const actions = new Set(filter.actions);
    checks.push((e) => actions.has(e.action_type));
  }
  if (filter.statuses) {
    const statuses = new Set(filter.statuses);
    checks.push((e) => statuses.has(e.status));
  }
  if (filter.minSeverity !== undefined) {
    const floor = scheme.severity(filter.minSeverity);
    if (floor < 0) {
      throw new InvalidOptionError(`${owner}.filter.minSeverity`, `${JSON.stringify(filter.minSeverity)} is not a status of scheme "${scheme.name}"`);
    }
    checks.push((e) => scheme.severity(e.status) >= floor);
  }
  if (filter.predicate) checks.push(filter.predicate);
  if (checks.length === 0) return undefined;
  return (e) => checks.every((check) => check(e));
}
