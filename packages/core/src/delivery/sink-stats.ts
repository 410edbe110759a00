// What `logger.stats()` reports per batch sink.
import type { JournalPosition } from './journal-reader';

/**
 * Health of a sink: 'ok', 'retrying' (a failure, retrying), 'isolated' (failing for a while),
 * 'standby' (another logger of the directory delivers for it), 'closed'.
 */
export type SinkState = 'ok' | 'retrying' | 'isolated' | 'standby' | 'closed';

/** Figures of one batch sink, from `logger.stats()`. */
export interface SinkStats {
  /** Events the sink confirmed. */
  delivered: number;
  /** Retries scheduled. */
  retried: number;
  /** Export attempts that failed (retryable or permanent). */
  failed: number;
  /** Events written to the dead-letter file. */
  deadLettered: number;
  /** Events dropped by the in-memory queue (overflow, or left at close). */
  dropped: number;
  /** Events logged and not yet settled (delivered, dead-lettered or dropped) for this sink. */
  lag: number;
  /** Batches being exported or waiting to retry. */
  inFlight: number;
  /** Health. */
  state: SinkState;
  /** Failures in a row. */
  consecutiveFailures: number;
  /** The last failure, if any. */
  lastError: string | null;
  /** The persisted cursor (journal-fed sinks only). */
  cursor: JournalPosition | null;
}
