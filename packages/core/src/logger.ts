// AuditLogger: builds, validates, enriches, redacts, seals and records events, then publishes them.
//
//   logEvent ─▶ draftFrom (validate, copy details) ─▶ enrichers ─▶ redactors
//            ─▶ Journal.append (lock, seq, seal, write every local file)   ← before logEvent returns
//            ─▶ event sinks (sync ones now, async ones awaited) ─▶ bus 'event' ─▶ DeliveryEngine (batch sinks)
import type { Handler } from 'mitt';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { AuditBus, type AuditBusEventName, type AuditBusEvents } from './bus';
import { checkBoolean, checkChoice, checkMilliseconds } from './option-checks';
import { checkCheckpoints, checkExperimentName, checkLimits, checkRootLogDir, checkStatusScheme, MIN_LOCK_STALE_MS } from './logger-checks';
import { checkBatchSink, checkDeliveryOptions, DeliveryEngine, withTimeout, type DeliveryOptions, type FlushResult } from './delivery/engine';
import type { SinkStats } from './delivery/sink-worker';
import { AuditError, AuditWriteError, InvalidOptionError, LoggerClosedError, RedactionError, SinkError } from './errors';
import type { ActionCatalog, AnyCatalog, AuditEvent, DraftEvent, EventSource, LogEventArgs } from './event';
import { compileFilter, type EventPredicate } from './filter';
import { FORMAT_FILES, resolveFormats } from './format';
import { defaultActorOf, draftFrom, normaliseArgs } from './input';
import { Journal, unrecordedEvent, type Appended } from './journal';
import { checkPlugin, enricherView, type AuditPlugin, type Enricher, type Redactor } from './plugin';
import { readEvents } from './reader/read-events';
import { redactionFor, type Redaction } from './redaction/redaction';
import { countEvent, emptySummary, summarize, type LogSummary } from './reader/summary';
import type { SafeValueLimits } from './safe-value';
import { isBatchSink, type AnySink, type Sink, type SinkContext } from './sink';
import { pipelineStatuses, type StatusScheme } from './statuses';
import { AUDIT_LOGGER_OPTION_NAMES, type AuditLoggerOptions } from './options';
import { refuseMisspelledOptions } from './option-names';

interface RoutedSink {
  sink: Sink;
  accepts: EventPredicate | undefined;
}

/** Records audit events durably and publishes them to sinks and the bus. */
export class AuditLogger<C extends ActionCatalog = AnyCatalog> {
  /** Directory of the local files, absolute; undefined with format 'none'. */
  readonly rootLogDir: string | undefined;
  /** Experiment name recorded in every event's source. */
  readonly experimentName: string | undefined;
  private statusScheme: StatusScheme;
  private readonly bus = new AuditBus();
  private readonly journal: Journal;
  private readonly sinks: RoutedSink[] = [];
  /** False while the constructor runs: see sinkContext().warn. */
  private constructed = false;
  private readonly enrichers: Enricher[] = [];
  private readonly redactors: Redactor[] = [];
  /** Built-in redaction (on unless `redact: false`): secret keys masked inside the details copy, then error, actor and source. */
  private readonly redaction: Redaction | undefined;
  private readonly limits: SafeValueLimits;
  private readonly source: EventSource;
  private readonly onError: 'throw' | 'emit';
  private readonly defaultActor: string | null;
  private readonly pending = new Set<Promise<unknown>>();
  private delivery: DeliveryEngine | undefined;
  private readonly deliveryOptions: DeliveryOptions | undefined;
  /** The JSONL journal the delivery engine reads, when the logger writes one. */
  private readonly jsonlPath: string | undefined;
  /** Counts kept with format 'none', where there is no file to count from (events themselves are not kept). */
  private memorySummary: LogSummary | undefined;
  private closing: Promise<FlushResult> | undefined;
  private flushing: Promise<FlushResult> | undefined;

