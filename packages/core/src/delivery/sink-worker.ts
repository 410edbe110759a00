// One batch sink's delivery loop: batches from its source, exports with a timeout, retries with backoff, commits in order.
import type { AuditBus } from '../bus';
import { describe } from '../errors';
import type { AuditEvent } from '../event';
import type { EventPredicate } from '../filter';
import type { BatchSink, RejectedEvent } from '../sink';
import { Acknowledgements } from './acknowledgements';
import { PendingCalls } from './pending-calls';
import { DeadLetterTail, type DeadLetter, type DeadLetterFile } from './dead-letter';
import { retryDelay, type DeliveryPolicy } from './policy';
import type { SinkState, SinkStats } from './sink-stats';
import type { DeliverySource, TakenBatch } from './source';

export type { SinkState, SinkStats } from './sink-stats';

/** What a worker needs besides its sink. */
export interface WorkerContext {
  /** The logger's bus. */
  bus: AuditBus;
  /** Where refused events go. */
  deadLetters: DeadLetterFile;
  /** Reports a non-fatal problem. */
  warn(code: string, message: string): void;
}

interface Flight {
  batch: TakenBatch;
  done: boolean;
}

/** Feeds one sink; sinks never share a worker, so one failing sink cannot hold up another. */
export class SinkWorker {
  private readonly flights: Flight[] = [];
  private readonly waiters: { seq: number; resolve: () => void }[] = [];
  private readonly acks: Acknowledgements;
  private readonly calls = new PendingCalls();
  private timer: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  /** A batch read ahead while every slot was busy; sent next. */
  private ready: TakenBatch | undefined;
  private prefetching = false;
  private timerFired = false;
  private stopped = false;
  private committedSeq: number;
  private lastSeenSeq: number;
  private readonly counts = { delivered: 0, retried: 0, failed: 0, deadLettered: 0, dropped: 0 };
  private consecutiveFailures = 0;
  private lastError: string | null = null;
  /** Events and bytes announced since the last batch was taken: lets notify() skip the source while a batch fills. */
  private notedEvents = 0;
  private notedBytes = 0;
  /** Standby: the dead letters the lease holder writes, so an acknowledged event it dead-lettered is refused, not confirmed. */
  private readonly holderLetters: DeadLetterTail;

  constructor(
    readonly sink: BatchSink,
    private accepts: EventPredicate | undefined,
    readonly source: DeliverySource,
    readonly policy: DeliveryPolicy,
    private readonly context: WorkerContext,
    tailSeq: number,
  ) {
    this.acks = new Acknowledgements(sink.name);
    this.committedSeq = source.position()?.seq ?? 0;
    this.lastSeenSeq = Math.max(tailSeq, this.committedSeq);
    this.holderLetters = new DeadLetterTail(context.deadLetters.path);
  }

  /** The sink's name. */
  get name(): string {
    return this.sink.name;
  }

  /** Seq of the newest event seen (logged here, or in the journal when the worker started). */
  get lastSeen(): number {
    return this.lastSeenSeq;
  }

  /** Replaces the sink's compiled filter (the logger's status scheme changed). */
  refilter(accepts: EventPredicate | undefined): void {
    this.accepts = accepts;
  }

  /** Whether the sink receives this event. */
  wants(event: AuditEvent): boolean {
    return !this.accepts || this.accepts(event);
  }

  /** An event was appended to the source: send when a batch is full, or arm the batch timer. */
  notify(seq: number, bytes: number): void {
    if (seq > this.lastSeenSeq) this.lastSeenSeq = seq;
    if (this.source.following) return; // the lease holder delivers it; flush and acks poll its cursor
    this.notedEvents++;
    this.notedBytes += bytes;
    const { maxBatchSize, maxBatchBytes, concurrency } = this.policy;
    const filling = this.timer !== undefined && this.notedEvents < maxBatchSize && this.notedBytes < maxBatchBytes;
    if (filling || this.flights.length >= concurrency) return;
    this.pump();
  }

  /** Resolves once the sink confirms the event, rejects if it is dead-lettered or dropped. */
  acknowledgement(id: string, seq: number): Promise<void> {
    return this.acks.wait(id, seq);
  }

  /** Events dropped by the source (in-memory overflow): counted, emitted, their acknowledgements refused. */
  dropped(events: readonly AuditEvent[], policy: string): void {
    this.counts.dropped += events.length;
    this.context.bus.emit('drop', { sink: this.name, count: events.length, policy });
    this.acks.refuse(events, `dropped by the in-memory queue (${policy})`);
    this.settle();
  }

