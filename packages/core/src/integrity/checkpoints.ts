// Signed checkpoints: Ed25519 signatures over (seq, hash, time) of the chain, each naming the one
// before it, in `{rootLogDir}/audit_log.checkpoints.jsonl`; written under the directory lock.
import { createHash, sign, verify as verifySignature, type KeyObject } from 'node:crypto';
import { appendFileSync, closeSync, fdatasync, fstatSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../canonical';
import { formatTimestamp, processClock } from '../clock';
import { AuditWriteError, InvalidOptionError } from '../errors';
import { isSymlink, lastLineBefore, lastNewlineBefore, readAt, sizeOf, writeAll } from '../files/fs-util';
import { GENESIS_HASH } from '../seal';
import type { SinkContext } from '../sink';
import { keyIdOf, loadPrivateKey } from './keys';
import type { ChainProblem } from './problems';

/** File name of the checkpoints, under rootLogDir. */
export const CHECKPOINTS_FILE = 'audit_log.checkpoints.jsonl';

/** Default number of events between two checkpoints. */
export const DEFAULT_CHECKPOINT_EVERY = 1000;

/** Why a checkpoint was written. */
export type CheckpointReason = 'interval' | 'close' | 'recovery';

/** One signed checkpoint, as one line of the checkpoints file. */
export interface Checkpoint {
  /** 1-based number of the checkpoint in its file. */
  n: number;
  /** Seq of the event it vouches for. */
  seq: number;
  /** Hash of that event. */
  hash: string;
  /** When it was signed. */
  timestamp: string;
  /** 'interval' (seq is a multiple of `every`), 'close' (a logger closed) or 'recovery' (a due one was missing at open). */
  reason: CheckpointReason;
  /** Interval in force: a checkpoint is due at every multiple of it. */
  every: number;
  /** Id of the log (source.log). */
  log: string;
  /** SHA-256 of the previous checkpoint's signature (64 zeros for the first). */
  prev: string;
  /** Id of the signing key (see keyIdOf). */
  key_id: string;
  /** Base64 Ed25519 signature over the canonical JSON of every other field. */
  signature: string;
}

/** Options of signed checkpoints. */
export interface CheckpointOptions {
  /** Ed25519 private key: a KeyObject, PEM text, or the path of a PEM file (`auditrail keygen`). */
  privateKey: KeyObject | string;
  /** Events between checkpoints (default 1000); one is also written on close. */
  every?: number;
}

/** The bytes a checkpoint's signature covers. */
export function checkpointPayload(checkpoint: Omit<Checkpoint, 'signature'> | Checkpoint): Buffer {
  const { signature: _ignored, ...rest } = checkpoint as Checkpoint;
  return Buffer.from(canonicalJson(rest));
}

/** SHA-256 hex of a signature, the link the next checkpoint carries. */
export function signatureLink(signature: string): string {
  return createHash('sha256').update(Buffer.from(signature, 'base64')).digest('hex');
}

/** The checkpoint after `previous` is due at this seq. */
export function nextDueSeq(previous: Pick<Checkpoint, 'seq' | 'every'>): number {
  return (Math.floor(previous.seq / previous.every) + 1) * previous.every;
}

/** Writes checkpoints for a journal; every method runs under the directory lock. */
export class CheckpointWriter {
  /** Path of the checkpoints file. */
  readonly path: string;
  private readonly key: KeyObject;
  private readonly keyId: string;
  /** Events between checkpoints. */
  readonly every: number;
  private fd = -1;
  private context: SinkContext | undefined;

  constructor(dir: string, options: CheckpointOptions, private readonly logId: string, private readonly allowSymlink: boolean) {
    this.path = join(dir, CHECKPOINTS_FILE);
    this.key = loadPrivateKey(options.privateKey);
    this.keyId = keyIdOf(this.key);
    this.every = options.every ?? DEFAULT_CHECKPOINT_EVERY;
    if (!Number.isSafeInteger(this.every) || this.every < 1) throw new InvalidOptionError('checkpoints.every', `must be a positive integer, got ${String(options.every)}`);
  }

  /** Called under the lock when the journal's lease starts: opens the file the first time and repairs a missed checkpoint. */
  onLease(context: SinkContext, seq: number, hash: string | undefined): void {
    if (this.fd >= 0) return;
    this.open(context);
    this.recover(seq, hash);
  }

  /** Opens (creating 0600) the file. */
  private open(context: SinkContext): void {
    this.context = context;
    if (!this.allowSymlink && isSymlink(this.path)) {
      throw new InvalidOptionError('allowSymlink', `${this.path} is a symbolic link; refusing to follow it (pass allowSymlink: true to allow)`);
    }
    try {
      this.fd = openSync(this.path, 'a+', 0o600);
    } catch (err) {
      throw new AuditWriteError(this.path, err);
    }
    const mode = fstatSync(this.fd).mode & 0o777;
    if ((mode & 0o077) !== 0) context.warn('LOOSE_FILE_MODE', `${this.path} has mode ${mode.toString(8)}; audit logs should be 0600`);
  }

  /** After an event is written: signs it when its seq is due. */
  afterAppend(seq: number, hash: string): void {
    if (seq % this.every === 0) this.write(seq, hash, 'interval');
  }

  /** At open: if a due checkpoint is missing (a crash between an event and its checkpoint), signs the tail. */
  private recover(seq: number, hash: string | undefined): void {
    if (hash === undefined || seq === 0) return;
    const last = this.readLast();
    const due = last ? nextDueSeq(last) : this.every;
    if (seq >= due && (!last || last.seq < seq)) this.write(seq, hash, 'recovery');
  }

  /** On close: signs the tail unless it is signed already. */
  onClose(seq: number, hash: string | undefined): void {
    if (hash === undefined || seq === 0 || this.fd < 0) return;
    const last = this.readLast();
    if (!last || last.seq < seq) this.write(seq, hash, 'close');
  }

  /** Forces written checkpoints to stable storage. */
  flush(): Promise<void> {
    if (this.fd < 0) return Promise.resolve();
    const fd = this.fd;
    return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(new AuditWriteError(this.path, err)) : resolve())));
  }

  /** Closes the file. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private write(seq: number, hash: string, reason: CheckpointReason): void {
    const last = this.readLast();
    if (last && last.seq >= seq) return;
    // A due checkpoint is missing (its writer crashed right after the event): say so rather than hide it.
    const late = last !== undefined && seq > nextDueSeq(last);
    const unsigned: Omit<Checkpoint, 'signature'> = {
      n: (last?.n ?? 0) + 1,
      seq,
      hash,
      timestamp: formatTimestamp(processClock.nowUs()),
      reason: late ? 'recovery' : reason,
      every: this.every,
      log: this.logId,
      prev: last ? signatureLink(last.signature) : GENESIS_HASH,
      key_id: this.keyId,
    };
    const checkpoint: Checkpoint = { ...unsigned, signature: sign(null, checkpointPayload(unsigned), this.key).toString('base64') };
    const data = Buffer.from(JSON.stringify(checkpoint) + '\n');
    try {
      writeAll(this.fd, data);
    } catch (err) {
      throw new AuditWriteError(this.path, err);
    }
  }

  /** The last checkpoint, read afresh (writes are rare, and another writer may have appended since). */
  private readLast(): Checkpoint | undefined {
    const size = this.repairTornTail(sizeOf(this.fd));
    const line = size > 0 ? lastLineBefore(this.fd, size) : undefined;
    if (!line) return undefined;
    const last = parseCheckpoint(line.text);
    if (!last) throw new AuditWriteError(this.path, new Error(`last line is not a checkpoint: ${line.text.slice(0, 80)}`));
    return last;
  }

  /** A power loss can leave a last line without its newline: move it to `.torn` and cut it off. */
  private repairTornTail(size: number): number {
    if (size === 0 || readAt(this.fd, size - 1, 1)[0] === 0x0a) return size;
    const start = lastNewlineBefore(this.fd, size) + 1;
    appendFileSync(this.path + '.torn', Buffer.concat([readAt(this.fd, start, size - start), Buffer.from('\n')]), { mode: 0o600 });
    ftruncateSync(this.fd, start);
    this.context?.warn('TORN_LINE_REPAIRED', `${this.path}: moved a torn last line of ${size - start} bytes to ${this.path}.torn`);
    return start;
  }
}

