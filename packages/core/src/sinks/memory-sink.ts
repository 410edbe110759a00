// The in-memory sink: a test double that keeps every event it receives.
import type { AuditEvent } from '../event';
import type { EventFilter } from '../filter';
import type { Sink } from '../sink';
import { refuseMisspelledOptions } from '../option-names';

/** Keeps events in an array; for tests and for inspecting what a logger would send. */
export class MemorySink implements Sink {
  readonly name: string;
  readonly filter: EventFilter | undefined;
  /** Every event received, in order. */
  readonly events: AuditEvent[] = [];

  constructor(options: { name?: string; filter?: EventFilter } = {}) {
    refuseMisspelledOptions(options, ['name', 'filter']);
    this.name = options.name ?? 'memory';
    this.filter = options.filter;
  }

  write(event: AuditEvent): void {
    this.events.push(event);
  }

  /** Forgets every event. */
  clear(): void {
    this.events.length = 0;
  }
}
