// The logger's typed event bus (mitt), with emits that a throwing handler cannot break.
import { isThenable } from './option-checks';
import mitt, { type Emitter, type Handler } from 'mitt';
import type { AuditError } from './errors';
import type { AuditEvent } from './event';

/** Every event the bus carries, by name. */
export interface AuditBusEvents {
  /** An event was recorded by the local sinks. */
  event: AuditEvent;
  /** A failure: with `onError: 'emit'`, failed writes land here instead of rejecting. */
  error: { error: AuditError; event?: AuditEvent; sink?: string };
  /** A non-fatal problem (loose file mode, a stale lock broken, a repaired torn line). */
  warning: { code: string; message: string };
  /** A remote sink confirmed a batch; `lag` is how many logged events it has still to settle. */
  delivered: { sink: string; count: number; lastSeq: number; lag: number };
  /** A remote sink's batch failed and will be retried after `delayMs`. */
  retry: { sink: string; attempt: number; delayMs: number; error: Error };
  /** Events a remote sink refused for good were written to the dead-letter file. */
  dead_letter: { sink: string; count: number; reason: string };
  /** Events were dropped by a bounded queue's overflow policy ('drop-oldest', 'drop-newest', or 'close' when left at close). */
  drop: { sink: string; count: number; policy: string };
  /** A remote sink failed `failures` times in a row: it is isolated (retried at the capped backoff, the others unaffected). */
  isolated: { sink: string; failures: number; error: Error };
  /** An isolated remote sink confirmed a batch again. */
  recovered: { sink: string; failures: number };
  /** Index signature required by mitt. */
  [name: string | symbol]: unknown;
}

/** Names of the bus's events. */
export type AuditBusEventName = Extract<keyof AuditBusEvents, string>;

/** A mitt emitter whose emit isolates handlers from each other and from the logger. */
export class AuditBus {
  private readonly emitter: Emitter<AuditBusEvents> = mitt<AuditBusEvents>();

  /** Adds a handler. */
  on<K extends AuditBusEventName>(type: K, handler: Handler<AuditBusEvents[K]>): void {
    this.emitter.on(type, handler);
  }

  /** Removes a handler, or all handlers of a type. */
  off<K extends AuditBusEventName>(type: K, handler?: Handler<AuditBusEvents[K]>): void {
    this.emitter.off(type, handler);
  }

  /** Whether anyone listens for a type. */
  has(type: AuditBusEventName): boolean {
    return (this.emitter.all.get(type)?.length ?? 0) > 0;
  }

  /** Calls each handler; a throwing handler is reported as a warning and never reaches the caller. */
  emit<K extends AuditBusEventName>(type: K, payload: AuditBusEvents[K]): void {
    const handlers = this.emitter.all.get(type);
    if (!handlers || handlers.length === 0) return;
    for (const handler of [...handlers]) {
      try {
        // Handlers are typed as returning void, but an async one returns a promise whose
        // rejection would otherwise be unhandled and end the host process.
        const result: unknown = (handler as Handler<AuditBusEvents[K]>)(payload);
        if (isThenable(result)) result.then(undefined, (err: unknown) => this.reportHandlerFailure(type, err));
      } catch (err) {
        this.reportHandlerFailure(type, err);
      }
    }
  }

  private reportHandlerFailure(type: string, err: unknown): void {
    const message = `auditrail: a "${type}" handler threw: ${err instanceof Error ? err.message : String(err)}`;
    if (type === 'warning') {
      process.emitWarning(message, 'AuditrailWarning');
      return;
    }
    this.emit('warning', { code: 'HANDLER_THREW', message });
  }
}

