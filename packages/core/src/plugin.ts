// The plugin API: one object may add sinks, a status scheme, enrichers and redactors.
import type { DraftEvent, EventSource } from './event';
import type { AnySink } from './sink';
import type { StatusScheme } from './statuses';

/** Adds context to an event's source before it is sealed (git commit, run id, ...); the rest of the event is read-only to it. */
export type Enricher = (source: EventSource, event: Readonly<DraftEvent>) => void;

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

/** Checks a plugin's shape and returns it, so a bad plugin fails where it is defined. */
export function definePlugin(plugin: AuditPlugin): AuditPlugin {
  if (typeof plugin.name !== 'string' || plugin.name.length === 0) throw new TypeError('definePlugin: "name" must be a non-empty string');
  for (const key of ['enrichers', 'redactors'] as const) {
    const list = plugin[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((f) => typeof f !== 'function'))) {
      throw new TypeError(`definePlugin(${plugin.name}): "${key}" must be an array of functions`);
    }
  }
  return plugin;
}
