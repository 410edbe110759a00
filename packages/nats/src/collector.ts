// Collector: a durable JetStream pull consumer that writes events into any auditrail batch sink and
// acknowledges a message only after the sink confirmed it. Several collectors may share one durable
// consumer to scale out; stop() finishes the batch in hand and returns.
import { AckPolicy, connect, DeliverPolicy, nanos, type Consumer, type JsMsg, type NatsConnection } from 'nats';
import { appendFileSync } from 'node:fs';
import { checkFunction, checkMilliseconds, checkWholeNumber, describeValue, errorMessage, InvalidOptionError, refuseMisspelledOptions, type AuditEvent, type BatchSink, type ExportResult } from '@auditrail/core';
import { isNotFound } from './stream';
import { checkAppendable, checkName, checkServers, MAX_SERVER_MS } from './options';
import { closeConnection } from './close';

/** Options of a collector. */
export interface CollectorOptions {
  /** Server URL(s); default NATS_URL, then nats://127.0.0.1:4222. */
  servers?: string | string[];
  /** Stream to read (default 'AUDIT'). */
  stream?: string;
  /** Durable consumer name, shared by collectors that scale out (default 'auditrail-collector'). */
  durable?: string;
  /** Where events go: a batch sink (a name and an export function). */
  target: BatchSink;
  /** Messages per batch (default 500). */
  batchSize?: number;
  /** Unacknowledged messages are redelivered after this, in whole milliseconds (default 30,000 ms). */
  ackWaitMs?: number;
  /** Longest wait for the target per batch, up to 2^31-1 (default 20,000 ms). */
  exportTimeoutMs?: number;
  /**
   * File that receives messages the target refused for good, or that are not audit events; checked at
   * construction. When a write fails, the messages stay unacknowledged and are redelivered (DEAD_LETTER_FAILED).
   */
  deadLetterPath?: string;
  /** Called on each batch outcome (for logs and tests). */
  onBatch?: (info: { count: number; result: ExportResult['code'] }) => void;
  /** Called on a problem the collector survives, such as DEAD_LETTER_FAILED (default: process.emitWarning). */
  onWarning?: (warning: { code: string; message: string }) => void;
}

