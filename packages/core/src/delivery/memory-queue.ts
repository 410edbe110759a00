// The bounded in-memory queue used when a logger keeps no local files (format 'none'): explicit overflow, every drop counted.
import type { AuditEvent } from '../event';
import type { DeliverySource, TakenBatch } from './source';

/** What a full queue does with one more event. */
export type OverflowPolicy = 'block' | 'drop-oldest' | 'drop-newest';

/** Options of the in-memory queue. */
export interface MemoryQueueOptions {
  /** Most events held per sink, in flight excluded (default 10,000). */
  maxEvents?: number;
  /**
   * 'drop-newest' (default: the new event is refused), 'drop-oldest' (the oldest queued one
   * makes room) or 'block' (logEvent's promise waits until there is room).
   */
  overflow?: OverflowPolicy;
}

interface Waiter {
  event: AuditEvent;
  bytes: number;
  resolve: () => void;
}

/** A bounded FIFO of events for one sink. */
export class MemoryQueue implements DeliverySource {
  private items: { event: AuditEvent; bytes: number }[] = [];
  private head = 0;
  private queuedBytes = 0;
  private readonly blocked: Waiter[] = [];

  constructor(
    private readonly maxEvents: number,
    private readonly overflow: OverflowPolicy,
    private readonly onDrop: (events: AuditEvent[]) => void,
  ) {}

  /** Queues an event; returns a promise only when the 'block' policy makes the caller wait. */
  push(event: AuditEvent, bytes: number): Promise<void> | undefined {
    if (this.size < this.maxEvents && this.blocked.length === 0) {
      this.add(event, bytes);
      return undefined;
    }
    if (this.overflow === 'drop-newest') {
      this.onDrop([event]);
      return undefined;
    }
    if (this.overflow === 'drop-oldest') {
      const oldest = this.items[this.head]!;
      this.items[this.head++] = undefined as never;
      this.queuedBytes -= oldest.bytes;
      this.add(event, bytes);
      this.onDrop([oldest.event]);
      return undefined;
    }
    return new Promise((resolve) => this.blocked.push({ event, bytes, resolve }));
  }

  /** Events queued (not in flight), blocked ones included. */
  get size(): number {
    return this.items.length - this.head + this.blocked.length;
  }

  available(): { events: number; bytes: number } {
    return { events: this.size, bytes: this.queuedBytes };
  }

  take(maxEvents: number, maxBytes: number): TakenBatch | undefined {
    if (this.items.length === this.head) return undefined;
    const events: AuditEvent[] = [];
    let bytes = 0;
    while (this.head < this.items.length && events.length < maxEvents) {
      const item = this.items[this.head]!;
      if (events.length > 0 && bytes + item.bytes > maxBytes) break;
      events.push(item.event);
      bytes += item.bytes;
      this.items[this.head++] = undefined as never;
    }
    this.queuedBytes -= bytes;
    this.compact();
    this.admitBlocked();
    return { events, unreadable: [], bytes, lastSeq: events[events.length - 1]!.seq, end: undefined };
  }

  commit(): void {
    // Nothing is persisted: a delivered batch is simply forgotten.
  }

  idle(): boolean {
    return this.size === 0;
  }

  position(): undefined {
    return undefined;
  }

  /** Empties the queue (on close after the drain timeout); returns what was left, blocked callers released. */
  drain(): AuditEvent[] {
    const left = this.items.slice(this.head).map((item) => item.event);
    for (const waiter of this.blocked.splice(0)) {
      left.push(waiter.event);
      waiter.resolve();
    }
    this.items = [];
    this.head = 0;
    this.queuedBytes = 0;
    return left;
  }

  close(): void {
    // Nothing to release.
  }

  private add(event: AuditEvent, bytes: number): void {
    this.items.push({ event, bytes });
    this.queuedBytes += bytes;
  }

  /** Room was made: blocked events enter in order and their callers resume. */
  private admitBlocked(): void {
    while (this.blocked.length > 0 && this.items.length - this.head < this.maxEvents) {
      const waiter = this.blocked.shift()!;
      this.add(waiter.event, waiter.bytes);
      waiter.resolve();
    }
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
