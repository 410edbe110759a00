// audited(logger, action, fn, options): wraps a function so every call is recorded with its outcome, duration and before/after values.
import type { ActionCatalog, ActionName, Details } from '../event';
import type { AuditLogger } from '../logger';
import { outcomeResolver, type OutcomeStatuses } from './outcome';
import { addSnapshotDetails, takeSnapshot, type SnapshotMode } from './snapshot';

/** Options of `audited`; every one is optional. `A` are the wrapped function's arguments, `R` its return type. */
export interface AuditedOptions<A extends unknown[], R> {
  /** Details recorded with every call, computed from its arguments. */
  details?: (...args: A) => Details | undefined;
  /** Details taken from the value a successful call returned (rows returned, a new id). */
  result?: (result: Awaited<R>, ...args: A) => Details | undefined;
  /** Snapshot of the state the call changes, taken (and copied) before it runs. */
  before?: (...args: A) => unknown;
  /** Snapshot taken after the call, whether it returned or threw. */
  after?: (...args: A) => unknown;
  /** 'diff' (default): record only what changed between the snapshots; 'full': record both whole. */
  snapshots?: SnapshotMode;
  /** Who acts: a name, or a function of the arguments; default the logger's actor. */
  actor?: string | ((...args: A) => string | null | undefined);
  /** Statuses for success and failure; default picked from the logger's scheme (see resolveOutcomeStatuses). */
  statuses?: Partial<OutcomeStatuses>;
}

/** What `audited` returns: the same arguments, a promise of the same result, settled once the event is recorded. */
export type AuditedFunction<A extends unknown[], R> = (...args: A) => Promise<Awaited<R>>;

/**
 * Wraps a sync or async function: each call runs it, then records one event. A call that returns
 * is recorded with the success status and `duration_ms`; one that throws with the failure status
 * and the error, then the error is rethrown. `before`/`after` snapshots go into details as the
 * changed values only (`before`, `after`, `changed`, `added`, `removed`; see diff) or whole. The
 * wrapper is always async: its promise settles after the event is recorded, so a caller never
 * sees success for an unrecorded action. If recording fails (and the logger's onError is
 * 'throw'), the call rejects with that AuditError; if the function had failed too, with an
 * AggregateError of both, the function's error first. A throwing details, result or snapshot
 * getter (or actor function) never stops the call: its message is recorded as `details_error`,
 * `result_error`, `before_error`, `after_error` or `actor_error`.
 */
export function audited<C extends ActionCatalog, A extends unknown[], R>(
  logger: AuditLogger<C>,
  action: ActionName<C> | ((...args: A) => ActionName<C>),
  fn: (...args: A) => R,
  options: AuditedOptions<A, R> = {},
): AuditedFunction<A, R> {
  if (typeof fn !== 'function') throw new TypeError('audited: "fn" must be a function');
  if (typeof action !== 'function' && (typeof action !== 'string' || action.length === 0)) {
    throw new TypeError('audited: "action" must be a non-empty string or a function of the arguments');
  }
  const outcome = outcomeResolver(options.statuses);
  outcome(logger.statuses); // fail now, not on the first call, when the scheme has no failure status
  const snapshots = options.snapshots ?? 'diff';

  const wrapper = async function (this: unknown, ...args: A): Promise<Awaited<R>> {
    const name = typeof action === 'function' ? action(...args) : action;
    const details: Details = {};
    merge(details, 'details', () => options.details?.(...args));
    const before = options.before ? await takeSnapshot(() => options.before!(...args)) : undefined;
    const started = performance.now();
    let result: Awaited<R> | undefined;
    let failure: { error: unknown } | undefined;
    try {
      result = await fn.apply(this, args);
    } catch (error) {
      failure = { error };
    }
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    const after = options.after ? await takeSnapshot(() => options.after!(...args)) : undefined;
    if (!failure && options.result) merge(details, 'result', () => options.result!(result as Awaited<R>, ...args));
    details.duration_ms = durationMs;
    addSnapshotDetails(details, before, after, snapshots);

    const statuses = outcome(logger.statuses);
    const actor = actorOf(options.actor, args, details);
    const thrown = failure?.error;
    const input = {
      action: name,
      status: failure ? statuses.failure : statuses.success,
      details,
      error: failure ? (thrown instanceof Error ? thrown : String(thrown)) : null,
      actor: typeof actor === 'string' ? actor : null,
    };
    let recordError: unknown;
    try {
      await (logger as unknown as AuditLogger).logEvent(input);
    } catch (err) {
      recordError = err;
    }
    if (failure) {
      if (recordError !== undefined) throw new AggregateError([thrown, recordError], `${name} failed and its audit event could not be recorded`);
      throw thrown;
    }
    if (recordError !== undefined) throw recordError;
    return result as Awaited<R>;
  };
  Object.defineProperty(wrapper, 'name', { value: `audited ${fn.name || labelOf(action)}` });
  return wrapper;
}

function labelOf(action: unknown): string {
  return typeof action === 'string' ? action : 'call';
}

function merge(details: Details, label: string, get: () => Details | undefined): void {
  try {
    const extra = get();
    if (extra !== undefined && extra !== null) Object.assign(details, extra);
  } catch (err) {
    details[`${label}_error`] = messageOf(err);
  }
}

function actorOf<A extends unknown[]>(actor: AuditedOptions<A, unknown>['actor'], args: A, details: Details): string | null | undefined {
  if (typeof actor !== 'function') return actor;
  try {
    return actor(...args);
  } catch (err) {
    details.actor_error = messageOf(err);
    return undefined;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
