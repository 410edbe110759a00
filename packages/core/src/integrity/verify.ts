// verifyAuditLog: checks the hash chain of every log in a directory (or one file, or any event
// source) against the key and the signed checkpoints, and names the first thing that is wrong.
import { KeyObject, type BinaryLike } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AuditReadError } from '../errors';
import type { AuditEvent } from '../event';
import type { LogFormat } from '../format';
import { ChainHasher } from '../seal';
import { walkChain, type WalkResult } from './chain-walk';
import { CHECKPOINTS_FILE, checkCheckpoints, nextDueSeq, type Checkpoint } from './checkpoints';
import { loadPublicKey } from './keys';
import type { ChainProblem } from './problems';
import { locatedEvents, logsAt, positioned } from './sources';
import { refuseMisspelledOptions } from '../option-names';

/** Options of verification. */
export interface VerifyOptions {
  /** HMAC key the chain was written with; default AUDIT_LOG_HMAC_KEY. Without one, plain SHA-256 is expected. */
  hmacKey?: BinaryLike | KeyObject;
  /** Ed25519 public key(s) of the checkpoints: KeyObject, PEM text or PEM file path. */
  publicKey?: KeyObject | string | readonly (KeyObject | string)[];
  /** Checkpoints file; default `audit_log.checkpoints.jsonl` next to the log when it exists; false to ignore. */
  checkpoints?: string | false;
  /** Verify only the log of this format in a directory. */
  format?: Exclude<LogFormat, 'none'>;
}

const VERIFY_OPTION_NAMES: readonly string[] = Object.keys({ hmacKey: 0, publicKey: 0, checkpoints: 0, format: 0 } satisfies Record<keyof VerifyOptions, 0>);

/** The verification of one log (one format, all its segments). */
export interface LogVerification {
  /** 'jsonl', 'json', 'csv', or the label of another source (e.g. 'postgres'). */
  format: string;
  /** Files read, in order (a label for other sources). */
  files: string[];
  /** Whether this log is intact. */
  ok: boolean;
  /** Events verified (up to the problem, if any). */
  events: number;
  /** Seq of the first event. */
  firstSeq?: number;
  /** Seq of the last event. */
  lastSeq?: number;
  /** Hash of the last event. */
  lastHash?: string;
  /** Events after the last checkpoint, not yet covered by a signature. */
  unsigned?: number;
  /** The first problem. */
  problem?: ChainProblem;
}

/** What the checkpoints showed. */
export interface CheckpointsReport {
  /** Path of the checkpoints file. */
  file: string;
  /** Number of valid checkpoints. */
  count: number;
  /** The last checkpoint. */
  last?: Checkpoint;
  /** Whether signatures were checked with a public key. */
  signaturesVerified: boolean;
  /** A problem of the checkpoints file itself. */
  problem?: ChainProblem;
}

/** The outcome of verifyAuditLog. */
export interface VerifyReport {
  /** True when every log and the checkpoints are intact. */
  ok: boolean;
  /** Whether an HMAC key was used. */
  keyed: boolean;
  /** One entry per log verified. */
  logs: LogVerification[];
  /** The checkpoints, when there are some. */
  checkpoints?: CheckpointsReport;
  /** The first problem found, if any. */
  problem?: ChainProblem;
  /** Things that are not proof of tampering but limit what was proven. */
  warnings: string[];
}

/** Verifies the logs in a directory (every format present, journal segments in order) or one log file. */
export async function verifyAuditLog(target: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  refuseMisspelledOptions(options, VERIFY_OPTION_NAMES);
  if (!existsSync(target)) throw new AuditReadError(`No audit log at ${target}: no such file or directory`);
  let logs = logsAt(target);
  if (options.format) logs = logs.filter((log) => log.format === options.format);
  if (logs.length === 0) throw new AuditReadError(`No audit log in ${target}${options.format ? ` in format ${options.format}` : ''}`);
  const dir = statSync(target).isDirectory() ? target : dirname(target);
  const context = prepare(options, options.checkpoints ?? join(dir, CHECKPOINTS_FILE));
  for (const log of logs) {
    const walk = await walkChain(locatedEvents(log), { hasher: context.hasher, checkpoints: context.bySeq });
    context.report.logs.push(conclude(log.format, log.files, walk, context));
  }
  return finish(context);
}

