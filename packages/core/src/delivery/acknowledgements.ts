// Callers waiting for a sink to confirm chosen events ('acknowledged' delivery), by event id.
import { SinkError } from '../errors';
import type { AuditEvent } from '../event';

/** The pending acknowledgements of one sink. */
export class Acknowledgements {
  private readonly waiting = new Map<string, { seq: number; resolve: () => void; reject: (err: Error) => void }>();

  constructor(private readonly sink: string) {}

  /** How many callers wait. */
  get size(): number {
    return this.waiting.size;
  }

  /** A promise that settles when the event is confirmed (or refused). */
  wait(id: string, seq: number): Promise<void> {
    return new Promise((resolve, reject) => this.waiting.set(id, { seq, resolve, reject }));
  }

  /** The sink confirmed these events. */
  confirm(events: readonly AuditEvent[]): void {
    if (this.waiting.size === 0) return;
    for (const event of events) this.take(event.id)?.resolve();
  }

  /** Another logger's cursor passed `seq`: every event up to it is settled. */
  confirmThrough(seq: number): void {
    for (const [id, ack] of this.waiting) {
      if (ack.seq <= seq) {
        this.waiting.delete(id);
        ack.resolve();
      }
    }
  }

  /** These events were dead-lettered or dropped. */
  refuse(events: readonly AuditEvent[], reason: string): void {
    if (this.waiting.size === 0) return;
    for (const event of events) this.take(event.id)?.reject(new SinkError(this.sink, new Error(reason)));
  }

  /** Everyone still waiting is refused (close). */
  refuseAll(reason: string): void {
    for (const [id, ack] of this.waiting) {
      this.waiting.delete(id);
      ack.reject(new SinkError(this.sink, new Error(reason)));
    }
  }

  private take(id: string): { resolve: () => void; reject: (err: Error) => void } | undefined {
    const ack = this.waiting.get(id);
    if (ack) this.waiting.delete(id);
    return ack;
  }
}
