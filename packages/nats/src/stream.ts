// Creates the JetStream stream that holds audit events, when it is missing.
import { nanos, RetentionPolicy, StorageType, type JetStreamManager } from 'nats';
import { checkWholeNumber, InvalidOptionError } from '@auditrail/core';
import { checkName, MAX_SERVER_MS } from './options';

/** How the audit stream is created when missing (an existing stream is left as it is). */
export interface AuditStreamOptions {
  /** Stream name (default 'AUDIT'). */
  name?: string;
  /** Subjects it captures (default `<prefix>.>`). */
  subjects?: string[];
  /** Discard messages older than this (default 0: keep forever). */
  maxAgeMs?: number;
  /** Replicas in a cluster, 1 to 5 (default 1). */
  replicas?: number;
  /** 'limits' (default), 'interest' or 'workqueue'. */
  retention?: 'limits' | 'interest' | 'workqueue';
  /** Window in which a repeated message id is dropped as a duplicate (default 2 minutes, or maxAgeMs when shorter). */
  duplicateWindowMs?: number;
  /** 'file' (default) or 'memory'. */
  storage?: 'file' | 'memory';
}

const RETENTION = { limits: RetentionPolicy.Limits, interest: RetentionPolicy.Interest, workqueue: RetentionPolicy.Workqueue } as const;
const STORAGE = { file: StorageType.File, memory: StorageType.Memory } as const;
const DUPLICATE_WINDOW_MS = 120_000;

/**
 * Throws InvalidOptionError naming the first bad field of the `stream` option (`stream.<field>`). With
 * `published` (the sink's default subjects, as tokens with `*` for any), the subjects must capture them.
 */
export function checkStreamOptions(options: unknown, published?: string[]): void {
  if (options === undefined || options === false) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError('stream', 'must be stream options or false');
  const o = options as AuditStreamOptions;
  if (o.name !== undefined) checkName('stream.name', o.name);
  if (o.subjects !== undefined) {
    if (!Array.isArray(o.subjects) || o.subjects.length === 0) throw new InvalidOptionError('stream.subjects', 'must be a non-empty list of subjects');
    for (const subject of o.subjects) {
      if (!isSubject(subject)) throw new InvalidOptionError('stream.subjects', `${JSON.stringify(subject)} is not a subject (dot-separated tokens, * or > as a whole token)`);
    }
    if (published && !o.subjects.some((s) => covers(s, published))) {
      throw new InvalidOptionError('stream.subjects', `none captures the subjects events are published to (${published.join('.')}): every publish would find no stream`);
    }
  }
  const maxAge = checkWholeNumber('stream.maxAgeMs', o.maxAgeMs ?? 0, 0, MAX_SERVER_MS);
  checkWholeNumber('stream.replicas', o.replicas ?? 1, 1, 5);
  checkOneOf('stream.retention', o.retention ?? 'limits', Object.keys(RETENTION));
  checkOneOf('stream.storage', o.storage ?? 'file', Object.keys(STORAGE));
  if (o.duplicateWindowMs !== undefined) {
    const window = checkWholeNumber('stream.duplicateWindowMs', o.duplicateWindowMs, 1, MAX_SERVER_MS);
    if (maxAge > 0 && window > maxAge) throw new InvalidOptionError('stream.duplicateWindowMs', `${window} is longer than stream.maxAgeMs (${maxAge}); the server refuses it`);
  }
}

/** Adds the stream unless it exists; returns whether it was created. */
export async function ensureAuditStream(jsm: JetStreamManager, prefix: string, options: AuditStreamOptions = {}): Promise<boolean> {
  checkStreamOptions(options);
  const name = options.name ?? 'AUDIT';
  try {
    await jsm.streams.info(name);
    return false;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const maxAge = options.maxAgeMs ?? 0;
  await jsm.streams.add({
    name,
    subjects: options.subjects ?? [`${prefix}.>`],
    max_age: nanos(maxAge),
    num_replicas: options.replicas ?? 1,
    retention: RETENTION[options.retention ?? 'limits'],
    // The server refuses a window longer than the stream keeps messages.
    duplicate_window: nanos(options.duplicateWindowMs ?? (maxAge > 0 ? Math.min(maxAge, DUPLICATE_WINDOW_MS) : DUPLICATE_WINDOW_MS)),
    storage: STORAGE[options.storage ?? 'file'],
  });
  return true;
}

/** Whether a JetStream API error says the stream or consumer does not exist. */
export function isNotFound(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /not found/i.test(message);
}

function checkOneOf(option: string, value: unknown, allowed: string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new InvalidOptionError(option, `${JSON.stringify(value)} is not one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
}

function isSubject(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const tokens = value.split('.');
  return tokens.every((t, i) => /^[^\s*>]+$/.test(t) || t === '*' || (t === '>' && i === tokens.length - 1));
}

/** Whether the subject filter `filter` matches every subject of the tokens `subject` (`*` standing for any token). */
function covers(filter: string, subject: string[]): boolean {
  const tokens = filter.split('.');
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === '>') return i < subject.length;
    if (i >= subject.length || (tokens[i] !== '*' && tokens[i] !== subject[i])) return false;
  }
  return tokens.length === subject.length;
}