  constructor(options: AuditLoggerOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', `must be an object, got ${options === null ? 'null' : typeof options}`);
    refuseMisspelledOptions(options, AUDIT_LOGGER_OPTION_NAMES);
    const formats = resolveFormats(options.format);
    this.experimentName = checkExperimentName(options.experimentName);
    this.rootLogDir = formats.length === 0 ? undefined : resolve(checkRootLogDir(options.rootLogDir ?? process.env.AUDIT_LOG_DIR ?? 'audit_logs'));
    // A plugin's scheme wins over the option; take it now, so that the filters of `sinks` are checked against it.
    const plugins = options.plugins ?? [];
    if (!Array.isArray(plugins)) throw new InvalidOptionError('plugins', 'must be a list of plugins');
    plugins.forEach((plugin) => checkPlugin(plugin));
    const pluginScheme = [...plugins].reverse().find((p) => p.statuses);
    this.statusScheme = pluginScheme
      ? checkStatusScheme(pluginScheme.statuses, `plugin "${pluginScheme.name}".statuses`)
      : options.statuses === undefined
        ? pipelineStatuses
        : checkStatusScheme(options.statuses, 'statuses');
    this.onError = checkChoice('onError', options.onError ?? 'throw', ['throw', 'emit'] as const);
    checkDeliveryOptions(options.delivery);
    if (options.delivery?.acknowledged) compileFilter(options.delivery.acknowledged, this.statusScheme, 'delivery.acknowledged', ['sinks', 'timeoutMs']);
    if (options.sinks !== undefined && !Array.isArray(options.sinks)) throw new InvalidOptionError('sinks', 'must be a list of sinks');
    checkSinks([...(options.sinks ?? []), ...(options.plugins ?? []).flatMap((p) => p.sinks ?? [])], this.statusScheme, options.delivery?.policy);
    this.limits = checkLimits(options.limits);
    this.redaction = redactionFor(options.redact, this.limits);
    this.defaultActor = defaultActorOf(options.actor, this.limits.maxStringLength);
    const checkpoints = checkCheckpoints(options.checkpoints, formats);
    const allowSymlink = options.allowSymlink === undefined ? false : checkBoolean('allowSymlink', options.allowSymlink);
    this.journal = new Journal(
      {
        rootLogDir: this.rootLogDir,
        formats,
        order: checkChoice('order', options.order ?? 'oldest-first', ['oldest-first', 'newest-first'] as const),
        fsync: checkChoice('fsync', options.fsync ?? 'interval', ['never', 'interval', 'always'] as const),
        fsyncIntervalMs: checkMilliseconds('fsyncIntervalMs', options.fsyncIntervalMs ?? 1000),
        hmacKey: options.hmacKey ?? (process.env.AUDIT_LOG_HMAC_KEY || undefined),
        lockTimeoutMs: checkMilliseconds('lockTimeoutMs', options.lockTimeoutMs ?? 10_000, 0, Infinity),
        lockStaleMs: checkMilliseconds('lockStaleMs', options.lockStaleMs ?? 30_000, MIN_LOCK_STALE_MS, Infinity),
        allowSymlink,
        maxDetailsBytes: this.limits.maxDetailsBytes,
        checkpoints,
        rotation: options.rotation,
        retention: options.retention,
        system: { status: () => this.statusScheme.defaultStatus, source: () => this.source },
      },
      this.sinkContext(),
    );
    // Keys in canonical (sorted) order, frozen so its JSON is computed once.
    this.source = Object.freeze({
      ...(this.experimentName ? { experiment: this.experimentName } : {}),
      host: hostname(),
      log: this.journal.logId,
      pid: process.pid,
    });
    if (formats.length === 0) this.memorySummary = emptySummary();
    this.deliveryOptions = options.delivery;
    this.jsonlPath = this.rootLogDir !== undefined && formats.includes('jsonl') ? join(this.rootLogDir, FORMAT_FILES.jsonl) : undefined;
    try {
      for (const sink of options.sinks ?? []) this.addSink(sink);
      for (const plugin of options.plugins ?? []) this.install(plugin, this.statusScheme); // the scheme is already the last plugin's
    } catch (err) {
      // Nobody can close a logger that was never returned: let go of its files, lock and sinks now.
      this.journal.abandon();
      void this.delivery?.close({ timeoutMs: 0 }).catch(() => undefined);
      for (const { sink } of this.sinks) void Promise.resolve().then(() => sink.close?.()).catch(() => undefined);
      throw err;
    }
    this.constructed = true;
  }

