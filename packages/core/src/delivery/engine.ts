// The delivery engine: feeds every batch sink from the journal (the outbox) or, without local files, a bounded queue.
//
//   logEvent ─▶ Journal.append (audit_log.jsonl, or .delivery/outbox.jsonl) ─▶ engine.enqueue ─▶ notify each SinkWorker
//   SinkWorker: JournalSource (its cursor) ─▶ batches by count/bytes/time ─▶ sink.export(batch, signal) under a timeout
//               ok ─▶ commit cursor │ retryable ─▶ backoff + jitter, Retry-After │ permanent ─▶ dead_letter.jsonl
import { join } from 'node:path';
import type { AuditBus } from '../bus';
import { InvalidOptionError, SinkError } from '../errors';
import type { AuditEvent } from '../event';
import { FORMAT_FILES } from '../format';
import { journalFiles } from '../rotation/segments';
import { compileFilter, type EventFilter, type EventPredicate } from '../filter';
import type { BatchSink, SinkContext } from '../sink';
import type { StatusScheme } from '../statuses';
import { CursorStore, cursorFileName } from './cursor';
import { DeadLetterFile } from './dead-letter';
import { JsonlJournalReader, type SegmentLister } from './journal-reader';
import { MemoryQueue, type MemoryQueueOptions } from './memory-queue';
import { OutboxWriter, outboxFiles, outboxPath } from './outbox';
import { resolvePolicy, type DeliveryPolicy } from './policy';
import { SinkWorker, warnCursorWriteFailed, type SinkState, type SinkStats } from './sink-worker';
import { DeliveryLease } from './lease';
import { checkMilliseconds, checkWholeNumber, MAX_TIMER_MS } from '../option-checks';
import { refuseUnknownOptions } from '../option-names';
import { JournalSource, LeasedJournalSource } from './source';

/** Events whose logEvent waits for chosen sinks to confirm them (compare Vault's blocking audit devices). */
export interface AcknowledgedDelivery extends Omit<EventFilter, 'predicate'> {
  /** Names of the batch sinks that must confirm. */
  sinks: readonly string[];
  /** How long logEvent waits before rejecting with a SinkError (default 30,000 ms); the event is still delivered later. */
  timeoutMs?: number;
}

/** The logger's `delivery` option. */
export interface DeliveryOptions {
  /** Policy for every batch sink; a sink's own `delivery` field overrides it field by field. */
  policy?: Partial<DeliveryPolicy>;
  /** The in-memory queue used with format 'none'. */
  queue?: MemoryQueueOptions;
  /** Events that logEvent only resolves once the named sinks confirmed them ('acknowledged' delivery). */
  acknowledged?: AcknowledgedDelivery;
  /** How often the journal is checked for events other processes appended, and a standby logger checks the lease holder (default 1,000 ms). */
  pollIntervalMs?: number;
  /** Size at which the outbox of a json/csv-only logger is closed as a segment (default 64 MiB); segments go once every cursor left them. */
  outboxSegmentBytes?: number;
}

/** The fields of the `delivery` option (the engine's own options come from the logger). */
const DELIVERY_KEYS = ['policy', 'queue', 'acknowledged', 'pollIntervalMs', 'outboxSegmentBytes'];

/** Longest cursor file name: a file name has 255 bytes, and temp and aside names add a suffix. */
const MAX_CURSOR_NAME_BYTES = 200;

/**
 * Checks a batch sink against the scheme and the logger's policy (its name, which names its cursor file, its
 * filter and its policy), throwing InvalidOptionError naming what is wrong; returns its compiled filter and policy.
 */