  /** Resolves once everything up to `seq` is settled (or the source is empty), sending partial batches meanwhile. */
  settledThrough(seq: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.isSettled(seq)) {
      this.persistCursor();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push({ seq, resolve });
      this.pump();
    });
  }

  /** Looks for work: from the engine's poll, after a batch settles, or when events arrive. */
  pump(): void {
    if (this.stopped) return;
    const followed = this.source.refresh?.();
    if (this.source.following) {
      this.follow(followed);
      return;
    }
    while (this.flights.length < this.policy.concurrency) {
      const batch = this.ready ?? this.nextBatch();
      this.ready = undefined;
      if (!batch) break;
      this.dispatch(batch);
    }
    this.settle();
    this.schedulePrefetch();
  }

  /** The next batch if one is due (full, or the delay passed, or a flush waits); else arms the batch timer. */
  private nextBatch(): TakenBatch | undefined {
    const { maxBatchSize, maxBatchBytes } = this.policy;
    const available = this.source.available();
    if (available.bytes === 0 && available.events === 0) return undefined;
    const full = Math.max(available.events, this.notedEvents) >= maxBatchSize || available.bytes >= maxBatchBytes;
    if (!full && !this.timerFired && this.waiters.length === 0) {
      this.arm();
      return undefined;
    }
    const batch = this.source.take(maxBatchSize, maxBatchBytes);
    if (!batch) {
      this.notedEvents = 0;
      this.notedBytes = 0;
      return undefined;
    }
    this.notedEvents = Math.max(0, this.notedEvents - batch.events.length - batch.unreadable.length);
    this.notedBytes = Math.max(0, this.notedBytes - batch.bytes);
    if (!full) this.timerFired = false;
    return batch;
  }

  /**
   * With every slot busy, reads and parses the next batch while the exports wait on the network
   * (on the next turn, once their requests are out), so a backlog flows without a gap between batches.
   */
  private schedulePrefetch(): void {
    // Only journal reads are worth it: an in-memory queue has nothing to parse, and its bound must hold.
    if (this.prefetching || this.ready || this.stopped || this.flights.length < this.policy.concurrency || !this.source.position()) return;
    this.prefetching = true;
    setImmediate(() => {
      this.prefetching = false;
      if (this.ready || this.stopped || this.source.following || this.flights.length < this.policy.concurrency) return;
      this.ready = this.nextBatch();
    });
  }

  /** Standby: the holder's cursor settles events here too (an acknowledged one once the cursor passes it). */
  private follow(seq: number | undefined): void {
    if (seq !== undefined && seq > this.committedSeq) this.committedSeq = seq;
    if (this.acks.size > 0) {
      // The holder writes a dead letter before its cursor passes the event: read them first, so that one is refused.
      for (const letter of this.holderLetters.read()) {
        if (letter.sink === this.name && letter.event) this.acks.refuse([letter.event], `dead-lettered by the logger delivering for this sink: ${letter.reason}`);
      }
    }
    this.acks.confirmThrough(this.committedSeq);
    this.settle();
    if ((this.waiters.length > 0 || this.acks.size > 0) && !this.recheck) {
      this.recheck = setTimeout(() => {
        this.recheck = undefined;
        this.pump();
      }, 50);
      this.recheck.unref();
    }
  }

  /** Stops for good: timers cleared, retries and exports abandoned (journal-fed batches stay behind the cursor). */
  stop(): AuditEvent[] {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.recheck) clearTimeout(this.recheck);
    this.timer = undefined;
    this.calls.cancelAll(new Error('the logger is closing'));
    const abandoned = [...this.flights.flatMap((flight) => flight.batch.events), ...(this.ready?.events ?? [])];
    this.ready = undefined;
    this.acks.refuseAll('the logger closed before the sink confirmed');
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
    return abandoned;
  }

  /** Current figures. */
  stats(): SinkStats {
    const queued = 'size' in this.source ? (this.source as { size: number }).size : 0;
    const inFlightEvents = this.flights.reduce((n, flight) => n + flight.batch.events.length, this.ready?.events.length ?? 0);
    const lag = this.source.position() ? Math.max(0, this.lastSeenSeq - this.committedSeq) : queued + inFlightEvents;
    return {
      ...this.counts,
      lag,
      inFlight: this.flights.length,
      state: this.state(),
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
      cursor: this.source.position() ?? null,
    };
  }

  private state(): SinkState {
    if (this.stopped) return 'closed';
    if (this.source.following) return 'standby';
    if (this.consecutiveFailures >= this.policy.isolateAfterFailures) return 'isolated';
    return this.consecutiveFailures > 0 ? 'retrying' : 'ok';
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerFired = true;
      this.pump();
    }, this.policy.maxBatchDelayMs);
    this.timer.unref();
  }

  private dispatch(batch: TakenBatch): void {
    const flight: Flight = { batch, done: false };
    this.flights.push(flight);
    void this.deliver(batch).then((settled) => {
      if (!settled) return; // abandoned at close: it stays uncommitted
      flight.done = true;
      this.settle();
      this.pump();
    });
  }

  /** Commits settled batches in order, then wakes flushes that are satisfied. */
  private settle(): void {
    while (this.flights[0]?.done) {
      const { batch } = this.flights.shift()!;
      try {
        this.source.commit(batch);
      } catch (err) {
        warnCursorWriteFailed(this.context.warn, this.name, err);
      }
      if (batch.lastSeq > this.committedSeq) this.committedSeq = batch.lastSeq;
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (this.isSettled(waiter.seq)) {
        this.waiters.splice(i, 1);
        this.persistCursor(); // a flush returns with the cursor on disk
        waiter.resolve();
      }
    }
  }

  private persistCursor(): void {
    try {
      this.source.persist?.();
    } catch (err) {
      warnCursorWriteFailed(this.context.warn, this.name, err);
    }
  }

  /** Whether everything up to `seq` is delivered, dead-lettered or dropped (or nothing is left to send). */
  isSettled(seq: number): boolean {
    return this.committedSeq >= seq || (this.flights.length === 0 && !this.ready && this.source.idle());
  }

  /** Exports one batch until it is confirmed or dead-lettered; false when abandoned by stop(). */
  private async deliver(batch: TakenBatch): Promise<boolean> {
    if (batch.unreadable.length > 0) {
      this.deadLetter(batch.unreadable.map((u) => ({ line: u.text, reason: u.problem })), 1, batch.unreadable[0]!.problem);
    }
    const events = this.accepts ? batch.events.filter(this.accepts) : batch.events;
    if (events.length === 0) return true;
    for (let attempt = 1; ; attempt++) {
      const result = await this.calls.exportOnce(this.sink, events, this.policy.exportTimeoutMs);
      if (this.stopped) return false;
      if (result.code === 'ok') {
        this.confirmed(this.withoutRejected(events, result.rejected, attempt), batch.lastSeq);
        return true;
      }
      this.counts.failed++;
      this.noteFailure(result.error);
      if (result.code === 'permanent') {
        this.deadLetter(events.map((event) => ({ event, reason: describe(result.error) })), attempt, describe(result.error));
        this.acks.refuse(events, describe(result.error));
        return true;
      }
      if (attempt >= this.policy.maxAttempts) {
        const reason = `gave up after ${attempt} attempts: ${describe(result.error)}`;
        this.deadLetter(events.map((event) => ({ event, reason })), attempt, reason);
        this.acks.refuse(events, reason);
        return true;
      }
      const delayMs = retryDelay(attempt, this.policy, result.retryAfterMs);
      this.counts.retried++;
      this.context.bus.emit('retry', { sink: this.name, attempt, delayMs, error: result.error });
      if (!(await this.calls.sleep(delayMs))) return false;
    }
  }

  /** Dead-letters the events an accepted batch refused one by one; returns the others. */
  private withoutRejected(events: readonly AuditEvent[], rejected: readonly RejectedEvent[] | undefined, attempts: number): readonly AuditEvent[] {
    if (!rejected || rejected.length === 0) return events;
    const refused = new Map<number, string>();
    for (const r of rejected) if (Number.isInteger(r.index) && r.index >= 0 && r.index < events.length) refused.set(r.index, String(r.reason));
    const letters = [...refused].map(([index, reason]) => ({ event: events[index]!, reason }));
    if (letters.length === 0) return events;
    this.deadLetter(letters, attempts, letters[0]?.reason ?? 'rejected');
    this.acks.refuse(letters.map((l) => l.event), letters[0]?.reason ?? 'rejected');
    return events.filter((_, index) => !refused.has(index));
  }

  private confirmed(events: readonly AuditEvent[], lastSeq: number): void {
    if (this.consecutiveFailures >= this.policy.isolateAfterFailures) this.context.bus.emit('recovered', { sink: this.name, failures: this.consecutiveFailures });
    this.consecutiveFailures = 0;
    this.counts.delivered += events.length;
    this.acks.confirm(events);
    this.context.bus.emit('delivered', { sink: this.name, count: events.length, lastSeq, lag: Math.max(0, this.lastSeenSeq - lastSeq) });
  }

  private noteFailure(error: Error): void {
    this.consecutiveFailures++;
    this.lastError = describe(error);
    if (this.consecutiveFailures === this.policy.isolateAfterFailures) {
      this.context.bus.emit('isolated', { sink: this.name, failures: this.consecutiveFailures, error });
    }
  }

  private deadLetter(items: { event?: AuditEvent; line?: string; reason: string }[], attempts: number, reason: string): void {
    const failedAt = new Date().toISOString();
    const letters: DeadLetter[] = items.map((item) => ({ sink: this.name, reason: item.reason, attempts, failed_at: failedAt, ...(item.event ? { event: item.event } : { line: item.line }) }));
    try {
      this.context.deadLetters.write(letters);
    } catch (err) {
      this.context.warn('DEAD_LETTER_WRITE_FAILED', `sink "${this.name}": cannot write ${letters.length} dead letters to ${this.context.deadLetters.path}: ${describe(err)}`);
    }
    this.counts.deadLettered += letters.length;
    this.context.bus.emit('dead_letter', { sink: this.name, count: letters.length, reason });
  }
}

/** Reports a cursor that could not be saved: nothing is lost, but events may be sent again after a restart. */
export function warnCursorWriteFailed(warn: (code: string, message: string) => void, sink: string, err: unknown): void {
  warn('CURSOR_WRITE_FAILED', `sink "${sink}": cannot save its cursor: ${describe(err)} (events may be sent again after a restart)`);
}
