// Creates the JetStream stream that holds audit events, when it is missing.
import { nanos, RetentionPolicy, StorageType, type JetStreamManager } from 'nats';

/** How the audit stream is created when missing (an existing stream is left as it is). */
export interface AuditStreamOptions {
  /** Stream name (default 'AUDIT'). */
  name?: string;
  /** Subjects it captures (default `<prefix>.>`). */
  subjects?: string[];
  /** Discard messages older than this (default 0: keep forever). */
  maxAgeMs?: number;
  /** Replicas in a cluster (default 1). */
  replicas?: number;
  /** 'limits' (default), 'interest' or 'workqueue'. */
  retention?: 'limits' | 'interest' | 'workqueue';
  /** Window in which a repeated message id is dropped as a duplicate (default 2 minutes). */
  duplicateWindowMs?: number;
  /** 'file' (default) or 'memory'. */
  storage?: 'file' | 'memory';
}

const RETENTION = { limits: RetentionPolicy.Limits, interest: RetentionPolicy.Interest, workqueue: RetentionPolicy.Workqueue } as const;

/** Adds the stream unless it exists; returns whether it was created. */
export async function ensureAuditStream(jsm: JetStreamManager, prefix: string, options: AuditStreamOptions = {}): Promise<boolean> {
  const name = options.name ?? 'AUDIT';
  try {
    await jsm.streams.info(name);
    return false;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  await jsm.streams.add({
    name,
    subjects: options.subjects ?? [`${prefix}.>`],
    max_age: nanos(options.maxAgeMs ?? 0),
    num_replicas: options.replicas ?? 1,
    retention: RETENTION[options.retention ?? 'limits'],
    duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
    storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
  });
  return true;
}

/** Whether a JetStream API error says the stream or consumer does not exist. */
export function isNotFound(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /not found/i.test(message);
}