  /** The status scheme in force. */
  get statuses(): StatusScheme {
    return this.statusScheme;
  }

  /** Paths of the local files written, primary first. */
  get files(): string[] {
    return this.journal.paths;
  }

  /**
   * Registers a plugin: its sinks, status scheme, enrichers and redactors. Everything is checked first (the plugin,
   * its scheme against every sink's filter and check(), its sinks), and a plugin refused then, or whose sink fails
   * to open, leaves the logger as it was: its sinks opened so far are closed again and the scheme is put back.
   */
  use(plugin: AuditPlugin): this {
    if (this.closing) throw new LoggerClosedError();
    checkPlugin(plugin);
    const scheme = plugin.statuses && plugin.statuses !== this.statusScheme ? checkStatusScheme(plugin.statuses, `plugin "${plugin.name}".statuses`) : this.statusScheme;
    return this.install(plugin, scheme);
  }

  /** Installs a checked plugin under `scheme` (switching to it if it is new), all or nothing. */
  private install(plugin: AuditPlugin, scheme: StatusScheme): this {
    const previous = this.statusScheme;
    const switchTo = scheme === previous ? undefined : this.prepareStatuses(scheme);
    const switchBack = switchTo && this.prepareStatuses(previous);
    checkSinks(plugin.sinks ?? [], scheme, this.deliveryOptions?.policy, this.delivery?.sinkNames);
    switchTo?.();
    const added: AnySink[] = [];
    try {
      for (const sink of plugin.sinks ?? []) {
        this.addSink(sink);
        added.push(sink);
      }
    } catch (err) {
      for (const sink of added.reverse()) this.takeBack(sink);
      switchBack?.();
      throw err;
    }
    this.enrichers.push(...(plugin.enrichers ?? []));
    this.redactors.push(...(plugin.redactors ?? []));
    return this;
  }

  /**
   * Checks every sink against `scheme` (filters compiled again, check() called), changing nothing; returns
   * what switches the logger to it. Throws InvalidOptionError naming the sink whose filter or levels do not fit.
   */
  private prepareStatuses(scheme: StatusScheme): () => void {
    const filters = this.sinks.map(({ sink }) => {
      const accepts = compileFilter(sink.filter, scheme, `sink "${sink.name}".filter`);
      sink.check?.(scheme);
      return accepts;
    });
    const switchEngine = this.delivery?.prepareStatuses(scheme);
    return () => {
      this.statusScheme = scheme;
      this.sinks.forEach((routed, i) => (routed.accepts = filters[i]));
      switchEngine?.();
    };
  }

  /** Removes and closes a sink just added by a plugin whose next sink failed. */
  private takeBack(sink: AnySink): void {
    if (isBatchSink(sink)) {
      this.delivery?.removeSink(sink.name);
      return;
    }
    const index = this.sinks.findIndex((routed) => routed.sink === sink);
    if (index >= 0) this.sinks.splice(index, 1);
    void Promise.resolve()
      .then(() => sink.close?.())
      .catch(() => undefined);
  }

  /** Adds a sink; its filter is checked against the status scheme now. */
  addSink(sink: AnySink): this {
    if (this.closing) throw new LoggerClosedError();
    if (isBatchSink(sink)) {
      // Created with the first batch sink, so a cursor starting at the journal's end is taken before any event.
      this.delivery ??= new DeliveryEngine({
        ...this.deliveryOptions,
        bus: this.bus,
        rootLogDir: this.rootLogDir,
        journalPath: this.jsonlPath,
        statuses: this.statusScheme,
        context: this.sinkContext(),
        warn: this.sinkContext().warn, // deferred while the constructor runs, so a handler added right after hears it
        onPoll: () => this.journal.refresh(),
      });
      // The journal writes the outbox under its lock, right after the primary file, and catches it up at each lease.
      if (this.delivery.outbox) this.journal.follow(this.delivery.outbox);
      this.delivery.addSink(sink);
      return this;
    }
    const accepts = checkSink(sink, this.statusScheme);
    sink.open?.(this.sinkContext());
    this.sinks.push({ sink, accepts });
    return this;
  }

