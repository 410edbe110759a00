// Sink contracts: an event-at-a-time sink (local, synchronous or awaited) and a batch sink (remote, via the delivery engine).
import type { DeliveryPolicy } from './delivery/policy';
import type { AuditEvent } from './event';
import type { EventFilter } from './filter';
import type { StatusScheme } from './statuses';

/** What a sink learns when the logger opens it. */
export interface SinkContext {
  /** The logger's log directory, if it has one. */
  readonly rootLogDir: string | undefined;
  /** The logger's status scheme. */
  readonly statuses: StatusScheme;
  /** Reports a non-fatal problem on the logger's bus. */
  warn(code: string, message: string): void;
}

/**
 * A sink that receives each event as it is logged. A synchronous `write` runs before
 * `logEvent` returns; a returned promise is awaited by `logEvent`. Throwing (or rejecting)
 * fails the `logEvent` call (or, with `onError: 'emit'`, reaches the bus).
 */
export interface Sink {
  /** Name used in errors and stats. */
  readonly name: string;
  /** Which events it receives; all when omitted. */
  readonly filter?: EventFilter;
  /** Checks the sink against the logger's status scheme before the logger creates anything; throw InvalidOptionError to refuse. */
  check?(statuses: StatusScheme): void;
  /** Called once when the sink joins a logger; throw to refuse bad options. */
  open?(context: SinkContext): void;
  /** Records one event; `json` is the event already serialised as one JSON line (no newline). */
  write(event: AuditEvent, json: string): void | Promise<void>;
  /** Makes what was written durable or visible. */
  flush?(): void | Promise<void>;
  /** Releases resources; called once. */
  close?(): void | Promise<void>;
}

/** An event of an accepted batch that the remote side refused for good (an Elasticsearch bulk item error, say). */
export interface RejectedEvent {
  /** Its index in the batch. */
  readonly index: number;
  /** Why, in the remote side's words. */
  readonly reason: string;
}

/** Outcome of a batch export: 'ok' (maybe with events refused one by one), 'retryable' (maybe after `retryAfterMs`) or 'permanent'. */
export type ExportResult =
  | { readonly code: 'ok'; readonly rejected?: readonly RejectedEvent[] }
  | { readonly code: 'retryable'; readonly error: Error; readonly retryAfterMs?: number }
  | { readonly code: 'permanent'; readonly error: Error };

/**
 * A remote sink: it writes batches and says what happened to each (compare OpenTelemetry's
 * LogRecordExporter). Batching, retry, backoff, timeouts, cursors and dead letters live in
 * the delivery engine, not here.
 */
export interface BatchSink {
  /** Name used in errors, stats and the cursor file. */
  readonly name: string;
  /** Which events it receives; all when omitted. */
  readonly filter?: EventFilter;
  /** Its own delivery policy (batch size, timeouts, retries), over the logger's `delivery.policy`. */
  readonly delivery?: Partial<DeliveryPolicy>;
  /** Checks the sink against the logger's status scheme before the logger creates anything; throw InvalidOptionError to refuse. */
  check?(statuses: StatusScheme): void;
  /** Called once when the sink joins a logger (its status scheme, its directory); throw to refuse. */
  open?(context: SinkContext): void;
  /** Writes one batch; must settle, and should stop when `signal` aborts (the engine's timeout). */
  export(batch: readonly AuditEvent[], signal: AbortSignal): Promise<ExportResult>;
  /** Releases resources; called once on close. */
  shutdown?(): Promise<void>;
}

/** Any sink a logger accepts. */
export type AnySink = Sink | BatchSink;

/** Whether a sink is a batch (remote) sink. */
export function isBatchSink(sink: AnySink): sink is BatchSink {
  return typeof (sink as BatchSink).export === 'function';
}

/** Builds a custom sink from a name and a write function, checking both. */
export function defineSink(sink: Sink): Sink {
  if (typeof sink.name !== 'string' || sink.name.length === 0) throw new TypeError('defineSink: "name" must be a non-empty string');
  if (typeof sink.write !== 'function') throw new TypeError(`defineSink(${sink.name}): "write" must be a function`);
  return sink;
}
