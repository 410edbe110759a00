// WinstonSink: any winston transport (Console, File, Stream, Datadog, Loki, CloudWatch, daily-rotate...) as an auditrail sink.
import { checkMilliseconds, checkWholeNumber, describeValue, InvalidOptionError, refuseMisspelledOptions, SinkError, type AuditEvent, type EventFilter, type Sink, type SinkContext, type StatusScheme } from '@auditrail/core';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import { isBusy, syncFileOf, waitUntilIdle } from './drain';
import { levelForStatus } from './levels';
import { checkFormat, checkLevel, entriesOf } from './option-checks';

/** winston's info keys (triple-beam's LEVEL and MESSAGE), shared through the global symbol registry. */
const LEVEL = Symbol.for('level');
const MESSAGE = Symbol.for('message');

/** Options of a WinstonSink; every one is optional. */
export interface WinstonSinkOptions {
  /** Sink name in errors and stats; default `winston:<transport name>`. */
  name?: string;
  /** Which events to send. */
  filter?: EventFilter;
  /** Format that renders the line (sets info[MESSAGE]) before the transport's own format; default winston.format.json(). */
  format?: winston.Logform.Format;
  /** Level per status, over the default mapping by severity (see levelForStatus); each a level of the transport's level table. */
  levels?: Readonly<Record<string, string>>;
  /** The level table the transport's `level` option is compared against, if it was never added to a logger; default npm levels. */
  levelTable?: Readonly<Record<string, number>>;
  /** The line's `message`; default the event's action. */
  message?: (event: AuditEvent) => string;
  /** Longest wait for one write, a flush or a close (default 10,000 ms; 1 to 2^31-1). */
  timeoutMs?: number;
}

/** Every option's name, for catching misspelled ones (the type check fails when this and WinstonSinkOptions disagree). */
export const WINSTON_SINK_OPTION_NAMES: readonly string[] = Object.keys({
  name: 0,
  filter: 0,
  format: 0,
  levels: 0,
  levelTable: 0,
  message: 0,
  timeoutMs: 0,
} satisfies Record<keyof WinstonSinkOptions, 0>);

/**
 * Sends each event through a winston transport: the info object is the event itself (snake_case
 * fields, hash chain included) plus `level` (from the status severity) and `message` (the
 * action). `logEvent` settles once the transport has called back. `flush()` and `close()` wait
 * until the transport has handed everything to the OS; for a File transport they also fsync the
 * file, so the data is on disk. `close()` ends the transport; the sink owns it from then on.
 */
export class WinstonSink implements Sink {
  readonly name: string;
  readonly filter: EventFilter | undefined;
  private readonly transport: TransportStream;
  private readonly format: winston.Logform.Format;
  private readonly levels: Readonly<Record<string, string>>;
  private readonly message: (event: AuditEvent) => string;
  private readonly timeoutMs: number;
  private readonly pending = new Set<{ reject: (err: Error) => void }>();
  private context: SinkContext | undefined;
  private readonly queue: (() => boolean)[] = [];
  private blocked = false;
  private closed: Promise<void> | undefined;