  /** Adds a bus handler. */
  on<K extends AuditBusEventName>(type: K, handler: Handler<AuditBusEvents[K]>): this {
    this.bus.on(type, handler);
    return this;
  }

  /** Removes a bus handler. */
  off<K extends AuditBusEventName>(type: K, handler?: Handler<AuditBusEvents[K]>): this {
    this.bus.off(type, handler);
    return this;
  }

  /**
   * Records an event: `logEvent(action, details?, status?)` or `logEvent({ action, status, details, error, actor })`.
   * Every local file holds it before this returns; the promise settles once async sinks (and,
   * with fsync 'always', the disk) have it. Rejects with a typed AuditError on any failure.
   */
  logEvent(...args: LogEventArgs<C>): Promise<AuditEvent> {
    let recorded: { event: AuditEvent; errors: AuditError[]; waits: Promise<unknown>[] };
    try {
      recorded = this.record(args);
    } catch (err) {
      return Promise.reject(err);
    }
    const { event, errors, waits } = recorded;
    // The journal's sync is not tracked when it is the only wait: flush() and close() sync the
    // journal themselves, so they wait for the same fdatasync (and settle after this call).
    const tracked = waits.length > 0;
    if (this.journal.syncsEachEvent) waits.push(this.journal.durable());
    if (waits.length === 0) return errors.length === 0 ? Promise.resolve(event) : this.failed(event, errors);
    if (waits.length === 1) {
      // The common wait (fsync 'always', or one async sink): one promise hop instead of allSettled's array.
      const done = waits[0]!.then(
        () => (errors.length === 0 ? event : this.failed(event, errors)),
        (err: unknown) => this.failed(event, [...errors, asAuditError(err)]),
      );
      if (tracked) this.track(done);
      return done;
    }
    const done = Promise.allSettled(waits).then((results) => {
      for (const r of results) if (r.status === 'rejected') errors.push(asAuditError(r.reason));
      return errors.length === 0 ? event : this.failed(event, errors);
    });
    this.track(done);
    return done;
  }

  /** Counts from what is on disk (every process's events), or from memory with format 'none'. */
  async getLogSummary(): Promise<LogSummary> {
    const primary = this.journal.primaryPath;
    if (!primary) return structuredClone(this.memorySummary ?? emptySummary());
    // The JSONL journal is read from the directory: across its closed segments, not the live file alone.
    return summarize(readEvents(primary === this.jsonlPath ? this.rootLogDir! : primary));
  }

