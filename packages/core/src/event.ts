// The audit event: what callers pass in, and the sealed record that reaches every sink.

/** Free-form, JSON-safe context attached to an event (before/after values, counts, ids). */
export type Details = Record<string, unknown>;

/** Where an event came from: filled by the logger and its enrichers. */
export interface EventSource {
  /** Host name of the writing machine. */
  host: string;
  /** Process id of the writer. */
  pid: number;
  /** Experiment name given to the logger, if any. */
  experiment?: string;
  /** Id of the log (chain) the event belongs to: events of one directory share it, across processes and restarts. */
  log: string;
  /** Further context added by enrichers (git commit, run id, ...). */
  [key: string]: unknown;
}

/** One recorded event, as written to disk (snake_case, in this key order). */
export interface AuditEvent<A extends string = string, D = Details> {
  /** Time-ordered unique id (UUIDv7). */
  id: string;
  /** Gap-free position in the log, starting at 1. */
  seq: number;
  /** ISO 8601 UTC with exactly six fractional digits and a trailing Z. */
  timestamp: string;
  /** What happened (hp_change, "Drift detected", ...). */
  action_type: A;
  /** Status within the logger's scheme (INFO, WARNING, success, failed, ...). */
  status: string;
  /** JSON-safe context of the event. */
  details: D;
  /** Error message when the action failed, else null. */
  error: string | null;
  /** Who did it, when known, else null. */
  actor: string | null;
  /** Host, pid, experiment and enricher context. */
  source: EventSource;
  /** Hash of the previous event in the chain (64 zeros for the first). */
  prev_hash: string;
  /** SHA-256 (or HMAC-SHA256) over this event's canonical form. */
  hash: string;
}

/**
 * A catalog maps action names to the shape of their details. Declared as `object` rather than
 * an index signature so that catalogs written as interfaces (which have no implicit index
 * signature) qualify too.
 */
export type ActionCatalog = object;

/** The catalog used when none is given: any action, any details. */
export type AnyCatalog = Record<string, Details>;

/** The action names of a catalog. */
export type ActionName<C extends ActionCatalog> = Extract<keyof C, string>;

/** Fields shared by every object-form input. */
interface InputFields<D> {
  /** Status; defaults to the scheme's default. */
  status?: string;
  /** Context of the event. */
  details?: D;
  /** Error message or Error; an Error is recorded as "Name: message". */
  error?: string | Error | null;
  /** Who did it. */
  actor?: string | null;
}

/** Object-form input: `action` (or `action_type` as in the first seed, `event_name` as in the second). */
export type EventInput<C extends ActionCatalog = AnyCatalog, A extends ActionName<C> = ActionName<C>> =
  | (InputFields<C[A]> & { action: A; action_type?: never; event_name?: never })
  | (InputFields<C[A]> & { action_type: A; action?: never; event_name?: never })
  | (InputFields<C[A]> & { event_name: A; action?: never; action_type?: never });

/** The arguments `logEvent` accepts, with each action tied to its details shape. */
export type LogEventArgs<C extends ActionCatalog = AnyCatalog> = {
  [A in ActionName<C>]: [action: A, details?: C[A], status?: string] | [event: EventInput<C, A>];
}[ActionName<C>];

/** An event being built: redactors may change details, error and actor; enrichers add to source. */
export interface DraftEvent {
  /** The action name. */
  readonly action_type: string;
  /** The validated status. */
  readonly status: string;
  /** Sanitised copy of the caller's details (keys sorted): safe to change. */
  details: Details;
  /** Whether JSON.stringify(details) is canonical; the logger clears it when a redactor runs. */
  detailsCanonical: boolean;
  /** Error message or null. */
  error: string | null;
  /** Actor or null. */
  actor: string | null;
  /** Source context: enrichers add keys here. */
  source: EventSource;
}
