// Where a sink's batches come from: the journal through a persisted cursor (the outbox).
import type { AuditEvent } from '../event';
import type { CursorStore } from './cursor';
import type { JournalPosition, JournalReader } from './journal-reader';
import type { DeliveryLease } from './lease';

/** A batch taken from a source, not yet confirmed. */
export interface TakenBatch {
  /** The events, in journal order (before the sink's filter). */
  readonly events: AuditEvent[];
  /** Lines that could not be read as events: they go to the dead-letter file. */
  readonly unreadable: { readonly text: string; readonly problem: string }[];
  /** Bytes of JSON taken. */
  readonly bytes: number;
  /** Highest seq covered: once committed, everything up to it is settled for this sink. */
  readonly lastSeq: number;
  /** The source's own token for `commit`. */
  readonly end: unknown;
}

/** What the engine reads a sink's events from. */
export interface DeliverySource {
  /** Events (when known) and bytes available and not yet taken. */
  available(): { events: number; bytes: number };
  /** Takes the next batch, or undefined when nothing is available. */
  take(maxEvents: number, maxBytes: number): TakenBatch | undefined;
  /** Settles a batch for good (delivered or dead-lettered); called in the order batches were taken. */
  commit(batch: TakenBatch): void;
  /** Whether `take` would find nothing now. */
  idle(): boolean;
  /** The persisted position, for stats (journal sources only). */
  position(): JournalPosition | undefined;
  /** Releases files. */
  close(): void;
  /** Puts the committed position on disk now (flush); journal sources only. */
  persist?(): void;
  /** Whether another logger delivers for this sink (this one only follows its cursor). */
  readonly following?: boolean;
  /** Called before each look for work: a follower returns the holder's settled seq. */
  refresh?(): number | undefined;
}

/** Reads the journal from a sink's cursor: a crash, a restart or an outage resumes where the cursor stopped. */
export class JournalSource implements DeliverySource {
  private readPosition: JournalPosition;

  constructor(
    private readonly reader: JournalReader,
    private readonly cursor: CursorStore,
    startFrom: 'beginning' | 'end',
    warn: (code: string, message: string) => void,
  ) {
    const saved = cursor.load((message) => warn('CURSOR_UNREADABLE', `${message}; starting from the ${startFrom} of the journal`));
    if (saved) {
      const { position, relocated } = reader.resolve(saved);
      if (relocated) warn('CURSOR_RELOCATED', `${cursor.path} did not match the journal (rotated or replaced): resuming after seq ${position.seq}`);
      this.readPosition = position;
    } else {
      this.readPosition = reader.start(startFrom);
    }
    // Saved at once: with startFrom 'end', a crash before the first delivery must not move the start.
    cursor.save(this.readPosition);
  }

  /** Events are not counted here (that would mean reading the file): the worker counts what the logger appended. */
  available(): { events: number; bytes: number } {
    return { events: 0, bytes: this.reader.bytesAfter(this.readPosition) };
  }

  take(maxEvents: number, maxBytes: number): TakenBatch | undefined {
    const chunk = this.reader.read(this.readPosition, maxEvents, maxBytes);
    if (chunk.lines.length === 0) {
      this.readPosition = chunk.end; // may have stepped past a finished segment
      return undefined;
    }
    const events: AuditEvent[] = [];
    const unreadable: { text: string; problem: string }[] = [];
    let bytes = 0;
    for (const line of chunk.lines) {
      bytes += line.bytes;
      if (line.event) events.push(line.event);
      else unreadable.push({ text: line.text, problem: line.problem });
    }
    this.readPosition = chunk.end;
    return { events, unreadable, bytes, lastSeq: chunk.end.seq, end: chunk.end };
  }

  commit(batch: TakenBatch): void {
    this.cursor.save(batch.end as JournalPosition);
  }

  idle(): boolean {
    return this.reader.bytesAfter(this.readPosition) === 0;
  }

  position(): JournalPosition | undefined {
    return this.cursor.current;
  }

  persist(): void {
    this.cursor.persist();
  }

  close(): void {
    this.cursor.persist();
    this.reader.close();
  }
}

/**
 * A journal source shared through a lease: the logger holding `.delivery/<sink>.lease` reads
 * and delivers; any other logger of the directory with the same sink follows the holder's
 * cursor (for flush and acknowledgements) and takes over when the holder is gone.
 */
export class LeasedJournalSource implements DeliverySource {
  private inner: JournalSource | undefined;
  private lastTry = 0;
  private lastTouch = 0;

  constructor(
    private readonly lease: DeliveryLease,
    private readonly cursor: CursorStore,
    private readonly lead: () => JournalSource,
    private readonly retryMs = 1000,
  ) {
    this.promote();
    if (!this.inner) this.cursor.load(() => undefined);
  }

  /** Whether another logger delivers for this sink now. */
  get following(): boolean {
    return this.inner === undefined;
  }

  /** Leader: keeps the lease fresh. Follower: tries to take over, else returns the holder's cursor seq. */
  refresh(): number | undefined {
    const now = Date.now();
    if (this.inner) {
      if (now - this.lastTouch >= this.retryMs) {
        this.lastTouch = now;
        this.lease.touch();
        if (!this.lease.isHeld) {
          // Judged gone by another host and replaced: stop reading; the new holder resends what we had in flight.
          this.inner.close();
          this.inner = undefined;
        }
      }
      if (this.inner) return undefined;
    }
    if (now - this.lastTry >= this.retryMs) {
      this.lastTry = now;
      if (this.promote()) return undefined;
    }
    return this.cursor.load(() => undefined)?.seq;
  }

  available(): { events: number; bytes: number } {
    return this.inner ? this.inner.available() : { events: 0, bytes: 0 };
  }

  take(maxEvents: number, maxBytes: number): TakenBatch | undefined {
    return this.inner?.take(maxEvents, maxBytes);
  }

  commit(batch: TakenBatch): void {
    this.inner?.commit(batch);
  }

  idle(): boolean {
    return this.inner ? this.inner.idle() : false;
  }

  position(): JournalPosition | undefined {
    return this.inner ? this.inner.position() : this.cursor.current;
  }

  persist(): void {
    this.inner?.persist();
  }

  close(): void {
    this.inner?.close();
    this.lease.release();
  }

  private promote(): boolean {
    if (!this.lease.tryAcquire()) return false;
    this.inner = this.lead();
    this.lastTouch = Date.now();
    return true;
  }
}
