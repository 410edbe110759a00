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
    try {
      this.cursor.persist();
    } finally {
      this.reader.close();
    }
  }

  /** Stops reading without saving the cursor: another logger delivers now and owns it. */
  abandon(): void {
    this.cursor.cancel();
    this.reader.close();
  }
}

/**
 * A journal source shared through a lease: the logger holding `.delivery/<sink>.lease` reads
 * and delivers; any other logger of the directory with the same sink follows the holder's
 * cursor (for flush and acknowledgements) and takes over when the holder is gone. A holder
 * that finds the lease lost (judged gone by another host, and taken) steps down at once: it
 * takes no more batches and leaves the cursor to the new holder, which resends what it had
 * in flight.
 */
export class LeasedJournalSource implements DeliverySource {
  private inner: JournalSource | undefined;
  private lastTry = 0;

  constructor(
    private readonly lease: DeliveryLease,
    private readonly cursor: CursorStore,
    private readonly lead: () => JournalSource,
    private readonly warn: (code: string, message: string) => void,
    private readonly retryMs = 1000,
  ) {
    if (!this.promote()) this.cursor.load(() => undefined);
  }

  /** Whether another logger delivers for this sink now. */
  get following(): boolean {
    return !this.leads();
  }

  /** Leader: steps down if its lease was lost. Follower: tries to take over, else returns the holder's cursor seq. */
  refresh(): number | undefined {
    if (this.leads()) return undefined;
    const now = Date.now();
    if (now - this.lastTry >= this.retryMs) {
      this.lastTry = now;
      try {
        if (this.promote()) return undefined;
      } catch (err) {
        this.warn('LEASE_TAKE_FAILED', `${this.lease.path}: cannot start delivering from the cursor: ${(err as Error).message}; it is tried again`);
      }
    }
    return this.cursor.load(() => undefined)?.seq;
  }

  available(): { events: number; bytes: number } {
    return this.leads() ? this.inner!.available() : { events: 0, bytes: 0 };
  }

  take(maxEvents: number, maxBytes: number): TakenBatch | undefined {
    return this.leads() ? this.inner!.take(maxEvents, maxBytes) : undefined;
  }

  commit(batch: TakenBatch): void {
    if (this.leads()) this.inner!.commit(batch);
  }

  idle(): boolean {
    return this.leads() ? this.inner!.idle() : false;
  }

  position(): JournalPosition | undefined {
    return this.leads() ? this.inner!.position() : this.cursor.current;
  }

  persist(): void {
    if (this.leads()) this.inner!.persist();
  }

  close(): void {
    try {
      if (this.leads()) this.inner!.close();
    } finally {
      this.inner = undefined;
      this.lease.release();
    }
  }

  /** Whether this logger delivers; one whose lease was lost stops here. */
  private leads(): boolean {
    if (this.inner && !this.lease.isHeld) {
      this.inner.abandon();
      this.inner = undefined;
    }
    return this.inner !== undefined;
  }

  /** Takes the lease if free and starts reading from the cursor; a failure to start gives the lease back. */
  private promote(): boolean {
    if (!this.lease.tryAcquire()) return false;
    try {
      this.inner = this.lead();
    } catch (err) {
      this.lease.release();
      throw err;
    }
    return true;
  }
}