/** Every option's name, for catching misspelled ones (the type check fails when this and CollectorOptions disagree). */
export const COLLECTOR_OPTION_NAMES: readonly string[] = Object.keys({
  servers: 0,
  stream: 0,
  durable: 0,
  target: 0,
  batchSize: 0,
  ackWaitMs: 0,
  exportTimeoutMs: 0,
  deadLetterPath: 0,
  onBatch: 0,
  onWarning: 0,
} satisfies Record<keyof CollectorOptions, 0>);

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
  private readonly ackWaitMs: number;
  private readonly exportTimeoutMs: number;

  /** Checks every option (InvalidOptionError naming it); connects nothing and creates nothing. */
  constructor(private readonly options: CollectorOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', `must be an object, got ${describeValue(options)}`);
    refuseMisspelledOptions(options, COLLECTOR_OPTION_NAMES);
    const target = options.target as Partial<BatchSink> | null | undefined;
    if (typeof target?.export !== 'function' || typeof target.name !== 'string') {
      throw new InvalidOptionError('target', 'must be a batch sink (an object with a name and an export function)');
    }
    if (options.servers !== undefined) checkServers('servers', options.servers);
    checkName('stream', options.stream ?? 'AUDIT');
    checkName('durable', options.durable ?? 'auditrail-collector');
    this.batchSize = checkWholeNumber('batchSize', options.batchSize ?? 500, 1);
    this.ackWaitMs = checkWholeNumber('ackWaitMs', options.ackWaitMs ?? 30_000, 1, MAX_SERVER_MS);
    this.exportTimeoutMs = checkMilliseconds('exportTimeoutMs', options.exportTimeoutMs ?? 20_000);
    // No progress is reported while a batch is exported: a shorter ack wait redelivers it meanwhile, to
    // this collector or another, and a target slower than the ack wait would receive it again and again.
    if (this.ackWaitMs <= this.exportTimeoutMs) {
      throw new InvalidOptionError('ackWaitMs', `${this.ackWaitMs} ms must be longer than exportTimeoutMs (${this.exportTimeoutMs} ms): messages would be redelivered while their batch is still being exported`);
    }
    if (options.deadLetterPath !== undefined) checkAppendable('deadLetterPath', options.deadLetterPath);
    checkFunction('onBatch', options.onBatch);
    checkFunction('onWarning', options.onWarning);
  }

  /** Connects, creates the durable consumer if missing, and starts collecting; resolves once running. */
  async start(): Promise<void> {
    const connection = await connect({ servers: this.options.servers ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'auditrail-collector', maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    let consumer: Consumer;
    try {
      consumer = await this.consumer(connection);
    } catch (err) {
      // Closed, or it would keep the process alive (auditrail collect printed the error and hung).
      await closeConnection(connection).catch(() => undefined);
      throw err;
    }
    this.connection = connection;
    this.running = true;
    this.loop = this.run(consumer);
    // done() rejects for those who await it; a program that does not must neither crash on it nor miss it.
    this.loop.catch((err: unknown) => this.warn('COLLECTOR_STOPPED', `collecting stopped on an error: ${errorMessage(err)}`));
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
      await jsm.streams.info(stream);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      throw new Error(`stream ${JSON.stringify(stream)} does not exist yet: a NatsSink creates it when it first connects (or create it with the same settings)`);
    }
    try {
      await jsm.consumers.info(stream, durable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(this.ackWaitMs),
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
      } catch (err) {
        if (this.connection?.isClosed()) throw err; // closed for good: it never reconnects
        // The server is unreachable or restarting: the client reconnects; unacked messages come back.
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      if (messages.length === 0) continue;
      const kept: JsMsg[] = []; // messages handed back for redelivery
      const events = this.parse(messages, kept);
      const result = await this.write(events.map((e) => e.event));
      try {
        this.options.onBatch?.({ count: events.length, result: result.code });
      } catch (err) {
        this.warn('ON_BATCH_THREW', `onBatch threw: ${errorMessage(err)}`);
      }
      if (result.code === 'ok') {
        // Events the target refused one by one (a row Postgres will not store, a bulk item error)
        // are dead-lettered, never acknowledged as written.
        const refused = new Map((result.rejected ?? []).map((r) => [r.index, r.reason]));
        let written = 0;
        for (const [index, { msg, event }] of events.entries()) {
          const reason = refused.get(index);
          if (reason === undefined) written++;
          else if (!this.deadLetter([event], reason)) {
            kept.push(msg);
            continue;
          }
          msg.ack();
        }
        try {
          await this.connection?.flush();
        } catch (err) {
          if (this.connection?.isClosed()) throw err; // closed for good: nothing to go on with
          // A disconnect while the acknowledgements were on their way: the client reconnects, and what the
          // server did not get back comes again (the target drops duplicates by event id). Collecting goes on.
          this.warn('ACK_FLUSH_FAILED', `acknowledgements may not have reached the server (${errorMessage(err)}); unacknowledged messages will be redelivered`);
        }
        this.stats.written += written;
      } else if (result.code === 'retryable' || !this.deadLetter(events.map((e) => e.event), result.error.message)) {
        kept.push(...events.map((e) => e.msg));
      } else {
        for (const { msg } of events) msg.term(result.error.message.slice(0, 200));
      }
      if (kept.length > 0) {
        this.stats.retried++;
        for (const msg of kept) msg.nak(backoff);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      } else if (result.code === 'ok') {
        backoff = 200;
      }
    }
  }

  /** The audit events among `messages`; the others are dead-lettered and terminated, or added to `kept` when that fails. */
  private parse(messages: JsMsg[], kept: JsMsg[]): { msg: JsMsg; event: AuditEvent }[] {
    const parsed: { msg: JsMsg; event: AuditEvent }[] = [];
    for (const msg of messages) {
      try {
        const event = JSON.parse(msg.string()) as AuditEvent;
        if (typeof event.id !== 'string' || typeof event.seq !== 'number') throw new Error('not an audit event');
        parsed.push({ msg, event });
      } catch (err) {
        if (this.deadLetter([msg.string()], `unreadable message on ${msg.subject}: ${errorMessage(err)}`)) msg.term('not an audit event');
        else kept.push(msg);
      }
    }
    return parsed;
  }

  private async write(events: AuditEvent[]): Promise<ExportResult> {
    if (events.length === 0) return { code: 'ok' };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.exportTimeoutMs);
    timer.unref();
    try {
      return await this.options.target.export(events, controller.signal);
    } catch (err) {
      return { code: 'retryable', error: err instanceof Error ? err : new Error(String(err)) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records `items` as dead letters; false (with a DEAD_LETTER_FAILED warning) when the file cannot be written. */
  private deadLetter(items: unknown[], reason: string): boolean {
    const path = this.options.deadLetterPath;
    if (path) {
      const at = new Date().toISOString();
      try {
        appendFileSync(path, items.map((item) => JSON.stringify({ at, reason, event: item }) + '\n').join(''), { mode: 0o600 });
      } catch (err) {
        this.warn('DEAD_LETTER_FAILED', `cannot write ${items.length} dead letter(s) to ${path} (${errorMessage(err)}); the messages are left unacknowledged and redelivered`);
        return false;
      }
    }
    this.stats.deadLettered += items.length;
    return true;
  }

  private warn(code: string, message: string): void {
    const text = `auditrail collector: ${message}`;
    if (!this.options.onWarning) return process.emitWarning(text, { type: 'AuditrailWarning', code });
    try {
      this.options.onWarning({ code, message: text });
    } catch {
      process.emitWarning(text, { type: 'AuditrailWarning', code });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
