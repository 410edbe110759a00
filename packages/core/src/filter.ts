// Sink filters: which events a sink receives (actions, statuses, a minimum severity, a predicate).
import type { AuditEvent } from './event';
import { InvalidOptionError } from './errors';
import { refuseUnknownOptions } from './option-names';
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

const FILTER_KEYS = ['actions', 'statuses', 'minSeverity', 'predicate'];

/**
 * Compiles a filter against a scheme. Fails fast, naming the field under `path` (`sink "pager".filter`),
 * on what would silently let nothing (or everything) through: a field it does not know (a typo such as
 * `status`), a status the scheme lacks, a string where a list is expected. `otherKeys` are fields of the
 * object that are not the filter's (`sinks` of delivery.acknowledged).
 */
export function compileFilter(filter: EventFilter | undefined, scheme: StatusScheme, path: string, otherKeys: readonly string[] = []): EventPredicate | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter !== 'object') throw new InvalidOptionError(path, `must be an object with actions, statuses, minSeverity or predicate, got ${typeof filter}`);
  refuseUnknownOptions(filter, [...FILTER_KEYS, ...otherKeys], path, 'a filter field');
  const checks: EventPredicate[] = [];
  if (filter.actions !== undefined) {
    const actions = new Set(names(filter.actions, `${path}.actions`));
    checks.push((e) => actions.has(e.action_type));
  }
  if (filter.statuses !== undefined) {
    const statuses = names(filter.statuses, `${path}.statuses`);
    const unknown = statuses.filter((status) => !scheme.isValid(status));
    if (unknown.length > 0) {
      const valid = scheme.statuses ? ` (valid: ${scheme.statuses.join(', ')})` : '';
      throw new InvalidOptionError(`${path}.statuses`, `${unknown.map((s) => JSON.stringify(s)).join(', ')} ${unknown.length === 1 ? 'is not a status' : 'are not statuses'} of scheme "${scheme.name}"${valid}`);
    }
    const set = new Set(statuses);
    checks.push((e) => set.has(e.status));
  }
  if (filter.minSeverity !== undefined) {
    const floor = scheme.severity(filter.minSeverity);
    if (floor < 0) {
      throw new InvalidOptionError(`${path}.minSeverity`, `${JSON.stringify(filter.minSeverity)} is not a status of scheme "${scheme.name}"`);
    }
    checks.push((e) => scheme.severity(e.status) >= floor);
  }
  if (filter.predicate !== undefined) {
    if (typeof filter.predicate !== 'function') throw new InvalidOptionError(`${path}.predicate`, `must be a function, got ${typeof filter.predicate}`);
    checks.push(filter.predicate);
  }
  if (checks.length === 0) return undefined;
  return (e) => checks.every((check) => check(e));
}

/** A list of non-empty strings (a bare string would match its letters one by one). */
function names(list: unknown, path: string): string[] {
  if (!Array.isArray(list)) throw new InvalidOptionError(path, `must be a list of names, got ${typeof list === 'string' ? `the string ${JSON.stringify(list)} (write [${JSON.stringify(list)}])` : typeof list}`);
  for (const name of list) {
    if (typeof name !== 'string' || name === '') throw new InvalidOptionError(path, `each entry must be a non-empty string, got ${JSON.stringify(name) ?? typeof name}`);
  }
  return list as string[];
}
