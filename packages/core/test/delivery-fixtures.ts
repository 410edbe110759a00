// Test doubles for the delivery tests: a batch sink whose answers a test scripts, and small waits.
import type { AuditEvent, BatchSink, DeliveryPolicy, EventFilter, ExportResult } from '@auditrail/core';

/** What the scripted sink answers: a result, or 'hang' (never settles until aborted). */
export type ScriptedAnswer = ExportResult | 'hang';

/** A batch sink that records every call and answers as the test's script says (default: ok). */
export class ScriptedSink implements BatchSink {
  readonly name: string;
  readonly filter: EventFilter | undefined;
  readonly delivery: Partial<DeliveryPolicy> | undefined;
  /** Every batch passed to export, in call order. */
  readonly calls: AuditEvent[][] = [];
  /** Events of the batches answered ok. */
  readonly delivered: AuditEvent[] = [];
  /** Signals of the calls, to check timeouts abort. */
  readonly signals: AbortSignal[] = [];
  /** Calls running now, and the most seen at once. */
  running = 0;
  maxRunning = 0;
  shutdowns = 0;

  constructor(
    options: { name?: string; filter?: EventFilter; delivery?: Partial<DeliveryPolicy> } = {},
    public script: (batch: readonly AuditEvent[], call: number) => ScriptedAnswer | Promise<ScriptedAnswer> = () => ({ code: 'ok' }),
  ) {
    this.name = options.name ?? 'scripted';
    this.filter = options.filter;
    this.delivery = options.delivery;
  }

  async export(batch: readonly AuditEvent[], signal: AbortSignal): Promise<ExportResult> {
    this.calls.push([...batch]);
    this.signals.push(signal);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const answer = await this.script(batch, this.calls.length);
      if (answer === 'hang') {
        return await new Promise<ExportResult>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      }
      if (answer.code === 'ok') this.delivered.push(...batch);
      return answer;
    } finally {
      this.running--;
    }
  }

  async shutdown(): Promise<void> {
    this.shutdowns++;
  }

  /** Ids delivered, without duplicates. */
  deliveredIds(): Set<string> {
    return new Set(this.delivered.map((e) => e.id));
  }
}

/** A retryable failure. */
export function retryable(message = 'try again', retryAfterMs?: number): ExportResult {
  return retryAfterMs === undefined ? { code: 'retryable', error: new Error(message) } : { code: 'retryable', error: new Error(message), retryAfterMs };
}

/** A permanent failure. */
export function permanent(message = 'refused'): ExportResult {
  return { code: 'permanent', error: new Error(message) };
}

/** Resolves after `ms` of real time. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds (real time), failing with `what` after `limitMs`. */
export async function eventually(check: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await pause(5);
  }
}