  constructor(transport: TransportStream, options: WinstonSinkOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', `${describeValue(options)} is not an object`);
    // `levels` and `levelTable` are keyed by statuses and level names, not by options: their keys are not judged here.
    refuseMisspelledOptions(options, WINSTON_SINK_OPTION_NAMES);
    if (!transport || typeof transport.write !== 'function' || typeof transport.on !== 'function') {
      throw new InvalidOptionError('transport', `${describeValue(transport)} is not a winston transport (such as new winston.transports.Console())`);
    }
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) throw new InvalidOptionError('name', `${describeValue(options.name)} is not a non-empty string`);
    if (options.format !== undefined) checkFormat('format', options.format);
    if (options.message !== undefined && typeof options.message !== 'function') {
      throw new InvalidOptionError('message', `${describeValue(options.message)} is not a function of the event (for a fixed text, pass () => text)`);
    }
    for (const [level, value] of entriesOf('levelTable', options.levelTable ?? {})) checkWholeNumber(`levelTable.${level}`, value, 0);
    // A transport never added to a logger has no level table, and winston-transport then cannot honour its `level` option.
    const withLevels = transport as { levels?: Record<string, number> };
    const table = withLevels.levels ?? { ...(options.levelTable ?? winston.config.npm.levels) };
    // winston-transport drops a line whose level its table lacks, or every line when its own `level` is not in the table: silently.
    for (const [status, level] of entriesOf('levels', options.levels ?? {})) checkLevel(`levels.${status}`, level, table, "the transport's level table");
    if (transport.level !== undefined) checkLevel('transport.level', transport.level, table, "the transport's level table");
    this.transport = transport;
    this.name = options.name ?? `winston:${(transport as { name?: string }).name ?? transport.constructor.name}`;
    this.filter = options.filter;
    this.format = options.format ?? winston.format.json();
    this.levels = options.levels ?? {};
    this.message = options.message ?? ((event) => event.action_type);
    this.timeoutMs = checkMilliseconds('timeoutMs', options.timeoutMs ?? 10_000);
    withLevels.levels = table;
    // Errors reach the write that caused them; without a listener they would crash the process.
    transport.on('error', (err: Error) => this.fail(err));
  }

  /** Checks that every status of the logger's scheme (when it lists them) gets a level the transport has: winston drops an unknown one silently. */
  check(statuses: StatusScheme): void {
    const table = (this.transport as { levels?: Record<string, number> }).levels ?? {};
    for (const status of statuses.statuses ?? []) {
      if (Object.hasOwn(this.levels, status)) continue; // checked at construction
      const level = this.defaultLevel(status, statuses);
      if (!Object.hasOwn(table, level)) {
        throw new InvalidOptionError(`levels.${status}`, `status ${status} would be written at level "${level}", which the transport's level table lacks (${Object.keys(table).join(', ')}): map it in levels`);
      }
    }
  }

  open(context: SinkContext): void {
    this.context = context; // read on each event: the logger's scheme may change with use(plugin)
  }

  write(event: AuditEvent): Promise<void> {
    if (this.closed || this.transport.writableEnded) throw new Error('the winston transport was ended');
    const level = this.levels[event.status] ?? this.defaultLevel(event.status, this.context?.statuses);
    const input: winston.Logform.TransformableInfo = { ...event, level, message: this.message(event) };
    input[LEVEL] = level;
    const info = this.format.transform(input, this.format.options);
    if (typeof info !== 'object') return Promise.resolve(); // the format filtered the line out
    info[MESSAGE] ??= JSON.stringify(info);
    return new Promise<void>((resolve, reject) => {
      const entry = { reject };
      const timer = setTimeout(() => settle(new Error(`the transport did not call back within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
      const settle = (err?: Error | null): void => {
        clearTimeout(timer);
        if (!this.pending.delete(entry)) return;
        if (err) reject(err);
        else resolve();
      };
      entry.reject = (err) => settle(err);
      this.pending.add(entry);
      this.send(() => this.transport.write(info, (err?: Error | null) => settle(err)));
    });
  }

  /** The level by severity, spelt as the transport's table has it: syslog levels say 'warning' where npm levels say 'warn' (an unknown level is dropped silently). */
  private defaultLevel(status: string, scheme: StatusScheme | undefined): string {
    const level = scheme ? levelForStatus(scheme, status) : 'info';
    const table = (this.transport as { levels?: Record<string, number> }).levels ?? {};
    return level === 'warn' && !Object.hasOwn(table, 'warn') && Object.hasOwn(table, 'warning') ? 'warning' : level;
  }

  /** Honours the transport's backpressure: a burst must not reach winston-transport's _writev, which calls log() for all at once. */
  private send(write: () => boolean): void {
    if (this.blocked) {
      this.queue.push(write);
      return;
    }
    if (!write()) this.block();
  }

  private block(): void {
    this.blocked = true;
    this.transport.once('drain', () => {
      this.blocked = false;
      while (!this.blocked && this.queue.length > 0) this.send(this.queue.shift()!);
    });
  }

  /** Resolves once every line sent so far is with the OS (on disk for a File transport). */
  async flush(): Promise<void> {
    await waitUntilIdle(() => this.pending.size > 0 || isBusy(this.transport), this.timeoutMs, `sink "${this.name}"`);
    await syncFileOf(this.transport);
  }

  /** Ends the transport and waits until it has finished writing; idempotent. */
  close(): Promise<void> {
    this.closed ??= this.end();
    return this.closed;
  }

  private async end(): Promise<void> {
    await waitUntilIdle(() => this.pending.size > 0, this.timeoutMs, `sink "${this.name}"`).catch(() => undefined);
    if (!this.transport.writableFinished) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SinkError(this.name, new Error(`the transport did not finish within ${this.timeoutMs} ms`))), this.timeoutMs);
        timer.unref();
        this.transport.once('finish', () => {
          clearTimeout(timer);
          resolve();
        });
        this.transport.end();
      });
    }
    // File finishes once its file stream has; Stream and custom transports may still hold data.
    await waitUntilIdle(() => isBusy(this.transport), this.timeoutMs, `sink "${this.name}"`);
    await syncFileOf(this.transport);
  }

  /** A transport error fails the writes in flight; with none in flight it is reported on the logger's bus. */
  private fail(err: Error): void {
    if (this.pending.size === 0) {
      this.context?.warn('WINSTON_TRANSPORT_ERROR', `sink "${this.name}": ${err.message}`);
      return;
    }
    for (const entry of [...this.pending]) entry.reject(err);
  }
}