/** Verifies events from any source in chain order (e.g. rows of a database table), labelled for messages. */
export async function verifyEvents(
  events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>,
  options: VerifyOptions & { label?: string } = {},
): Promise<VerifyReport> {
  const label = options.label ?? 'events';
  const context = prepare(options, options.checkpoints ?? false);
  const walk = await walkChain(positioned(events, label), { hasher: context.hasher, checkpoints: context.bySeq });
  context.report.logs.push(conclude(label, [label], walk, context));
  return finish(context);
}

interface Context {
  hasher: ChainHasher;
  bySeq: Map<number, string>;
  last: Checkpoint | undefined;
  report: VerifyReport;
}

function prepare(options: VerifyOptions, checkpointsPath: string | false): Context {
  const key = options.hmacKey ?? (process.env.AUDIT_LOG_HMAC_KEY || undefined);
  const hasher = new ChainHasher(key, 'hmacKey', true);
  const report: VerifyReport = { ok: true, keyed: hasher.keyed, logs: [], warnings: [] };
  if (key !== undefined && isEmptyKey(key)) report.warnings.push('the HMAC key is empty: anyone can recompute this chain, so it proves no more than plain SHA-256');
  const publicKeys = toList(options.publicKey).map((k) => loadPublicKey(k));
  const bySeq = new Map<number, string>();
  let last: Checkpoint | undefined;
  if (checkpointsPath !== false && existsSync(checkpointsPath)) {
    const check = checkCheckpoints(checkpointsPath, publicKeys);
    for (const checkpoint of check.checkpoints) bySeq.set(checkpoint.seq, checkpoint.hash);
    last = check.checkpoints[check.checkpoints.length - 1];
    report.checkpoints = {
      file: checkpointsPath,
      count: check.checkpoints.length,
      ...(last ? { last } : {}),
      signaturesVerified: check.signaturesVerified,
      ...(check.problem ? { problem: check.problem } : {}),
    };
    if (!check.signaturesVerified) report.warnings.push(`checkpoint signatures were not checked: pass the public key to verify them`);
    for (const late of check.late) {
      report.warnings.push(`checkpoint #${late.n} (seq ${late.seq}) was signed after an earlier due checkpoint was found missing: a writer crashed between an event and its checkpoint, or the checkpoint was removed before the next one was signed`);
    }
  } else if (publicKeys.length > 0) {
    report.warnings.push(`a public key was given but there is no checkpoints file${checkpointsPath ? ` at ${checkpointsPath}` : ''}`);
  }
  if (!hasher.keyed) report.warnings.push('no HMAC key: the plain SHA-256 chain shows accidental damage and partial edits, but whoever rewrites the whole log can recompute it');
  return { hasher, bySeq, last, report };
}

function conclude(format: string, files: string[], walk: WalkResult, context: Context): LogVerification {
  const result: LogVerification = { format, files, ok: walk.problem === undefined, events: walk.events };
  if (walk.first) result.firstSeq = walk.first.seq;
  if (walk.last) {
    result.lastSeq = walk.last.seq;
    result.lastHash = walk.last.hash;
  }
  if (walk.problem) result.problem = walk.problem;
  const last = context.last;
  if (!walk.problem && last) {
    const endSeq = walk.last?.seq ?? 0;
    if (last.seq > endSeq) {
      result.ok = false;
      result.problem = {
        kind: 'truncated',
        position: walk.events + 1,
        ...(files.length > 0 ? { file: files[files.length - 1]! } : {}),
        message: `the log ends at seq ${endSeq} (${walk.events} events) but checkpoint #${last.n} signs seq ${last.seq}: ${last.seq - endSeq} event(s) after it were removed`,
      };
    } else {
      result.unsigned = endSeq - last.seq;
      if (endSeq >= nextDueSeq(last)) {
        context.report.warnings.push(
          `${format}: no checkpoint after #${last.n} (seq ${last.seq}) although one was due at seq ${nextDueSeq(last)}: the last checkpoints were removed, or a writer crashed`,
        );
      }
    }
  }
  return result;
}

function finish(context: Context): VerifyReport {
  const report = context.report;
  const problems = [...report.logs.map((log) => log.problem), report.checkpoints?.problem].filter((p): p is ChainProblem => p !== undefined);
  report.ok = problems.length === 0;
  if (problems[0]) report.problem = problems[0];
  return report;
}

function toList<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}

/** Whether a key given as text or bytes is empty. */
function isEmptyKey(key: unknown): boolean {
  if (key instanceof KeyObject) return key.type === 'secret' && (key.symmetricKeySize ?? 0) === 0;
  return (typeof key === 'string' && key.length === 0) || (ArrayBuffer.isView(key) && key.byteLength === 0);
}
