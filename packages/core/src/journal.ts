// The local files of one log directory: the lock, the tail (seq and hash), sealing and durable writes.
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { BinaryLike, KeyObject } from 'node:crypto';
import { formatTimestamp, processClock } from './clock';
import type { AuditEvent, Details, DraftEvent, EventSource } from './event';
import { AuditError, AuditWriteError, InvalidOptionError } from './errors';
import { FileLock } from './files/lock';
import { cannotLink, createExclusive, ensurePrivateDir } from './files/fs-util';
import { sleepSync } from './files/sleep';
import { FORMAT_FILES, type LogFormat } from './format';
import { uuidv7 } from './id';
import { ChainHasher, GENESIS_HASH, sealEvent } from './seal';
import { canonicalJson } from './canonical';
import { capDetails } from './safe-value';
import { CheckpointWriter, type CheckpointOptions } from './integrity/checkpoints';
import { JournalRotation, type SystemEventContext } from './rotation/journal-rotation';
import type { RetentionOptions, RotationOptions } from './rotation/policy';
import type { SinkContext } from './sink';
import { CsvFile } from './sinks/csv-file';
import { JsonArrayFile, type JsonArrayOrder } from './sinks/json-array-file';
import { JsonlFile } from './sinks/jsonl-file';
import type { LogFile, TailState } from './sinks/log-file';
import type { JournalFollower } from './delivery/outbox';

/** A secondary file further behind the primary than this was added to an existing log, not left behind by a crash. */
const MAX_CATCH_UP = 64;

/** The real setImmediate, taken at load: a test that fakes timers must not stall durable writes. */
const realSetImmediate = setImmediate;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

/**
 * `context` with its warnings emitted in a microtask: a handler that logs (to this directory, or
 * to another one whose lock is taken) must not run inside a write, under a lease still being
 * prepared (it would append with a stale tail, or take the lease over, or wait while holding it).
 */
function afterTheCall(context: SinkContext): SinkContext {
  return {
    get rootLogDir() {
      return context.rootLogDir;
    },
    get statuses() {
      return context.statuses;
    },
    warn: (code, message) => queueMicrotask(() => context.warn(code, message)),
  };
}

/** A sync queued to begin after the one before it. */
interface QueuedSync {
  /** Settles when the sync ends. */
  readonly promise: Promise<void>;
  /** Begins it now (once; later calls do nothing). */
  begin(): void;
}

/** When written data is forced to stable storage. */
export type FsyncPolicy = 'never' | 'interval' | 'always';

/** Options of the journal. */
export interface JournalOptions {
  /** Directory of the log, or undefined for none. */
  rootLogDir: string | undefined;
  /** Formats to write. */
  formats: Exclude<LogFormat, 'none'>[];
  /** Order of the JSON array. */
  order: JsonArrayOrder;
  /** fsync policy. */
  fsync: FsyncPolicy;
  /** Window of the 'interval' policy. */
  fsyncIntervalMs: number;
  /** Key for HMAC-SHA256 hashes, if any. */
  hmacKey: BinaryLike | KeyObject | undefined;
  /** How long to wait for another writer's lock. */
  lockTimeoutMs: number;
  /** When a lock from another host or pid namespace is taken as stale. */
  lockStaleMs: number;
  /** Allow log files to be symbolic links. */
  allowSymlink: boolean;
  /** Details larger than this (serialised bytes) are cut. */
  maxDetailsBytes: number;
  /** Signed checkpoints, if enabled. */
  checkpoints?: CheckpointOptions | undefined;
  /** Rotation of the JSONL journal into closed segments, if enabled. */
  rotation?: RotationOptions | undefined;
  /** Retention of closed segments, if enabled. */
  retention?: RetentionOptions | undefined;
  /** Status and source of the events the journal records itself (retention). */
  system?: SystemEventContext | undefined;
}

/** What one append produced. */
export interface Appended {
  /** The sealed event. */
  event: AuditEvent;
  /** Its JSON line (no newline). */
  json: string;
  /** Failures of secondary files (the event is recorded in the primary one). */
  errors: AuditError[];
}

