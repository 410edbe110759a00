// The plugin API: one object may add sinks, a status scheme, enrichers and redactors.
import { InvalidOptionError } from './errors';
import { describeValue } from './option-checks';
import type { Details, DraftEvent, EventSource } from './event';
import type { AnySink } from './sink';
import type { StatusScheme } from './statuses';

/**
 * Adds context to an event's source before it is sealed (git commit, run id, ...). The event is a
 * frozen view: its details a deep-frozen copy, so no write to it reaches the record (in strict code it throws).
 */
export type Enricher = (source: EventSource, event: Readonly<DraftEvent>) => void;

/**
 * The event enrichers see: every field read-only, details a deep-frozen copy made only if read.
 * Details were redacted by the copy walk before enrichers run: a secret written into them must not
 * bypass that, nor leave details non-canonical behind a `detailsCanonical` still true.
 */
export function enricherView(draft: DraftEvent): Readonly<DraftEvent> {
  let details: Details | undefined;
  return Object.freeze({
    action_type: draft.action_type,
    status: draft.status,
    get details(): Details {
      return (details ??= deepFreeze(JSON.parse(JSON.stringify(draft.details)) as Details));
    },
    detailsCanonical: draft.detailsCanonical,
    error: draft.error,
    actor: draft.actor,
    source: draft.source,
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** Removes or masks secrets in an event; runs after enrichers, before sealing and every sink. */
export type Redactor = (event: DraftEvent) => void;

/** A bundle of extensions registered with `logger.use(plugin)` or `plugins: [...]`. */
export interface AuditPlugin {
  /** Name used in errors. */
  readonly name: string;
  /** Sinks to add. */
  readonly sinks?: readonly AnySink[];
  /** Status scheme to use instead of the logger's. */
  readonly statuses?: StatusScheme;
  /** Enrichers to run on every event, in order. */
  readonly enrichers?: readonly Enricher[];
  /** Redactors to run on every event, in order. */
  readonly redactors?: readonly Redactor[];
}

/** Checks a plugin's shape and returns it, so a bad plugin fails where it is defined (InvalidOptionError naming the field). */
export function definePlugin(plugin: AuditPlugin): AuditPlugin {
  checkPlugin(plugin);
  return plugin;
}

/** Throws InvalidOptionError unless `plugin` has a name and lists (when given) of sinks, enrichers and redactors. */
export function checkPlugin(plugin: unknown): asserts plugin is AuditPlugin {
  const candidate = plugin as Partial<Record<keyof AuditPlugin, unknown>> | null;
  if (typeof candidate !== 'object' || candidate === null) throw new InvalidOptionError('plugins', `each plugin must be an object, got ${describeValue(plugin)}`);
  if (typeof candidate.name !== 'string' || candidate.name.length === 0) throw new InvalidOptionError('plugins', 'each plugin needs a non-empty "name"');
  for (const key of ['enrichers', 'redactors'] as const) {
    const list = candidate[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((f) => typeof f !== 'function'))) {
      throw new InvalidOptionError(`plugin "${candidate.name}".${key}`, 'must be a list of functions');
    }
  }
  if (candidate.sinks !== undefined && !Array.isArray(candidate.sinks)) throw new InvalidOptionError(`plugin "${candidate.name}".sinks`, 'must be a list of sinks');
}
