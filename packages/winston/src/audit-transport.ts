// AuditTransport: a winston transport that records the audit lines of an existing winston logger as events of an AuditLogger.
import { checkChoice, checkMilliseconds, describeValue, InvalidOptionError, refuseMisspelledOptions, type ActionCatalog, type AuditLogger } from '@auditrail/core';
import type { Readable } from 'node:stream';
import type winston from 'winston';
import TransportStream from 'winston-transport';
import { waitUntilIdle } from './drain';
import { eventInputFrom, type LineMapping } from './mapping';
import { checkFormat, checkLevel, entriesOf } from './option-checks';

/** Options of an AuditTransport: winston's transport options (level, format, silent) plus these. */
export interface AuditTransportOptions<C extends ActionCatalog = ActionCatalog> extends Omit<TransportStream.TransportStreamOptions, 'log' | 'logv' | 'close'> {
  /** The AuditLogger that records the events. */
  logger: AuditLogger<C>;
  /** Lines without audit fields: 'ignore' them (default) or 'record' them with the message as the action. */
  others?: 'ignore' | 'record';
  /** Status by winston level for lines that name none (default: error → the failure status, warn → WARNING, else success/INFO); each a status of the logger's scheme. */
  levelStatuses?: Readonly<Record<string, string>>;
  /** Longest wait of `drain()` (default 10,000 ms; 1 to 2^31-1). */
  timeoutMs?: number;
}

/** Every option's name, winston's transport options included, for catching misspelled ones (the type check fails when this and AuditTransportOptions disagree). */
export const AUDIT_TRANSPORT_OPTION_NAMES: readonly string[] = Object.keys({
  logger: 0,
  others: 0,
  levelStatuses: 0,
  timeoutMs: 0,
  level: 0,
  format: 0,
  silent: 0,
  handleExceptions: 0,
  handleRejections: 0,
} satisfies Record<keyof AuditTransportOptions, 0>);

/**
 * Turns winston lines carrying audit fields into audit events (see eventInputFrom for the
 * mapping): `logger.info('hp_change', { audit: true, details: { lr: 0.001 } })`. Winston's
 * callback fires only once the AuditLogger has recorded the event (its promise resolved), so
 * winston's backpressure follows the audit log. A refused or failed event is emitted as the
 * transport's 'error' (winston re-emits it on the logger, and pipes the transport again).
 * Before exiting, `await transport.drain()`: winston's own `logger.end()` can end a transport
 * while lines are still buffered upstream of it.
 */
export class AuditTransport<C extends ActionCatalog = ActionCatalog> extends TransportStream {
  /** Transport name, as winston transports have. */
  readonly name = 'auditrail';
  private readonly audit: AuditLogger<C>;
  private readonly mapping: LineMapping;
  private readonly timeoutMs: number;
  private inFlight = 0;
  private source: Readable | undefined;

  constructor(options: AuditTransportOptions<C>) {
    // Before winston-transport takes `level`, `format` and the rest; `levelStatuses` is keyed by level names, not judged here.
    if (typeof options === 'object' && options !== null) refuseMisspelledOptions(options, AUDIT_TRANSPORT_OPTION_NAMES);
    super(options);
    if (!options || typeof options.logger?.logEvent !== 'function') throw new InvalidOptionError('logger', 'must be an AuditLogger');
    const others = checkChoice('others', options.others ?? 'ignore', ['ignore', 'record']);
    // winston-transport calls format.transform on every line: an uncalled factory would fail each one.
    if (options.format !== undefined) checkFormat('format', options.format);
    const scheme = options.logger.statuses;
    for (const [level, status] of entriesOf('levelStatuses', options.levelStatuses ?? {})) {
      if (typeof status !== 'string' || !scheme.isValid(status)) throw new InvalidOptionError(`levelStatuses.${level}`, `${describeValue(status)} is not a status of scheme "${scheme.name}"`);
    }
    this.audit = options.logger;
    this.mapping = { others, levelStatuses: options.levelStatuses ?? {} };
    this.timeoutMs = checkMilliseconds('timeoutMs', options.timeoutMs ?? 10_000);
    // winston pipes a transport again after an 'error'; winston-transport only remembers the first logger, so keep our own.
    this.on('pipe', (source: Readable) => {
      // The winston logger's level table is known only now: a level it lacks would filter out every line, silently.
      const table = (source as { levels?: Record<string, number> }).levels;
      if (!this.source && this.level !== undefined && table) {
        try {
          checkLevel('level', this.level, table, "the winston logger's levels");
        } catch (err) {
          this.detach(source); // the throw leaves winston's add() half done: undo it
          throw err;
        }
      }
      this.source = source;
      (this as { parent?: unknown }).parent = source;
      (this as { levels?: unknown }).levels ??= (source as { levels?: unknown }).levels;
    });
  }

  /** winston-transport's contract: record the line, then call back (after the event is recorded, or has failed). */
  override log(info: winston.Logform.TransformableInfo, callback: () => void): void {
    let recorded: Promise<unknown>;
    try {
      const input = eventInputFrom(info, this.audit.statuses, this.mapping);
      if (!input) {
        callback();
        return;
      }
      recorded = (this.audit as unknown as AuditLogger).logEvent(input);
    } catch (err) {
      recorded = Promise.reject(err);
    }
    this.inFlight++;
    recorded.then(
      () => this.settle(callback, () => this.emit('logged', info)),
      (err: unknown) => this.settle(callback, () => this.emit('error', err)),
    );
  }

  /**
   * Resolves once every line logged so far through the winston logger feeding this transport
   * has been recorded, then flushes the AuditLogger. Call it before `auditLogger.close()`.
   */
  async drain(): Promise<void> {
    await waitUntilIdle(() => this.inFlight > 0 || this.writableLength > 0 || hasBuffered(this.source), this.timeoutMs, 'AuditTransport');
    await this.audit.flush();
  }

  /** On end (winston's logger.end()), the AuditLogger is flushed before the transport reports 'finish'. */
  override _final(callback: (error?: Error | null) => void): void {
    this.audit.flush().then(
      () => callback(),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /**
   * Undoes what winston's `logger.add(this)` did before the 'pipe' listener threw: the pipe (the
   * logger lists its transports from it), winston's 'error'/'warn' listeners (whose 'error'
   * handler would add the transport back), and the level table and parent winston-transport took
   * from that logger. The transport is then as if never added, and can be added to another logger.
   */
  private detach(source: Readable): void {
    source.unpipe(this);
    const self = this as unknown as Record<string, unknown>;
    for (const event of ['error', 'warn']) {
      const listener = self[`__winston${event}`];
      if (typeof listener !== 'function') continue;
      this.off(event, listener as (...args: unknown[]) => void);
      delete self[`__winston${event}`];
    }
    self.levels = undefined;
    self.parent = undefined;
  }

  private settle(callback: () => void, report: () => void): void {
    this.inFlight--;
    try {
      report();
    } finally {
      callback();
    }
  }
}

function hasBuffered(source: Readable | undefined): boolean {
  if (!source) return false;
  const duplex = source as Readable & { writableLength?: number };
  return source.readableLength > 0 || (duplex.writableLength ?? 0) > 0;
}