/** Seals events and writes them to the local files, in order, across processes. */
export class Journal {
  private readonly files: LogFile[];
  private readonly lock: FileLock | undefined;
  private tail: TailState = { seq: 0, hash: undefined };
  /** The next sync, queued to begin once the one before it has ended. */
  private nextSync: QueuedSync | undefined;
  /** The latest sync queued or begun, settled (the next one begins after it). */
  private syncRunning: Promise<void> = Promise.resolve();
  /** The latest sync begun: what a caller with nothing new to sync waits for (its failure included). */
  private lastBegun: Promise<void> = Promise.resolve();
  /** Whether a sync has begun and its end not been seen yet. */
  private syncing = false;
  /** How long the last sync took (ms); Infinity until one has been timed. */
  private lastSyncMs = Infinity;
  /** When the oldest write not covered by a begun sync was made (performance.now()). */
  private dirtySince = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly hasher: ChainHasher;
  private readonly sourceCache = new WeakMap<EventSource, string>();
  /** The log id, random until read from the directory. */
  private id: string = uuidv7(processClock.nowUs());
  /** The random id handed out before the directory was prepared (a logger's source may hold it), once replaced. */
  private provisionalId: string | undefined;
  /** Whether the directory is prepared (created, log id read); retried at each lease until it is. */
  private dirReady = false;
  /** The logger's source with a stale log id (before the directory was prepared) and its corrected copy. */
  private sourceFix: { from: EventSource; to: EventSource } | undefined;
  /** Whether the files have been prepared (opened, repaired, tail read) in the lease now held. */
  private leaseReady = false;
  /** Secondary files that could not be prepared in this lease: their writes are skipped and reported. */
  private readonly skipped = new Map<LogFile, AuditError>();
  /** Secondary files this writer failed to write: caught up however far behind (not taken for a format added later). */
  private readonly leftBehind = new Set<LogFile>();
  /** The last seq each file holds, as far as this writer knows. */
  private readonly held = new Map<LogFile, number>();
  /** Signs the chain every N events and on close, when enabled. */
  private checkpoints: CheckpointWriter | undefined;
  /** Rotates the JSONL journal and applies retention, when enabled. */
  private rotation: JournalRotation | undefined;
  /** Written right after the primary file and caught up at each lease (the delivery outbox of a json/csv-only log). */
  private follower: JournalFollower | undefined;
  /** Set by abandon(): nothing takes the lock again. */
  private abandoned = false;

  /** The logger's context, its warnings emitted once the call that raised them is done. */
  private readonly context: SinkContext;