  /**
   * Waits for async sinks, for every batch sink to deliver or dead-letter what was logged before
   * the call (up to `timeoutMs`, default no limit), and syncs the files (unless fsync is 'never').
   * Resolves with a result per batch sink. A concurrent call shares the promise.
   */
  flush(options: { timeoutMs?: number } = {}): Promise<FlushResult> {
    const bad = badTimeout(options);
    if (bad) return Promise.reject(bad);
    if (this.flushing) return this.flushing;
    const started = Date.now();
    const left = (): number | undefined => (options.timeoutMs === undefined ? undefined : Math.max(0, options.timeoutMs - (Date.now() - started)));
    const run = (async () => {
      // Pending logEvent calls may wait on delivery (acknowledged events, a blocked queue): the timeout covers them too.
      await withTimeout(Promise.allSettled([...this.pending]), left());
      await withTimeout(Promise.allSettled(this.sinks.map(({ sink }) => sink.flush?.())), left());
      const delivered = (await this.delivery?.flush({ timeoutMs: left() })) ?? { ok: true, sinks: {} };
      await this.journal.flush();
      return delivered;
    })();
    this.flushing = run.finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /**
   * Flushes and closes everything; idempotent, and a concurrent call shares the promise. Later events are refused.
   * Batch sinks get up to `timeoutMs` (default 10,000 ms) to drain, a flush already running included: what they
   * have not confirmed by then stays in the journal behind their cursors for the next run (with format 'none' it
   * is reported dropped). Each sink's `close()` gets 5,000 ms more. Whatever fails (the flush, a sink's close, the
   * files), everything else is still closed; then the promise rejects with the first failure and the others go
   * to the bus as 'error'.
   */
  close(options: { timeoutMs?: number } = {}): Promise<FlushResult> {
    const bad = this.closing ? undefined : badTimeout(options);
    if (bad) return Promise.reject(bad); // the logger stays open: nothing is dropped for a typo
    this.closing ??= (async () => {
      const failures: AuditError[] = [];
      const attempt = async <T>(step: () => Promise<T> | T, wrap: (err: unknown) => AuditError = asAuditError): Promise<T | undefined> => {
        try {
          return await step();
        } catch (err) {
          failures.push(wrap(err));
          return undefined;
        }
      };
      const timeoutMs = options.timeoutMs ?? 10_000;
      // A flush already running is shared, and may have no timeout of its own: close's timeout bounds the wait.
      const drained = await attempt(() => withTimeout(this.flush({ timeoutMs }), timeoutMs));
      // Stopping the engine ends any wait still running (flushes, acknowledged events) and its keep-alive.
      const stopped = await attempt(() => this.delivery?.close({ timeoutMs: 0 }));
      for (const { sink } of this.sinks) {
        await attempt(
          async () => {
            if ((await withTimeout(Promise.resolve(sink.close?.()).then(() => true), 5_000)) === undefined) throw new Error('close() did not settle within 5000 ms');
          },
          (err) => (err instanceof SinkError && err.sink === sink.name ? err : new SinkError(sink.name, err)),
        );
      }
      await attempt(() => this.journal.close());
      if (failures.length > 0) {
        for (const error of failures.slice(1)) this.bus.emit('error', { error, ...(error instanceof SinkError ? { sink: error.sink } : {}) });
        throw failures[0];
      }
      return drained ?? { ...(stopped ?? { sinks: {} }), ok: false };
    })();
    return this.closing;
  }

  /** Delivery figures per batch sink: delivered, retried, failed, dead-lettered, dropped, lag, state. */
  stats(): Record<string, SinkStats> {
    return this.delivery?.stats() ?? {};
  }

  private record(args: LogEventArgs<C>): { event: AuditEvent; errors: AuditError[]; waits: Promise<unknown>[] } {
    if (this.closing) throw new LoggerClosedError();
    const source = this.enrichers.length > 0 ? { ...this.source } : this.source;
    const draft = draftFrom(normaliseArgs(args), this.statusScheme, this.limits, source, this.defaultActor, this.redaction?.hooks);
    this.process(draft);
    this.redaction?.redactDraft(draft);
    let appended: Appended;
    try {
      appended = this.journal.append(draft);
    } catch (err) {
      // Fail closed by default; with 'emit' the failure goes to the bus and the caller gets the unrecorded event.
      if (this.onError === 'emit' && err instanceof AuditError) return { event: unrecordedEvent(draft), errors: [err], waits: [] };
      throw err;
    }
    const { event, json, errors } = appended;
    const failures: AuditError[] = [...errors];
    const waits: Promise<unknown>[] = [];
    if (this.memorySummary) countEvent(this.memorySummary, event);
    for (const { sink, accepts } of this.sinks) {
      if (accepts && !accepts(event)) continue;
      try {
        const result = sink.write(event, json);
        if (result) waits.push(result.catch((err: unknown) => Promise.reject(new SinkError(sink.name, err))));
      } catch (err) {
        failures.push(new SinkError(sink.name, err));
      }
    }
    this.bus.emit('event', event);
    if (this.delivery) {
      try {
        const wait = this.delivery.enqueue(event, json);
        if (wait) waits.push(wait);
      } catch (err) {
        failures.push(asAuditError(err));
      }
    }
    return { event, errors: failures, waits };
  }

  /** Enrichers may fail without losing the event; a failing redactor fails it, since secrets could leak. */
  private process(draft: DraftEvent): void {
    const view = this.enrichers.length > 0 ? enricherView(draft) : draft;
    for (const enrich of this.enrichers) {
      try {
        enrich(draft.source, view);
      } catch (err) {
        this.bus.emit('warning', { code: 'ENRICHER_FAILED', message: `an enricher threw: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
    if (this.redactors.length === 0) return;
    draft.detailsCanonical = false; // a redactor may add keys out of order
    for (const redact of this.redactors) {
      try {
        redact(draft);
      } catch (err) {
        throw new RedactionError(err);
      }
    }
  }

  private failed(event: AuditEvent, errors: AuditError[]): Promise<AuditEvent> {
    if (this.onError === 'emit') {
      for (const error of errors) this.bus.emit('error', { error, event, ...(error instanceof SinkError ? { sink: error.sink } : {}) });
      return Promise.resolve(event);
    }
    // The promise carries the first failure; any further ones (a second sink, a secondary file) go to the bus, not nowhere.
    for (const error of errors.slice(1)) this.bus.emit('error', { error, event, ...(error instanceof SinkError ? { sink: error.sink } : {}) });
    return Promise.reject(errors[0]);
  }

  private track(promise: Promise<unknown>): void {
    const forget = (): void => {
      this.pending.delete(settled);
    };
    const settled: Promise<void> = promise.then(forget, forget);
    this.pending.add(settled);
  }

  private sinkContext(): SinkContext {
    const logger = this;
    return {
      get rootLogDir() {
        return logger.rootLogDir;
      },
      get statuses() {
        return logger.statusScheme;
      },
      warn: (code, message) => {
        // Warnings raised while the constructor runs (a torn line repaired, a stale lock broken)
        // wait for the synchronous code after it, so that a handler added right away hears them.
        if (this.constructed) this.bus.emit('warning', { code, message });
        else queueMicrotask(() => this.bus.emit('warning', { code, message }));
      },
    };
  }
}

/** Checks a sink with write() (not a batch sink) and compiles its filter. */
function checkSink(sink: Sink, scheme: StatusScheme): EventPredicate | undefined {
  if (typeof sink !== 'object' || sink === null || typeof sink.write !== 'function') {
    throw new InvalidOptionError('sinks', `sink ${JSON.stringify((sink as Partial<Sink> | null)?.name)} has no write() or export()`);
  }
  const accepts = compileFilter(sink.filter, scheme, `sink "${sink.name}".filter`);
  sink.check?.(scheme);
  return accepts;
}

/** Checks the sinks given at construction before anything is created: each sink, and batch sinks' names, filters and policies. */
function checkSinks(sinks: readonly AnySink[], scheme: StatusScheme, policy: DeliveryOptions['policy'], taken: readonly string[] = []): void {
  const batchNames = [...taken];
  for (const sink of sinks) {
    if (typeof sink === 'object' && sink !== null && isBatchSink(sink)) {
      checkBatchSink(sink, scheme, policy, batchNames);
      batchNames.push(sink.name);
    } else checkSink(sink as Sink, scheme);
  }
}

/** The error for a `timeoutMs` of flush or close that is not a number of milliseconds (Infinity: no limit), if it is not. */
function badTimeout(options: { timeoutMs?: number } | undefined): InvalidOptionError | undefined {
  try {
    if (options?.timeoutMs !== undefined) checkMilliseconds('timeoutMs', options.timeoutMs, 0, Infinity);
    return undefined;
  } catch (err) {
    return err as InvalidOptionError;
  }
}

function asAuditError(err: unknown): AuditError {
  return err instanceof AuditError ? err : new AuditWriteError('sink', err);
}