export function checkBatchSink(
  sink: BatchSink,
  scheme: StatusScheme,
  basePolicy: Partial<DeliveryPolicy> | undefined,
  takenNames: readonly string[],
  filter?: EventFilter,
): { accepts: EventPredicate | undefined; policy: DeliveryPolicy } {
  if (typeof sink.name !== 'string' || sink.name === '') throw new InvalidOptionError('sinks', 'a batch sink needs a non-empty name');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(sink.name)) throw new InvalidOptionError('sinks', `the name of batch sink ${JSON.stringify(sink.name)} contains control characters`);
  if (takenNames.includes(sink.name)) {
    throw new InvalidOptionError('sinks', `two batch sinks are named "${sink.name}": each needs its own name (it names the sink's cursor file)`);
  }
  if (Buffer.byteLength(cursorFileName(sink.name)) > MAX_CURSOR_NAME_BYTES) {
    throw new InvalidOptionError('sinks', `the name of batch sink ${JSON.stringify(sink.name.slice(0, 40) + '…')} is too long: it names its cursor and lease files (at most ${MAX_CURSOR_NAME_BYTES} bytes once percent-encoded)`);
  }
  const accepts = compileFilter(filter ?? sink.filter, scheme, `sink "${sink.name}".filter`);
  const policy = resolvePolicy(`sink "${sink.name}".delivery`, basePolicy, sink.delivery);
  sink.check?.(scheme);
  return { accepts, policy };
}

/** Throws InvalidOptionError naming the first bad field of `options` (the logger checks them before it creates anything); `exactKeys` refuses fields it does not know. */
export function checkDeliveryOptions(options: DeliveryOptions | undefined, exactKeys = true): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError('delivery', 'must be an object');
  // A typo (`pollIntervallMs`) would be ignored without a word: refuse fields it does not have.
  if (exactKeys) refuseUnknownOptions(options, DELIVERY_KEYS, 'delivery');
  resolvePolicy('delivery.policy', options.policy);
  const segmentBytes = options.outboxSegmentBytes;
  if (segmentBytes !== undefined && !(Number.isInteger(segmentBytes) && segmentBytes > 0)) {
    throw new InvalidOptionError('delivery.outboxSegmentBytes', `must be a whole number of bytes above 0, got ${String(segmentBytes)}`);
  }
  if (options.pollIntervalMs !== undefined) checkMilliseconds('delivery.pollIntervalMs', options.pollIntervalMs);
  if (options.queue !== undefined) {
    if (typeof options.queue !== 'object' || options.queue === null || Array.isArray(options.queue)) throw new InvalidOptionError('delivery.queue', 'must be an object { maxEvents?, overflow? }');
    refuseUnknownOptions(options.queue, ['maxEvents', 'overflow'], 'delivery.queue');
  }
  const { maxEvents, overflow } = options.queue ?? {};
  if (maxEvents !== undefined) checkWholeNumber('delivery.queue.maxEvents', maxEvents, 1);
  if (overflow !== undefined && !['block', 'drop-oldest', 'drop-newest'].includes(overflow)) {
    throw new InvalidOptionError('delivery.queue.overflow', `must be "block", "drop-oldest" or "drop-newest", got ${JSON.stringify(overflow)}`);
  }
  const ack = options.acknowledged;
  if (ack !== undefined) {
    if (typeof ack !== 'object' || ack === null) throw new InvalidOptionError('delivery.acknowledged', 'must be an object naming the sinks that must confirm');
    if (!Array.isArray(ack.sinks) || ack.sinks.length === 0 || ack.sinks.some((name) => typeof name !== 'string' || name === '')) {
      throw new InvalidOptionError('delivery.acknowledged.sinks', 'must name at least one batch sink');
    }
    if (ack.timeoutMs !== undefined) checkMilliseconds('delivery.acknowledged.timeoutMs', ack.timeoutMs, 1, Infinity); // Infinity: wait for confirmation
  }
}

/** What the logger gives the engine. */
export interface DeliveryEngineOptions extends DeliveryOptions {
  /** The logger's bus. */
  bus: AuditBus;
  /** The logger's directory (cursors, dead letters), if any. */
  rootLogDir: string | undefined;
  /** The JSONL journal to read; when undefined and rootLogDir is set, the engine keeps its own outbox. */
  journalPath: string | undefined;
  /** Lists the journal's segments, oldest first (rotation); default: the journal file alone. */
  segments?: SegmentLister;
  /** The logger's status scheme, for filters. */
  statuses: StatusScheme;
  /** What sinks' `open()` receives (live: a later status scheme shows through); default built from the fields here. */
  context?: SinkContext;
  /** Reports a non-fatal problem. */
  warn(code: string, message: string): void;
  /** Called at each poll when the engine keeps an outbox: the logger catches it up from its primary file (events other writers logged). */
  onPoll?: () => void;
}