/** Parses one line of the checkpoints file, or undefined when it is not a checkpoint. */
export function parseCheckpoint(text: string): Checkpoint | undefined {
  let value: Partial<Checkpoint>;
  try {
    value = JSON.parse(text) as Partial<Checkpoint>;
  } catch {
    return undefined;
  }
  const numbers = [value.n, value.seq, value.every].every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 1);
  const strings = [value.hash, value.timestamp, value.reason, value.log, value.prev, value.key_id, value.signature].every((x) => typeof x === 'string');
  return numbers && strings ? (value as Checkpoint) : undefined;
}

/** What checking a checkpoints file found. */
export interface CheckpointsCheck {
  /** Checkpoints read, in file order, up to the first problem. */
  checkpoints: Checkpoint[];
  /** The first problem, if any (its position is the checkpoint's line). */
  problem?: ChainProblem;
  /** Whether signatures were checked (a public key was given). */
  signaturesVerified: boolean;
  /** Checkpoints signed after a due one was found missing (a crash, or one removed before it was signed). */
  late: Checkpoint[];
}

/** Checks a checkpoints file: numbering, links, signatures (with keys) and that no due checkpoint is missing between two others. */
export function checkCheckpoints(path: string, publicKeys: readonly KeyObject[]): CheckpointsCheck {
  const byId = new Map(publicKeys.map((key) => [keyIdOf(key), key]));
  const result: CheckpointsCheck = { checkpoints: [], signaturesVerified: byId.size > 0, late: [] };
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let previous: Checkpoint | undefined;
  for (let i = 0; i < lines.length; i++) {
    const at = { position: i + 1, file: path, line: i + 1 };
    const fail = (kind: ChainProblem['kind'], message: string): CheckpointsCheck => {
      result.problem = { kind, ...at, message: `checkpoint at line ${i + 1}: ${message}` };
      return result;
    };
    const checkpoint = parseCheckpoint(lines[i]!);
    if (!checkpoint) return fail('malformed', 'not a checkpoint record');
    const expectedN = (previous?.n ?? 0) + 1;
    if (checkpoint.n !== expectedN || checkpoint.prev !== (previous ? signatureLink(previous.signature) : GENESIS_HASH)) {
      return fail('missing-checkpoint', `#${checkpoint.n} does not link to the checkpoint before it (#${expectedN - 1}): a checkpoint was removed or reordered`);
    }
    if (byId.size > 0) {
      const key = byId.get(checkpoint.key_id);
      if (!key) return fail('bad-signature', `#${checkpoint.n} is signed by key ${checkpoint.key_id}, which is not among the public keys given`);
      if (!verifySignature(null, checkpointPayload(checkpoint), key, Buffer.from(checkpoint.signature, 'base64'))) {
        return fail('bad-signature', `#${checkpoint.n} (seq ${checkpoint.seq}) has a signature that does not verify: it was altered or forged`);
      }
    }
    if (previous && checkpoint.seq <= previous.seq) return fail('malformed', `#${checkpoint.n} signs seq ${checkpoint.seq}, not after #${previous.n} (seq ${previous.seq})`);
    if (previous && checkpoint.reason !== 'recovery' && checkpoint.seq > nextDueSeq(previous)) {
      return fail('missing-checkpoint', `no checkpoint for seq ${nextDueSeq(previous)} (due every ${previous.every} events) between #${previous.n} and #${checkpoint.n}`);
    }
    if (checkpoint.reason === 'recovery' && previous) result.late.push(checkpoint);
    result.checkpoints.push(checkpoint);
    previous = checkpoint;
  }
  return result;
}