  constructor(private readonly options: JournalOptions, context: SinkContext) {
    this.context = afterTheCall(context);
    this.hasher = new ChainHasher(options.hmacKey);
    const dir = options.rootLogDir;
    this.files = dir === undefined ? [] : options.formats.map((format) => this.createFile(dir, format));
    if (dir === undefined || this.files.length === 0) return;
    this.lock = new FileLock(join(dir, 'audit_log.lock'), {
      timeoutMs: options.lockTimeoutMs,
      staleMs: options.lockStaleMs,
      onStale: (message) => this.context.warn('STALE_LOCK_BROKEN', message),
      onLost: (message) => this.context.warn('LOCK_LOST', message),
    });
    if (options.rotation || options.retention) this.rotation = this.createRotation(options);
    try {
      this.beginLease();
    } catch (err) {
      if (err instanceof InvalidOptionError) {
        this.abandon();
        throw err;
      }
      // Not thrown here: an audit logger reports write failures where events are logged (rejecting
      // logEvent, or on the bus with onError 'emit'). A directory not there yet (an unmounted volume,
      // EACCES), a file in the way or a lock held too long: every lease retries until it works.
    }
    if (options.fsync === 'interval') {
      this.timer = setInterval(() => void this.syncIfDirty(), options.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /** Identity of this log's chain (`source.log` of every event): kept in `{rootLogDir}/audit_log.id`, random without files. */
  get logId(): string {
    return this.id;
  }

  /** Paths of the files written, primary first. */
  get paths(): string[] {
    return this.files.map((file) => file.path);
  }

  /** The primary file (the one seq and hash are read back from), if any. */
  get primaryPath(): string | undefined {
    return this.files[0]?.path;
  }

  /**
   * Feeds `follower` every event, under the lock, right after the primary file (so no event is in a
   * local file but not in it), and catches it up now and at each lease; `refresh()` catches it up again.
   */
  follow(follower: JournalFollower): void {
    this.follower = follower;
    this.refresh();
  }

  /** Takes a new lease, so that the follower copies what other writers (or a crash) left it without; failures are warned. */
  refresh(): void {
    if (this.abandoned) return; // a delivery poll still due after the logger's construction failed
    this.leaseReady = false; // held or not: prepare the lease again, which runs the catch-up
    try {
      this.underLease(() => this.beginLease());
    } catch (err) {
      this.context.warn('OUTBOX_CATCH_UP_FAILED', `cannot read the log to catch the outbox up: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Seals a draft into the next event and writes it to every file before returning. */
  append(draft: DraftEvent): Appended {
    return this.underLease(() => {
      this.beginLease();
      if (this.rotation) this.maintain();
      return this.appendLeased(draft);
    });
  }

  /** Runs `fn` with the lease marked in use (see FileLock.inUse). */
  private underLease<T>(fn: () => T): T {
    return this.lock ? this.lock.inUse(fn) : fn();
  }

  /** Rotation and retention, under the lock: retention events enter the chain before the segments they record are deleted. */
  private maintain(): void {
    const plan = this.rotation!.beforeAppend(Date.now());
    if (plan.records.length === 0) return;
    for (const record of plan.records) {
      for (const error of this.appendLeased(record).errors) this.context.warn('RETENTION_RECORD_INCOMPLETE', error.message);
    }
    plan.commit();
  }

  private createRotation(options: JournalOptions): JournalRotation {
    const jsonl = this.files.find((file): file is JsonlFile => file instanceof JsonlFile);
    const option = options.rotation ? 'rotation' : 'retention';
    if (!jsonl) throw new InvalidOptionError(option, 'applies to the JSONL journal: add "jsonl" to format');
    if (!options.system) throw new InvalidOptionError(option, 'needs the logger context for retention events');
    return new JournalRotation(jsonl, options, options.system, (code, message) => this.context.warn(code, message));
  }

  /** Seals a draft and writes it to every file, under the lease already held. */
  private appendLeased(draft: DraftEvent): Appended {
    const us = processClock.nowUs();
    const serialised = this.serialiseDetails(draft);
    const source = this.sourceOf(draft.source);
    const { event, json } = sealEvent(
      {
        id: uuidv7(us),
        seq: this.tail.seq + 1,
        timestamp: formatTimestamp(us),
        action_type: draft.action_type,
        status: draft.status,
        details: serialised.details,
        detailsJson: serialised.detailsJson,
        error: draft.error,
        actor: draft.actor,
        source,
        sourceJson: this.sourceJson(source),
        prev_hash: this.tail.hash ?? GENESIS_HASH,
      },
      this.hasher,
    );
    const errors: AuditError[] = [];
    this.files[0]?.write(event, json); // throws: the event is recorded nowhere and the tail stays
    this.tail = { seq: event.seq, hash: event.hash };
    if (this.files.length > 1) this.held.set(this.files[0]!, event.seq);
    if (this.follower) {
      try {
        this.follower.append(event, json);
      } catch (err) {
        errors.push(err instanceof AuditError ? err : new AuditWriteError('outbox', err));
        this.leaseReady = false; // the next append catches the follower up first
      }
    }
    for (let i = 1; i < this.files.length; i++) {
      const unprepared = this.skipped.get(this.files[i]!);
      if (unprepared) {
        errors.push(unprepared);
        continue;
      }
      try {
        this.files[i]!.write(event, json);
        this.held.set(this.files[i]!, event.seq);
      } catch (err) {
        const error = err instanceof AuditWriteError ? err : new AuditWriteError(this.files[i]!.path, err);
        errors.push(error);
        // A later event written here would leave a hole that catch-up (which copies after the last
        // seq held) never fills: skip the file and start a new lease at the next append, whose
        // catch-up copies this event first (or skips the file again if it still fails).
        this.skipped.set(this.files[i]!, error);
        this.leftBehind.add(this.files[i]!);
        this.leaseReady = false;
      }
    }
    if (this.checkpoints) {
      try {
        this.checkpoints.afterAppend(event.seq, event.hash);
      } catch (err) {
        errors.push(err instanceof AuditError ? err : new AuditWriteError(this.checkpoints.path, err));
      }
    }
    this.markDirty();
    return { event, json, errors };
  }

  /**
   * Resolves once everything appended so far is on stable storage. Group commit: the writes made
   * while one sync runs share the next. That one begins on the turn after the one before it ended,
   * so that callers resumed by a sync write their next events first; or here, mid-turn, when no
   * sync runs and the oldest write waiting is older than the last sync took, so that a long turn
   * of writes overlaps the disk's work instead of waiting for it (a pipeline of two groups).
   */
  durable(): Promise<void> {
    if (this.files.length === 0) return Promise.resolve();
    // Nothing written since the last sync began: waiting for that one is enough (and learning if it failed).
    if (!this.dirty && !this.nextSync) return this.lastBegun;
    const next = (this.nextSync ??= this.queueSync());
    if (!this.syncing && this.dirty && performance.now() - this.dirtySince >= this.lastSyncMs) next.begin();
    return next.promise;
  }

  /** Queues a sync to begin on the turn after the latest one ends (unless begun earlier). */
  private queueSync(): QueuedSync {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    let begun = false;
    const queued: QueuedSync = {
      promise,
      begin: () => {
        if (begun) return;
        begun = true;
        if (this.nextSync === queued) this.nextSync = undefined;
        this.syncing = true;
        this.lastBegun = promise;
        const started = performance.now();
        let ended: Promise<void>;
        try {
          ended = this.syncAll();
        } catch (err) {
          this.markDirty(); // not known to be on disk
          ended = Promise.reject(err);
        }
        ended.then(
          () => {
            this.lastSyncMs = performance.now() - started;
            this.syncing = false;
            resolve();
          },
          (err: unknown) => {
            this.syncing = false;
            reject(err);
          },
        );
      },
    };
    void this.syncRunning.then(nextTurn).then(queued.begin);
    this.syncRunning = promise.catch(() => undefined);
    return queued;
  }

  /** Whether `logEvent` must wait for fsync. */
  get syncsEachEvent(): boolean {
    return this.options.fsync === 'always';
  }

  /** Flushes to stable storage unless the policy is 'never'. */
  flush(): Promise<void> {
    return this.options.fsync === 'never' ? Promise.resolve() : this.durable();
  }

  /** Closes the files and lets go of the lock at once, without syncing or signing (a logger whose construction failed). */
  abandon(): void {
    this.abandoned = true;
    this.letGo(); // the constructor's error is the one to report
  }

  /** Syncs (unless 'never'), closes the files and releases the lock. */
  async close(): Promise<void> {
    try {
      this.signTailOnClose();
      await this.flush();
    } finally {
      const failed = this.letGo();
      // A copy still being prepared in the background is removed once its current step ends.
      await Promise.all(this.files.map((file) => file.settled()));
      if (failed) throw failed.error;
    }
  }

  /** Stops the sync timer, closes the files and lets go of the lock: every step runs; the first failure is returned. */
  private letGo(): { error: unknown } | undefined {
    if (this.timer) clearInterval(this.timer);
    let failed: { error: unknown } | undefined;
    for (const step of [...this.files.map((file) => () => file.close()), () => this.checkpoints?.close(), () => this.lock?.dispose()]) {
      try {
        step();
      } catch (error) {
        failed ??= { error };
      }
    }
    return failed;
  }

  /** Notes that data was written that no begun sync covers, and since when. */
  private markDirty(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.dirtySince = performance.now();
  }

  private syncAll(): Promise<void> {
    this.dirty = false;
    const files: Pick<LogFile, 'flush'>[] = this.checkpoints ? [...this.files, this.checkpoints] : this.files;
    return Promise.all(files.map((file) => file.flush())).then(
      () => undefined,
      (err: unknown) => {
        this.markDirty(); // not known to be on disk: the next flush must try again, not report success
        throw err;
      },
    );
  }

  /** A closing writer signs the chain's tail (under the lock: another writer may have appended since). */
  private signTailOnClose(): void {
    if (!this.checkpoints || !this.dirReady) return;
    const checkpoints = this.checkpoints;
    this.underLease(() => {
      this.beginLease();
      checkpoints.onClose(this.tail.seq, this.tail.hash);
    });
    this.markDirty(); // the closing checkpoint must reach the disk with the flush that follows
  }

  private syncIfDirty(): Promise<void> {
    return this.dirty ? this.durable().catch(() => undefined) : Promise.resolve();
  }

  /** Takes the directory lock (no syscall while held) and prepares the files when the lease is new. */
  private beginLease(): void {
    const lock = this.lock;
    if (!lock) return;
    if (!this.dirReady) this.ensureDir();
    if (lock.acquireLease()) this.leaseReady = false;
    if (this.leaseReady) return;
    try {
      if (!this.dirReady) this.prepareDir();
      this.startLease();
    } catch (err) {
      // Let go, so that the next append retries the preparation instead of writing unprepared files.
      lock.release();
      throw err;
    }
    this.leaseReady = true;
  }

  private ensureDir(): void {
    const dir = this.options.rootLogDir!;
    try {
      ensurePrivateDir(dir);
    } catch (err) {
      throw err instanceof AuditWriteError ? err : new AuditWriteError(dir, err);
    }
  }

  /** Under the lock, once: reads (or creates) the log id and opens what depends on it. */
  private prepareDir(): void {
    const dir = this.options.rootLogDir!;
    const id = readOrCreateLogId(join(dir, 'audit_log.id'));
    if (id !== this.id) this.provisionalId = this.id;
    this.id = id;
    if (this.options.checkpoints) this.checkpoints = new CheckpointWriter(dir, this.options.checkpoints, this.id, this.options.allowSymlink);
    this.dirReady = true;
  }

  /** The logger's source, with the log id read from the directory when it was built before the directory was prepared. */
  private sourceOf(source: EventSource): EventSource {
    if (this.provisionalId === undefined || source.log !== this.provisionalId) return source;
    if (this.sourceFix?.from !== source) this.sourceFix = { from: source, to: Object.freeze({ ...source, log: this.id }) };
    return this.sourceFix.to;
  }

  /**
   * A new lease: another writer may have appended since ours ended. Opens files not open yet
   * (or that failed before), repairs torn tails and reads the tail. The primary file must
   * succeed; a secondary that fails is skipped for this lease and reported with each event.
   */
  private startLease(): void {
    let primary: TailState | undefined;
    this.skipped.clear();
    this.files.forEach((file, i) => {
      try {
        if (!file.isOpen) file.open(this.context);
        const tail = file.onLease();
        if (tail) this.held.set(file, tail.seq);
        if (i === 0) primary = tail;
      } catch (err) {
        // Closed, the file is opened and prepared from scratch at the next lease: a half-done preparation must not pass for done.
        closeQuietly(file);
        if (i === 0 || err instanceof InvalidOptionError) throw err instanceof AuditError ? err : new AuditWriteError(file.path, err);
        this.skipped.set(file, err instanceof AuditError ? err : new AuditWriteError(file.path, err));
      }
    });
    if (primary) this.tail = primary;
    this.catchUp();
    this.catchUpFollower();
    this.checkpoints?.onLease(this.context, this.tail.seq, this.tail.hash);
  }

  /**
   * Events reach the primary file first, then each secondary: a crash in between leaves a
   * secondary one event behind (per writer). Copy what it misses from the primary, so that
   * every file holds the same log. A larger gap is a format added to an existing log: it
   * starts where the log is, and is left alone.
   */
  private catchUp(): void {
    const primary = this.files[0];
    if (!primary || this.files.length === 1) return;
    for (const file of this.files.slice(1)) {
      const held = this.held.get(file) ?? 0;
      // Ahead of the primary: another writer uses this file as its primary (formats differ between writers).
      if (held > this.tail.seq && !this.skipped.has(file)) {
        const why = `holds seq ${held} but ${primary.path} ends at seq ${this.tail.seq}: another writer logs to it with other formats (give every writer of ${dirname(primary.path)} the same format list), or the primary lost its tail`;
        this.skipped.set(file, new AuditWriteError(file.path, new Error(why)));
      }
    }
    const behind = this.files.slice(1).filter((file) => {
      const gap = this.tail.seq - (this.held.get(file) ?? this.tail.seq);
      return !this.skipped.has(file) && gap > 0 && (gap <= MAX_CATCH_UP || this.leftBehind.has(file));
    });
    if (behind.length === 0) return;
    const from = Math.min(...behind.map((file) => this.held.get(file)!));
    const missing = primary.eventsAfter(from);
    for (const file of behind) {
      const have = this.held.get(file)!;
      const copy = missing.filter(({ event }) => event.seq > have);
      try {
        for (const { event, json } of copy) file.write(event, json);
        this.held.set(file, this.tail.seq);
        this.markDirty();
        const cause = this.leftBehind.delete(file) ? 'a failed write' : 'a crash';
        this.context.warn('SECONDARY_CAUGHT_UP', `${file.path}: copied ${copy.length} event(s) after seq ${have} from ${primary.path} (left behind by ${cause})`);
      } catch (err) {
        this.skipped.set(file, err instanceof AuditError ? err : new AuditWriteError(file.path, err));
      }
    }
  }

  /** The follower misses what was logged between the primary file and it (a crash, a failed write) or by writers without it. */
  private catchUpFollower(): void {
    const primary = this.files[0];
    if (!this.follower || !primary) return;
    try {
      const copied = this.follower.catchUp(this.tail.seq, (seq) => primary.eventsAfter(seq));
      if (copied > 0) this.context.warn('OUTBOX_CAUGHT_UP', `copied ${copied} event(s) from ${primary.path} to the delivery outbox`);
    } catch (err) {
      this.context.warn('OUTBOX_CATCH_UP_FAILED', `cannot copy events from ${primary.path} to the delivery outbox: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Canonical JSON of the details, cut to the size cap first when they exceed it. */
  private serialiseDetails(draft: DraftEvent): { details: Details; detailsJson: string } {
    let details = draft.details;
    let text = draft.detailsCanonical ? JSON.stringify(details) : canonicalJson(details);
    const cap = this.options.maxDetailsBytes;
    // A UTF-16 unit is at most 3 UTF-8 bytes: most events skip the byte count.
    if (text.length * 3 > cap) {
      const bytes = Buffer.byteLength(text);
      if (bytes > cap) {
        details = capDetails(details, bytes, cap);
        text = canonicalJson(details);
      }
    }
    return { details, detailsJson: text };
  }

  private sourceJson(source: EventSource): string {
    let text = this.sourceCache.get(source);
    if (text === undefined) {
      text = canonicalJson(source);
      if (Object.isFrozen(source)) this.sourceCache.set(source, text);
    }
    return text;
  }

  private createFile(dir: string, format: Exclude<LogFormat, 'none'>): LogFile {
    const path = join(dir, FORMAT_FILES[format]);
    const allowSymlink = this.options.allowSymlink;
    if (format === 'jsonl') return new JsonlFile(path, { allowSymlink });
    if (format === 'csv') return new CsvFile(path, { allowSymlink });
    return new JsonArrayFile(path, { allowSymlink, order: this.options.order });
  }
}

/** An empty id file older than this was left by a writer that died between creating and filling it (older versions wrote it in two steps). */
const EMPTY_ID_GRACE_MS = 2_000;
const LOG_ID = /^[0-9a-f-]{36}$/;

/**
 * Reads the log's id, creating it when missing; called under the directory lock. The id is
 * written to a temporary file, synced, and linked into place (link fails if the name exists),
 * so the file is never seen empty or half-written; an empty file left by a crash is replaced.
 */
function readOrCreateLogId(path: string): string {
  const waitUntil = Date.now() + EMPTY_ID_GRACE_MS;
  for (;;) {
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new AuditWriteError(path, err);
    }
    if (text === undefined) {
      publishLogId(path, false);
      continue; // read back what won: ours, or a concurrent writer's
    }
    const id = text.trim();
    if (LOG_ID.test(id)) return id;
    if (id !== '') throw new AuditWriteError(path, new Error(`holds ${JSON.stringify(id.slice(0, 40))}, not a log id`));
    if (Date.now() - mtimeOf(path) > EMPTY_ID_GRACE_MS) {
      publishLogId(path, true); // a crash leftover: only writers holding the lock replace, so one does
      continue;
    }
    // An older writer is between creating and filling it: wait for it, then take it as garbage.
    if (Date.now() > waitUntil) throw new AuditWriteError(path, new Error('is empty: another writer is creating it'));
    sleepSync(10);
  }
}

/** Writes a fresh id to a temporary file and links it to `path` (or renames it over an empty leftover when `replace`). */
function publishLogId(path: string, replace: boolean): void {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, uuidv7(processClock.nowUs()) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (replace) renameSync(temp, path);
    else linkOrCreate(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new AuditWriteError(path, err);
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Renamed into place, or never made.
    }
  }
}

/** Links `temp` (whole) to `path`; where the filesystem cannot hard-link, creates `path` with O_EXCL and copies it in (readers wait out the empty moment). */
function linkOrCreate(temp: string, path: string): void {
  try {
    linkSync(temp, path);
  } catch (err) {
    if (!cannotLink(err)) throw err;
    if (!createExclusive(path, readFileSync(temp, 'utf8'), true)) throw Object.assign(new Error(`EEXIST: ${path}`), { code: 'EEXIST' });
  }
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

function closeQuietly(file: LogFile): void {
  try {
    file.close();
  } catch {
    // Already unusable: it is reopened at the next lease.
  }
}

/** The event handed back (and to the bus) with onError 'emit' when no local file took it: seq 0 and empty hashes mark it unrecorded. */
export function unrecordedEvent(draft: DraftEvent): AuditEvent {
  const us = processClock.nowUs();
  return {
    id: uuidv7(us),
    seq: 0,
    timestamp: formatTimestamp(us),
    action_type: draft.action_type,
    status: draft.status,
    details: draft.details,
    error: draft.error,
    actor: draft.actor,
    source: draft.source,
    prev_hash: '',
    hash: '',
  };
}
