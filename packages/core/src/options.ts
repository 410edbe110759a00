// The options of AuditLogger.
import type { BinaryLike, KeyObject } from 'node:crypto';
import type { CheckpointOptions } from './integrity/checkpoints';
import type { RedactionOptions } from './redaction/redaction';
import type { RetentionOptions, RotationOptions } from './rotation/policy';
import type { DeliveryOptions } from './delivery/engine';
import type { LogFormat } from './format';
import type { FsyncPolicy } from './journal';
import type { AuditPlugin } from './plugin';
import type { SafeValueLimits } from './safe-value';
import type { AnySink } from './sink';
import type { JsonArrayOrder } from './sinks/json-array-file';
import type { StatusScheme } from './statuses';

/** Options of `new AuditLogger(options)`; every one is optional. */
export interface AuditLoggerOptions {
  /** Directory of the local files, created (0700) if missing; default AUDIT_LOG_DIR, then ./audit_logs. */
  rootLogDir?: string;
  /** Experiment name, recorded in every event's source. */
  experimentName?: string;
  /** Local formats: one or a list; default AUDIT_LOG_FORMAT, then 'json'. */
  format?: LogFormat | readonly LogFormat[];
  /** Order of the JSON array file: 'oldest-first' (default) or 'newest-first'. */
  order?: JsonArrayOrder;
  /** Status scheme; default INFO/WARNING/FAILURE. */
  statuses?: StatusScheme;
  /** Extra sinks: event sinks (write) and batch sinks (export). */
  sinks?: readonly AnySink[];
  /** Plugins to register, in order. */
  plugins?: readonly AuditPlugin[];
  /** 'never', 'interval' (default; at most fsyncIntervalMs of data at risk on power loss) or 'always'. */
  fsync?: FsyncPolicy;
  /** Window of fsync 'interval' (default 1000 ms; from 1 to 2,147,483,647, a Node timer's range). */
  fsyncIntervalMs?: number;
  /** 'throw' (default: logEvent rejects on a failed write) or 'emit' (the error goes to the bus). */
  onError?: 'throw' | 'emit';
  /** Actor recorded when an event names none: a non-empty string, capped at limits.maxStringLength. */
  actor?: string;
  /** Caps on details (bytes, string length, depth). */
  limits?: Partial<SafeValueLimits>;
  /** Key for an HMAC-SHA256 chain; default AUDIT_LOG_HMAC_KEY. */
  hmacKey?: BinaryLike | KeyObject;
  /** How long to wait for another process's lock on the directory (default 10,000 ms; 0 gives up at once, Infinity never). */
  lockTimeoutMs?: number;
  /** A lock judged by its age (another host's or pid namespace's, a worker thread's, an unreadable one) is broken once this old (default 30,000 ms, at least 1,000). */
  lockStaleMs?: number;
  /** Allow log files to be symbolic links (refused by default). */
  allowSymlink?: boolean;
  /** Delivery to batch sinks: policy (batching, retry, timeouts), the in-memory queue of format 'none', acknowledged events. */
  delivery?: DeliveryOptions;
  /** Signed Ed25519 checkpoints of the chain every N events and on close, in `audit_log.checkpoints.jsonl` (off by default). */
  checkpoints?: CheckpointOptions;
  /** Redaction of secrets before sealing and every sink: on by default (common secret keys, patterns in free text); `false` turns it off, an object configures it. */
  redact?: boolean | RedactionOptions;
  /** Rotation of the JSONL journal by size and/or UTC day into segments named by their time range (off by default). */
  rotation?: RotationOptions;
  /** Retention: delete closed segments older than maxAgeDays, never younger than minAgeDays (default 183), each deletion recorded in the chain. */
  retention?: RetentionOptions;
}

/** Every option's name, for catching misspelled ones (the type check fails when this and AuditLoggerOptions disagree). */
export const AUDIT_LOGGER_OPTION_NAMES: readonly string[] = Object.keys({
  rootLogDir: 0,
  experimentName: 0,
  format: 0,
  order: 0,
  statuses: 0,
  sinks: 0,
  plugins: 0,
  fsync: 0,
  fsyncIntervalMs: 0,
  onError: 0,
  actor: 0,
  limits: 0,
  hmacKey: 0,
  lockTimeoutMs: 0,
  lockStaleMs: 0,
  allowSymlink: 0,
  delivery: 0,
  checkpoints: 0,
  redact: 0,
  rotation: 0,
  retention: 0,
} satisfies Record<keyof AuditLoggerOptions, 0>);
