// PLACEHOLDER delivery engine: hands each event straight to its batch sinks, one at a time, no retry.
// Replaced by the real engine (outbox cursors, batching, retry, dead letters).
import type { AuditBus } from '../bus';
import type { AuditEvent } from '../event';
import type { EventPredicate } from '../filter';
import type { BatchSink } from '../sink';

/** A batch sink with its compiled filter. */
export interface RoutedBatchSink {
  /** The sink. */
  sink: BatchSink;
  /** Its filter, compiled. */
  accepts: EventPredicate | undefined;
}

/** What the logger gives the engine. */
export interface DeliveryEngineOptions {
  /** The sinks to feed. */
  sinks: RoutedBatchSink[];
  /** The logger's bus. */
  bus: AuditBus;
  /** The logger's directory, if any. */
  rootLogDir: string | undefined;
}

/** Per-sink figures. */
export interface SinkStats {
  /** Events confirmed by the sink. */
  delivered: number;
  /** Failed attempts. */
  failed: number;
}

/** Feeds batch sinks. */
export class DeliveryEngine {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counts = new Map<string, SinkStats>();

  constructor(private readonly options: DeliveryEngineOptions) {
    for (const { sink } of options.sinks) this.counts.set(sink.name, { delivered: 0, failed: 0 });
  }

  /** Takes a recorded event. */
  enqueue(event: AuditEvent): void {
    for (const { sink, accepts } of this.options.sinks) {
      if (accepts && !accepts(event)) continue;
      const stats = this.counts.get(sink.name)!;
      const p = sink
        .export([event], new AbortController().signal)
        .then((r) => {
          if (r.code === 'ok') stats.delivered++;
          else stats.failed++;
        })
        .finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Waits for what is in flight. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** Drains and shuts the sinks down. */
  async close(): Promise<void> {
    await this.flush();
    await Promise.allSettled(this.options.sinks.map(({ sink }) => sink.shutdown?.()));
  }

  /** Figures per sink. */
  stats(): Record<string, SinkStats> {
    return Object.fromEntries(this.counts);
  }
}