/** One sink's part of a flush result. */
export interface SinkFlushResult {
  /** Whether everything logged before the flush was delivered, dead-lettered or dropped. */
  done: boolean;
  /** Events confirmed during the flush. */
  delivered: number;
  /** Events dead-lettered during the flush. */
  deadLettered: number;
  /** Events dropped during the flush. */
  dropped: number;
  /** Events still to settle when the flush returned. */
  pending: number;
  /** The sink's health. */
  state: SinkState;
  /** Its last failure, if any. */
  lastError: string | null;
}

/** What `flush()` and `close()` report. */
export interface FlushResult {
  /** Whether every sink is done. */
  ok: boolean;
  /** Per batch sink, by name. */
  sinks: Record<string, SinkFlushResult>;
}

/** Feeds batch sinks: one worker per sink, the journal as the outbox, dead letters on disk. */
export class DeliveryEngine {
  private readonly workers: SinkWorker[] = [];
  /** The outbox of a json/csv-only logger: the logger has its journal write it (Journal.follow). */
  readonly outbox: OutboxWriter | undefined;
  private readonly journalPath: string | undefined;
  private readonly segments: SegmentLister | undefined;
  private readonly deadLetters: DeadLetterFile;
  private readonly poll: NodeJS.Timeout | undefined;
  private ackFilter: EventPredicate | undefined;
  /** The logger's status scheme, which use(plugin) may change. */
  private statuses: StatusScheme;
  /** The filter each sink was added with (its own, or the one given to addSink), to compile again for a new scheme. */
  private readonly filters = new Map<string, EventFilter | undefined>();
  private closing: Promise<FlushResult> | undefined;
  private holds = 0;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly options: DeliveryEngineOptions) {
    checkDeliveryOptions(options, false); // the engine's own options ride along: checked by the logger with exact keys
    this.statuses = options.statuses;
    this.deadLetters = new DeadLetterFile(options.rootLogDir);
    if (options.journalPath === undefined && options.rootLogDir !== undefined) {
      this.outbox = new OutboxWriter(outboxPath(options.rootLogDir), options.outboxSegmentBytes);
      this.journalPath = this.outbox.path;
    } else {
      this.journalPath = options.journalPath;
    }
    // The journal's rotated segments (audit_log.<first>_<last>.jsonl), oldest first, then the live file.
    const dir = options.rootLogDir;
    if (options.segments) this.segments = options.segments;
    else if (dir !== undefined && this.journalPath === join(dir, FORMAT_FILES.jsonl)) this.segments = () => journalFiles(dir);
    else if (this.outbox) this.segments = () => outboxFiles(join(dir!, '.delivery'));
    const ack = options.acknowledged;
    if (ack) {
      if (!Array.isArray(ack.sinks) || ack.sinks.length === 0) throw new InvalidOptionError('delivery.acknowledged.sinks', 'must name at least one batch sink');
      this.ackFilter = compileFilter(ack, this.statuses, 'delivery.acknowledged', ['sinks', 'timeoutMs']) ?? (() => true);
    }
    if (this.journalPath !== undefined) {
      this.poll = setInterval(() => {
        if (this.outbox) options.onPoll?.();
        this.workers.forEach((w) => w.pump());
      }, options.pollIntervalMs ?? 1000);
      this.poll.unref();
    }
  }

  /** Whether sinks are fed from the journal (true) or from the in-memory queue (false). */
  get durable(): boolean {
    return this.journalPath !== undefined;
  }

  /** Adds a batch sink; its name must be unique (it names the cursor file). */
  addSink(sink: BatchSink, filter?: EventFilter): void {
    if (this.closing) throw new InvalidOptionError('sinks', `cannot add sink "${sink.name}": delivery is closing`);
    const { accepts, policy } = checkBatchSink(sink, this.statuses, this.options.policy, this.workers.map((w) => w.name), filter);
    const { rootLogDir, warn } = this.options;
    sink.open?.(this.options.context ?? { rootLogDir, statuses: this.statuses, warn });
    const context = { bus: this.options.bus, deadLetters: this.deadLetters, warn: this.options.warn };
    let worker: SinkWorker;
    if (this.journalPath !== undefined) {
      const path = this.journalPath;
      const dir = join(this.options.rootLogDir!, '.delivery');
      const cursor = new CursorStore(dir, sink.name, undefined, (err) => warnCursorWriteFailed(this.options.warn, sink.name, err));
      const lease = new DeliveryLease(join(dir, cursorFileName(sink.name).replace(/\.cursor$/, '.lease')), {
        onStale: (message) => this.options.warn('STALE_LEASE_BROKEN', `sink "${sink.name}": ${message}`),
        onLost: (message) => this.options.warn('LEASE_LOST', `sink "${sink.name}": ${message}`),
      });
      const relocated = (message: string): void => this.options.warn('CURSOR_RELOCATED', `sink "${sink.name}": ${message}`);
      const lead = (): JournalSource => new JournalSource(new JsonlJournalReader(path, this.segments, relocated), cursor, policy.startFrom, this.options.warn);
      const source = new LeasedJournalSource(lease, cursor, lead, this.options.warn, this.options.pollIntervalMs ?? 1000);
      try {
        const tail = new JsonlJournalReader(path, this.segments);
        try {
          worker = new SinkWorker(sink, accepts, source, policy, context, tail.start('end').seq);
        } finally {
          tail.close();
        }
      } catch (err) {
        try {
          source.close(); // gives the lease back
        } catch {
          // the first error is the one to report
        }
        throw err;
      }
    } else {
      const { maxEvents = 10_000, overflow = 'drop-newest' } = this.options.queue ?? {}; // checked by checkDeliveryOptions
      const queue: MemoryQueue = new MemoryQueue(maxEvents, overflow, (events) => worker.dropped(events, overflow));
      worker = new SinkWorker(sink, accepts, queue, policy, context, 0);
    }
    this.workers.push(worker);
    this.filters.set(sink.name, filter ?? sink.filter);
    worker.pump(); // a backlog left by an earlier run starts now
  }

  /**
   * Checks every sink's filter and check(), and the acknowledged filter, against a new status scheme, changing
   * nothing; returns what switches the engine to it. Throws InvalidOptionError naming what does not fit.
   */
  prepareStatuses(scheme: StatusScheme): () => void {
    const filters = this.workers.map((worker) => {
      const accepts = compileFilter(this.filters.get(worker.name), scheme, `sink "${worker.name}".filter`);
      worker.sink.check?.(scheme);
      return accepts;
    });
    const ack = this.options.acknowledged;
    const ackFilter = ack ? (compileFilter(ack, scheme, 'delivery.acknowledged', ['sinks', 'timeoutMs']) ?? (() => true)) : undefined;
    return () => {
      this.statuses = scheme;
      this.workers.forEach((worker, i) => worker.refilter(filters[i]));
      this.ackFilter = ackFilter;
    };
  }

  /** Takes back a sink just added (a plugin whose next sink failed to open): stops its worker, gives its lease back, shuts it down. */
  removeSink(name: string): void {
    const index = this.workers.findIndex((worker) => worker.name === name);
    if (index < 0) return;
    const [worker] = this.workers.splice(index, 1);
    this.filters.delete(name);
    worker!.stop();
    try {
      worker!.source.close();
    } catch {
      // nothing was delivered through it: its cursor is as it was
    }
    void Promise.resolve()
      .then(() => worker!.sink.shutdown?.())
      .catch(() => undefined);
  }

  /** Names of the sinks fed. */
  get sinkNames(): string[] {
    return this.workers.map((w) => w.name);
  }

  /**
   * Takes an event the logger just recorded (its line is already in the journal, or in the outbox,
   * which the journal writes right after its primary file). Returns a
   * promise when logEvent must wait: an acknowledged event, or a full queue under 'block'.
   */
  enqueue(event: AuditEvent, json: string): Promise<unknown> | undefined {
    if (this.closing) return undefined;
    const bytes = json.length + 1;
    const waits: Promise<unknown>[] = [];
    // Registered before the workers hear of the event, so a quick confirmation is not missed.
    if (this.ackFilter && this.ackFilter(event)) waits.push(this.acknowledged(event));
    for (const worker of this.workers) {
      if (this.journalPath === undefined) {
        if (!worker.wants(event)) continue;
        const blocked = (worker.source as MemoryQueue).push(event, bytes);
        if (blocked) waits.push(blocked);
      }
      worker.notify(event.seq, bytes);
    }
    if (waits.length === 0) return undefined;
    return waits.length === 1 ? waits[0] : Promise.all(waits);
  }

  /** Resolves when everything enqueued before the call is settled for every sink, or when `timeoutMs` passes. */
  async flush(options: { timeoutMs?: number } = {}): Promise<FlushResult> {
    const before = new Map(this.workers.map((w) => [w.name, w.stats()] as const));
    // Everything enqueued so far has a seq at most the newest one seen: wait for that, not for later events.
    const marks = new Map(this.workers.map((w) => [w, w.lastSeen] as const));
    await this.holding(withTimeout(Promise.all([...marks].map(([w, seq]) => w.settledThrough(seq))), options.timeoutMs));
    const sinks: Record<string, SinkFlushResult> = {};
    for (const worker of this.workers) {
      const now = worker.stats();
      const then = before.get(worker.name)!;
      sinks[worker.name] = {
        done: worker.isSettled(marks.get(worker)!),
        delivered: now.delivered - then.delivered,
        deadLettered: now.deadLettered - then.deadLettered,
        dropped: now.dropped - then.dropped,
        pending: now.lag,
        state: now.state,
        lastError: now.lastError,
      };
    }
    return { ok: Object.values(sinks).every((s) => s.done), sinks };
  }

  /** Drains for up to `timeoutMs` (default 10,000 ms), then stops: undelivered journal events wait behind the cursors, queued ones are reported dropped. */
  close(options: { timeoutMs?: number } = {}): Promise<FlushResult> {
    this.closing ??= (async () => {
      const result = await this.flush({ timeoutMs: options.timeoutMs ?? 10_000 });
      if (this.poll) clearInterval(this.poll);
      for (const worker of this.workers) {
        const abandoned = worker.stop();
        if (this.journalPath === undefined) {
          const left = [...abandoned, ...(worker.source as MemoryQueue).drain()];
          if (left.length > 0) worker.dropped(left, 'close');
        }
      }
      await Promise.allSettled(this.workers.map((w) => withTimeout(Promise.resolve(w.sink.shutdown?.()), 5_000)));
      for (const worker of this.workers) {
        try {
          worker.source.close();
        } catch (err) {
          warnCursorWriteFailed(this.options.warn, worker.name, err);
        }
      }
      this.outbox?.close();
      return result;
    })();
    return this.closing;
  }

  /** Figures per sink, by name. */
  stats(): Record<string, SinkStats> {
    return Object.fromEntries(this.workers.map((w) => [w.name, w.stats()]));
  }

  private acknowledged(event: AuditEvent): Promise<void> {
    const ack = this.options.acknowledged!;
    const timeoutMs = ack.timeoutMs ?? 30_000;
    const waits = ack.sinks.map((name) => {
      const worker = this.workers.find((w) => w.name === name);
      if (!worker) return Promise.reject(new SinkError(name, new Error('delivery.acknowledged names a batch sink the logger does not have')));
      if (!worker.wants(event)) return Promise.resolve();
      const confirmed = worker.acknowledgement(event.id, event.seq).then(() => true);
      return withTimeout(confirmed, timeoutMs).then((done) => {
        if (done === undefined) throw new SinkError(name, new Error(`event ${event.id} not confirmed within ${timeoutMs} ms (it stays queued for delivery)`));
      });
    });
    return this.holding(Promise.all(waits).then(() => undefined));
  }

  /**
   * Keeps the process alive while someone awaits delivery (a flush, an acknowledged event):
   * the engine's own timers are unref'd, so without this a script's `await logger.flush()`
   * could end with the process, mid-retry.
   */
  private holding<T>(promise: Promise<T>): Promise<T> {
    if (this.holds++ === 0) this.keepAlive = setInterval(() => undefined, 1 << 30);
    return promise.finally(() => {
      if (--this.holds === 0) clearInterval(this.keepAlive);
    });
  }
}

/** The promise's value, or undefined once `ms` passed (never, when ms is undefined); the timer is unref'd. */
export function withTimeout<T>(promise: Promise<T>, ms: number | undefined): Promise<T | undefined> {
  if (ms === undefined || ms > MAX_TIMER_MS) return promise; // past a timer's range (Infinity included): no limit, not none
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
