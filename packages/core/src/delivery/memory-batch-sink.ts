// A batch sink that keeps what it receives, with answers a test can script: the test double of remote sinks.
import type { AuditEvent } from '../event';
import type { EventFilter } from '../filter';
import type { BatchSink, ExportResult } from '../sink';
import type { DeliveryPolicy } from './policy';
import { refuseMisspelledOptions } from '../option-names';

/** Options of MemoryBatchSink. */
export interface MemoryBatchSinkOptions {
  /** Sink name (default "memory-batch"). */
  name?: string;
  /** Which events it receives. */
  filter?: EventFilter;
  /** Its delivery policy. */
  delivery?: Partial<DeliveryPolicy>;
  /** The answer to each export (default ok); `call` counts from 1. */
  answer?: (batch: readonly AuditEvent[], call: number) => ExportResult | Promise<ExportResult>;
}

/** Keeps the events of every batch it confirms; for tests of delivery settings, retries and dead letters. */
export class MemoryBatchSink implements BatchSink {
  readonly name: string;
  readonly filter: EventFilter | undefined;
  readonly delivery: Partial<DeliveryPolicy> | undefined;
  /** Events of the batches answered ok, in delivery order (a retried batch may repeat events). */
  readonly events: AuditEvent[] = [];
  /** Every batch exported, whatever the answer. */
  readonly batches: AuditEvent[][] = [];
  private readonly answer: NonNullable<MemoryBatchSinkOptions['answer']>;

  constructor(options: MemoryBatchSinkOptions = {}) {
    refuseMisspelledOptions(options, Object.keys({ name: 0, filter: 0, delivery: 0, answer: 0 } satisfies Record<keyof MemoryBatchSinkOptions, 0>));
    this.name = options.name ?? 'memory-batch';
    this.filter = options.filter;
    this.delivery = options.delivery;
    this.answer = options.answer ?? (() => ({ code: 'ok' }));
  }

  async export(batch: readonly AuditEvent[]): Promise<ExportResult> {
    this.batches.push([...batch]);
    const result = await this.answer(batch, this.batches.length);
    if (result.code === 'ok') {
      const refused = new Set((result.rejected ?? []).map((r) => r.index));
      this.events.push(...batch.filter((_, i) => !refused.has(i)));
    }
    return result;
  }
}
