// The local files of one log directory: the lock, the tail (seq and hash), sealing and durable writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BinaryLike, KeyObject } from 'node:crypto';
import { formatTimestamp, processClock } from './clock';
import type { AuditEvent, Details, DraftEvent, EventSource } from './event';
import { AuditWriteError } from './errors';
import { FileLock } from './files/lock';
import { ensurePrivateDir } from './files/fs-util';
import { FORMAT_FILES, type LogFormat } from './format';
import { uuidv7 } from './id';
import { ChainHasher, GENESIS_HASH, sealEvent } from './seal';
import { canonicalJson } from './canonical';
import { capDetails } from './safe-value';
import type { SinkContext } from './sink';
import { CsvFile } from './sinks/csv-file';
import { JsonArrayFile, type JsonArrayOrder } from './sinks/json-array-file';
import { JsonlFile } from './sinks/jsonl-file';
import type { LogFile, TailState } from './sinks/log-file';

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
  /** Allow log files to be symbolic links. */
  allowSymlink: boolean;
  /** Details larger than this (serialised bytes) are cut. */
  maxDetailsBytes: number;
}

/** What one append produced. */
export interface Appended {
  /** The sealed event. */
  event: AuditEvent;
  /** Its JSON line (no newline). */
  json: string;
  /** Failures of secondary files (the event is recorded in the primary one). */
  errors: AuditWriteError[];
}

/** Seals events and writes them to the local files, in order, across processes. */
export class Journal {
  private readonly files: LogFile[];
  private readonly lock: FileLock | undefined;
  private tail: TailState = { seq: 0, hash: undefined };
  private syncQueued: Promise<void> | undefined;
  private syncRunning: Promise<void> = Promise.resolve();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly hasher: ChainHasher;
  private readonly sourceCache = new WeakMap<EventSource, string>();
  /** Identity of this log's chain (`source.log` of every event): kept in `{rootLogDir}/audit_log.id`, random without files. */
  readonly logId: string = uuidv7(processClock.nowUs());

  constructor(private readonly options: JournalOptions, context: SinkContext) {
    this.hasher = new ChainHasher(options.hmacKey);
    const dir = options.rootLogDir;
    this.files = dir === undefined ? [] : options.formats.map((format) => this.createFile(dir, format));
    if (dir === undefined || this.files.length === 0) return;
    ensurePrivateDir(dir);
    this.lock = new FileLock(join(dir, 'audit_log.lock'), {
      timeoutMs: options.lockTimeoutMs,
      onStale: (message) => context.warn('STALE_LOCK_BROKEN', message),
    });
    this.lock.acquireLease();
    this.logId = readOrCreateLogId(join(dir, 'audit_log.id'));
    for (const file of this.files) file.open(context);
    this.startLease();
    if (options.fsync === 'interval') {
      this.timer = setInterval(() => void this.syncIfDirty(), options.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /** Paths of the files written, primary first. */
  get paths(): string[] {
    return this.files.map((file) => file.path);
  }

  /** The primary file (the one seq and hash are read back from), if any. */
  get primaryPath(): string | undefined {
    return this.files[0]?.path;
  }

  /** Seals a draft into the next event and writes it to every file before returning. */
  append(draft: DraftEvent): Appended {
    if (this.lock && !this.lock.isHeld) {
      this.lock.acquireLease();
      this.startLease();
    } else {
      this.lock?.acquireLease();
    }
    const us = processClock.nowUs();
    const { event, json } = sealEvent(
      {
        id: uuidv7(us),
        seq: this.tail.seq + 1,
        timestamp: formatTimestamp(us),
        action_type: draft.action_type,
        status: draft.status,
        ...this.serialiseDetails(draft),
        error: draft.error,
        actor: draft.actor,
        source: draft.source,
        sourceJson: this.sourceJson(draft.source),
        prev_hash: this.tail.hash ?? GENESIS_HASH,
      },
      this.hasher,
    );
    const errors: AuditWriteError[] = [];
    this.files[0]?.write(event, json); // throws: the event is recorded nowhere and the tail stays
    this.tail = { seq: event.seq, hash: event.hash };
    for (let i = 1; i < this.files.length; i++) {
      try {
        this.files[i]!.write(event, json);
      } catch (err) {
        errors.push(err instanceof AuditWriteError ? err : new AuditWriteError(this.files[i]!.path, err));
      }
    }
    this.dirty = true;
    return { event, json, errors };
  }

  /** Resolves once everything appended so far is on stable storage (group commit: callers share one fsync). */
  durable(): Promise<void> {
    if (this.files.length === 0) return Promise.resolve();
    if (!this.syncQueued) {
      const queued = this.syncRunning.then(() => {
        this.syncQueued = undefined;
        return this.syncAll();
      });
      this.syncQueued = queued;
      this.syncRunning = queued.catch(() => undefined);
    }
    return this.syncQueued;
  }

  /** Whether `logEvent` must wait for fsync. */
  get syncsEachEvent(): boolean {
    return this.options.fsync === 'always';
  }

  /** Flushes to stable storage unless the policy is 'never'. */
  flush(): Promise<void> {
    return this.options.fsync === 'never' ? Promise.resolve() : this.durable();
  }

  /** Syncs (unless 'never'), closes the files and releases the lock. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    try {
      await this.flush();
    } finally {
      for (const file of this.files) file.close();
      this.lock?.release();
    }
  }

  private syncAll(): Promise<void> {
    this.dirty = false;
    return Promise.all(this.files.map((file) => file.flush())).then(() => undefined);
  }

  private syncIfDirty(): Promise<void> {
    return this.dirty ? this.durable().catch(() => undefined) : Promise.resolve();
  }

  /** A new lease: another writer may have appended since ours ended. */
  private startLease(): void {
    let primary: TailState | undefined;
    this.files.forEach((file, i) => {
      const tail = file.onLease();
      if (i === 0) primary = tail;
    });
    if (primary) this.tail = primary;
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

/** Reads the log's id, creating it (O_EXCL, so concurrent first writers agree) when missing. */
function readOrCreateLogId(path: string): string {
  try {
    writeFileSync(path, uuidv7(processClock.nowUs()) + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new AuditWriteError(path, err);
  }
  const id = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new AuditWriteError(path, new Error(`holds ${JSON.stringify(id.slice(0, 40))}, not a log id`));
  return id;
}
