// Collector: a durable JetStream pull consumer that writes events into any auditrail batch sink and
// acknowledges a message only after the sink confirmed it. Several collectors may share one durable
// consumer to scale out; stop() finishes the batch in hand and returns.
import { AckPolicy, connect, DeliverPolicy, nanos, type Consumer, type JsMsg, type NatsConnection } from 'nats';
import { appendFileSync } from 'node:fs';
import { InvalidOptionError, type AuditEvent, type BatchSink, type ExportResult } from '@auditrail/core';
import { isNotFound } from './stream';
import { closeConnection } from './close';

/** Options of a collector. */
export interface CollectorOptions {
  /** Server URL(s); default NATS_URL, then nats://127.0.0.1:4222. */
  servers?: string | string[];
  /** Stream to read (default 'AUDIT'). */
  stream?: string;
  /** Durable consumer name, shared by collectors that scale out (default 'auditrail-collector'). */
  durable?: string;
  /** Where events go. */
  target: BatchSink;
  /** Messages per batch (default 500). */
  batchSize?: number;
  /** Unacknowledged messages are redelivered after this (default 30,000 ms). */
  ackWaitMs?: number;
  /** Longest wait for the target per batch (default 20,000 ms). */
  exportTimeoutMs?: number;
  /** File that receives messages the target refused for good, or that are not audit events. */
  deadLetterPath?: string;
  /** Called on each batch outcome (for logs and tests). */
  onBatch?: (info: { count: number; result: ExportResult['code'] }) => void;
}

/** Figures of a collector. */
export interface CollectorStats {
  /** Events the target confirmed. */
  written: number;
  /** Batches handed back for redelivery. */
  retried: number;
  /** Messages dead-lettered. */
  deadLettered: number;
}

/** Reads a JetStream stream into a batch sink. */
export class Collector {
  /** Figures so far. */
  readonly stats: CollectorStats = { written: 0, retried: 0, deadLettered: 0 };
  private connection: NatsConnection | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly batchSize: number;

  constructor(private readonly options: CollectorOptions) {
    this.batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(this.batchSize) || this.batchSize <= 0) throw new InvalidOptionError('batchSize', `must be a positive integer, got ${this.batchSize}`);
  }

  /** Connects, creates the durable consumer if missing, and starts collecting; resolves once running. */
  async start(): Promise<void> {
    this.connection = await connect({ servers: this.options.servers ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'auditrail-collector', maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    const consumer = await this.consumer(this.connection);
    this.running = true;
    this.loop = this.run(consumer);
  }

  /** Resolves when collecting stops (after stop(), or on a fatal error, which it rejects with). */
  done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Stops after the batch in hand is written and acknowledged, then closes the connection and the target. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop?.catch(() => undefined);
    if (this.connection) await closeConnection(this.connection);
    await this.options.target.shutdown?.();
  }

  private async consumer(connection: NatsConnection): Promise<Consumer> {
    const stream = this.options.stream ?? 'AUDIT';
    const durable = this.options.durable ?? 'auditrail-collector';
    const jsm = await connection.jetstreamManager();
    try {
      await jsm.consumers.info(stream, durable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
        max_ack_pending: this.batchSize * 8,
      });
    }
    return connection.jetstream().consumers.get(stream, durable);
  }

  private async run(consumer: Consumer): Promise<void> {
    let backoff = 200;
    while (this.running) {
      const messages: JsMsg[] = [];
      try {
        const batch = await consumer.fetch({ max_messages: this.batchSize, expires: 1000 });
        for await (const msg of batch) messages.push(msg);
      } catch {
        // The server is unreachable or restarting: the client reconnects; unacked messages come back.
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      if (messages.length === 0) continue;
      const events = this.parse(messages);
      const result = await this.write(events.map((e) => e.event));
      this.options.onBatch?.({ count: events.length, result: result.code });
      if (result.code === 'ok') {
        // Events the target refused one by one (a row Postgres will not store, a bulk item error)
        // are dead-lettered, never acknowledged as written.
        const refused = new Map((result.rejected ?? []).map((r) => [r.index, r.reason]));
        for (const [index, reason] of refused) {
          const item = events[index];
          if (item) this.deadLetter([item.event], reason);
        }
        for (const { msg } of events) msg.ack();
        await this.connection?.flush();
        this.stats.written += events.length - refused.size;
        backoff = 200;
      } else if (result.code === 'retryable') {
        this.stats.retried++;
        for (const { msg } of events) msg.nak(backoff);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      } else {
        this.deadLetter(events.map((e) => e.event), result.error.message);
        for (const { msg } of events) msg.term(result.error.message.slice(0, 200));
      }
    }
  }

  private parse(messages: JsMsg[]): { msg: JsMsg; event: AuditEvent }[] {
    const parsed: { msg: JsMsg; event: AuditEvent }[] = [];
    for (const msg of messages) {
      try {
        const event = JSON.parse(msg.string()) as AuditEvent;
        if (typeof event.id !== 'string' || typeof event.seq !== 'number') throw new Error('not an audit event');
        parsed.push({ msg, event });
      } catch (err) {
        this.deadLetter([msg.string()], `unreadable message on ${msg.subject}: ${(err as Error).message}`);
        msg.term('not an audit event');
      }
    }
    return parsed;
  }

  private async write(events: AuditEvent[]): Promise<ExportResult> {
    if (events.length === 0) return { code: 'ok' };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.exportTimeoutMs ?? 20_000);
    timer.unref();
    try {
      return await this.options.target.export(events, controller.signal);
    } catch (err) {
      return { code: 'retryable', error: err instanceof Error ? err : new Error(String(err)) };
    } finally {
      clearTimeout(timer);
    }
  }

  private deadLetter(items: unknown[], reason: string): void {
    this.stats.deadLettered += items.length;
    if (!this.options.deadLetterPath) return;
    const at = new Date().toISOString();
    appendFileSync(this.options.deadLetterPath, items.map((item) => JSON.stringify({ at, reason, event: item }) + '\n').join(''), { mode: 0o600 });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
