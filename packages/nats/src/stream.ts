// Creates the JetStream stream that holds audit events, when it is missing.
import { nanos, RetentionPolicy, StorageType, type JetStreamManager } from 'nats';
import { checkChoice, checkWholeNumber, describeValue, errorMessage, InvalidOptionError, refuseUnknownOptions } from '@auditrail/core';
import { checkName, MAX_SERVER_MS } from './options';
import { SUBJECT_TOKEN } from './subject';

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

/** Every field of `AuditStreamOptions` (the type check fails when this and the interface disagree): any other key, such as a misspelt `maxAge`, is refused rather than ignored. */
export const AUDIT_STREAM_OPTION_NAMES: readonly string[] = Object.keys({
  name: 0,
  subjects: 0,
  maxAgeMs: 0,
  replicas: 0,
  retention: 0,
  duplicateWindowMs: 0,
  storage: 0,
} satisfies Record<keyof AuditStreamOptions, 0>);

/**
 * Throws InvalidOptionError naming the first bad field of the `stream` option (`stream.<field>`). With
 * `prefix` (a sink publishing to its default subjects `<prefix>.<experiment>.<action_type>`), at least one of
 * the subjects must be able to match one of those: a list that matches none would leave every publish without a
 * stream. A list that captures some of them only (`audit.train.>`) is the user's choice, and accepted.
 */
export function checkStreamOptions(options: unknown, prefix?: string): void {
  if (options === undefined || options === false) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError('stream', `must be stream options or false, got ${describeValue(options)}`);
  // Any unknown key is refused (nothing else is stored in this object), a misspelling with the field meant.
  refuseUnknownOptions(options, AUDIT_STREAM_OPTION_NAMES, 'stream', 'a stream option');
  const o = options as AuditStreamOptions;
  if (o.name !== undefined) checkName('stream.name', o.name);
  if (o.subjects !== undefined) {
    if (!Array.isArray(o.subjects) || o.subjects.length === 0) throw new InvalidOptionError('stream.subjects', `must be a non-empty list of subjects, got ${describeValue(o.subjects)}`);
    for (const subject of o.subjects) {
      if (!isSubject(subject)) throw new InvalidOptionError('stream.subjects', `${describeValue(subject)} is not a subject (dot-separated tokens, * or > as a whole token)`);
    }
    if (prefix !== undefined && !o.subjects.some((s) => overlaps(s, [...prefix.split('.'), '*', '*']))) {
      throw new InvalidOptionError(
        'stream.subjects',
        `${o.subjects.map(describeValue).join(', ')} cannot match any subject events are published to (${prefix}.<experiment>.<action_type>): every publish would find no stream`,
      );
    }
  }
  const maxAge = checkWholeNumber('stream.maxAgeMs', o.maxAgeMs ?? 0, 0, MAX_SERVER_MS);
  checkWholeNumber('stream.replicas', o.replicas ?? 1, 1, 5);
  checkChoice('stream.retention', o.retention ?? 'limits', Object.keys(RETENTION) as (keyof typeof RETENTION)[]);
  checkChoice('stream.storage', o.storage ?? 'file', Object.keys(STORAGE) as (keyof typeof STORAGE)[]);
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
  return /not found/i.test(errorMessage(err));
}

function isSubject(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const tokens = value.split('.');
  return tokens.every((t, i) => /^[^\s*>]+$/.test(t) || t === '*' || (t === '>' && i === tokens.length - 1));
}

/**
 * Whether the subject filter `filter` matches at least one subject of the tokens `published`, where `*` stands
 * for any one subject token the sink makes (see subjectToken): `audit.train.>` overlaps `audit.*.*`, `other.>` does not.
 */
function overlaps(filter: string, published: string[]): boolean {
  const tokens = filter.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '>') return i < published.length;
    const want = published[i];
    if (want === undefined) return false;
    if (token === '*') continue;
    if (want === '*' ? !SUBJECT_TOKEN.test(token) : token !== want) return false;
  }
  return tokens.length === published.length;
}
