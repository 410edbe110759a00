// Walks a hash chain in log order and names the first event that breaks it, telling a
// modification from a deletion, an insertion or a reordering by what the links around it show.
import type { AuditEvent } from '../event';
import { ChainHasher, GENESIS_HASH, canonicalForm } from '../seal';
import { describePlace, problemAt, type ChainProblem, type LocatedEvent } from './problems';

/** Action of the event retention records when it deletes a segment (see rotation). */
export const RETENTION_ACTION = 'audit_log_retention';

/** How far past a break the walker reads to classify it. */
const LOOKAHEAD = 4096;
/** How many verified events it remembers to recognise a link that skips back. */
const RECENT = 256;

/** Options of a chain walk. */
export interface WalkOptions {
  /** Hasher of the chain: plain SHA-256 or HMAC with the key. */
  hasher: ChainHasher;
  /** Signed checkpoints to compare as the walk passes their seq: seq → hash. */
  checkpoints?: ReadonlyMap<number, string>;
}

/** What a walk found. */
export interface WalkResult {
  /** Events read and verified (up to the problem, if any). */
  events: number;
  /** Seq and prev_hash of the first event. */
  first?: { seq: number; prevHash: string };
  /** Seq and hash of the last verified event. */
  last?: { seq: number; hash: string };
  /** The first problem, if any. */
  problem?: ChainProblem;
  /** Checkpoint seqs whose hash matched the event at that seq. */
  checkpointsMatched: number;
}

interface Seen {
  hash: string;
  seq: number;
  at: LocatedEvent;
}

/** Verifies a chain read in log order (events one by one or in batches); stops at the first problem. */
export async function walkChain(source: AsyncIterable<LocatedEvent | readonly LocatedEvent[]>, options: WalkOptions): Promise<WalkResult> {
  const reader = new BatchReader(source);
  const result: WalkResult = { events: 0, checkpointsMatched: 0 };
  const recent = new Recent();
  let firstAt: LocatedEvent | undefined;
  const anchors = new Set<string>();
  let previous: Seen | undefined;
  for (let chunk = await reader.next(); chunk; chunk = await reader.next()) {
    for (let i = 0; i < chunk.length; i++) {
      const at = chunk[i]!;
      const shape = at.unreadable ?? shapeProblem(at.event);
      if (shape) return fail(result, problemAt('malformed', at, `${describePlace(at)} is not an audit event: ${shape}`), reader);
      const event = at.event;
      const selfOk = hashMatches(event, options.hasher);
      const linkOk = previous ? event.prev_hash === previous.hash : true;
      const seqOk = previous ? event.seq === previous.seq + 1 : event.prev_hash !== GENESIS_HASH || event.seq === 1;
      if (!selfOk || !linkOk || !seqOk) {
        const ahead = await reader.readAhead(chunk.slice(i + 1));
        return fail(result, classify(at, previous, recent.ordered(), ahead, options.hasher), reader);
      }
      const expected = options.checkpoints?.get(event.seq);
      if (expected !== undefined) {
        if (expected !== event.hash) {
          return fail(result, problemAt('rewritten', at, `${describePlace(at)} differs from the signed checkpoint of seq ${event.seq}: the log was replaced or rewritten`), reader);
        }
        result.checkpointsMatched++;
      }
      if (event.action_type === RETENTION_ACTION) noteAnchor(event, anchors);
      if (!result.first) {
        result.first = { seq: event.seq, prevHash: event.prev_hash };
        firstAt = at;
      }
      previous = { hash: event.hash, seq: event.seq, at };
      recent.push(previous);
      result.events++;
    }
  }
  if (previous) result.last = { seq: previous.seq, hash: previous.hash };
  const head = result.first;
  if (head && head.prevHash !== GENESIS_HASH && !anchors.has(`${head.seq - 1}:${head.prevHash}`)) {
    const first = firstAt;
    result.problem = {
      kind: 'deleted',
      position: 1,
      seq: head.seq,
      ...(first?.event.id ? { id: first.event.id } : {}),
      ...(first?.file ? { file: first.file } : {}),
      message: `the log starts at seq ${head.seq} without the genesis prev_hash: ${head.seq - 1} earlier event(s) are missing and no retention record accounts for them`,
    };
  }
  return result;
}

/** The last RECENT verified events, in a ring (a verify walks millions). */
class Recent {
  private readonly ring: Seen[] = [];
  private next = 0;

  push(seen: Seen): void {
    this.ring[this.next] = seen;
    this.next = (this.next + 1) % RECENT;
  }

  /** Oldest first. */
  ordered(): Seen[] {
    return this.ring.length < RECENT ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}

async function fail(result: WalkResult, problem: ChainProblem, reader: BatchReader): Promise<WalkResult> {
  result.problem = problem;
  await reader.close();
  return result;
}

/** Pulls events from a source that yields them one by one or in batches. */
class BatchReader {
  private readonly iterator: AsyncIterator<LocatedEvent | readonly LocatedEvent[]>;

  constructor(source: AsyncIterable<LocatedEvent | readonly LocatedEvent[]>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** The next batch, or undefined at the end. */
  async next(): Promise<readonly LocatedEvent[] | undefined> {
    const next = await this.iterator.next();
    if (next.done) return undefined;
    return Array.isArray(next.value) ? (next.value as readonly LocatedEvent[]) : [next.value as LocatedEvent];
  }

  /** Up to LOOKAHEAD readable events after a break, starting with the rest of the current batch. */
  async readAhead(rest: readonly LocatedEvent[]): Promise<LocatedEvent[]> {
    const ahead: LocatedEvent[] = [];
    for (let chunk: readonly LocatedEvent[] | undefined = rest; chunk && ahead.length < LOOKAHEAD; chunk = await this.next()) {
      for (const at of chunk) {
        if (at.unreadable !== undefined || shapeProblem(at.event) || ahead.length >= LOOKAHEAD) return ahead;
        ahead.push(at);
      }
    }
    return ahead;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

function noteAnchor(event: AuditEvent, anchors: Set<string>): void {
  const { deleted_last_seq: seq, deleted_last_hash: hash } = event.details as { deleted_last_seq?: unknown; deleted_last_hash?: unknown };
  if (typeof seq === 'number' && typeof hash === 'string') anchors.add(`${seq}:${hash}`);
}

/** Names the break at `at` from the links around it. */
function classify(at: LocatedEvent, previous: Seen | undefined, recent: Seen[], ahead: LocatedEvent[], hasher: ChainHasher): ChainProblem {
  const event = at.event;
  const place = describePlace(at);
  const expectedPrev = previous?.hash ?? GENESIS_HASH;
  const expectedSeq = previous ? previous.seq + 1 : 1;
  const selfOk = hashMatches(event, hasher);
  const intact = (a: LocatedEvent): boolean => hashMatches(a.event, hasher);
  // The event that should be here comes later: what sits here was inserted or moved.
  const resumes = ahead.findIndex((a) => a.event.prev_hash === expectedPrev && intact(a));
  if (!selfOk) {
    if (resumes >= 0 && ahead[resumes]!.event.seq === expectedSeq) {
      return problemAt('inserted', at, `${place} was inserted: ${resumes + 1} event(s) here are not part of the chain (the next genuine event links to position ${at.position - 1})`);
    }
    if (hasher.keyed && new ChainHasher().digest(canonicalForm(event)) === event.hash) {
      return problemAt('unkeyed', at, `${place} carries a plain SHA-256 hash but the chain is keyed: the log was rewritten without the HMAC key`);
    }
    const hint = at.position === 1 && !hasher.keyed ? ' (or the log is HMAC-keyed: verify with its key)' : at.position === 1 ? ' (or the key is wrong)' : '';
    return problemAt('modified', at, `${place} was modified: its content no longer matches its hash${hint}`);
  }
  if (event.prev_hash !== expectedPrev) {
    const back = recent.findIndex((s) => s.hash === event.prev_hash);
    if (back >= 0 && back < recent.length - 1) {
      const firstInserted = recent[back + 1]!.at;
      return problemAt('inserted', firstInserted, `${describePlace(firstInserted)} was inserted: ${at.position - firstInserted.position} event(s) before ${place} are skipped by its prev_hash`);
    }
    if (resumes >= 0) {
      const genuine = ahead[resumes]!;
      if (event.seq === expectedSeq) {
        return problemAt('inserted', at, `${place} was inserted: it claims seq ${event.seq}, but the genuine seq ${expectedSeq} is at position ${genuine.position}`);
      }
      return problemAt('reordered', at, `${place} is out of order: seq ${expectedSeq} was expected here and is at position ${genuine.position}`);
    }
    if (event.seq > expectedSeq) {
      const missing = event.seq - expectedSeq;
      const range = missing === 1 ? `seq ${expectedSeq}` : `seq ${expectedSeq}..${event.seq - 1}`;
      if (previous && at.file !== previous.at.file && at.line === 1) {
        return problemAt('missing-segment', at, `a segment is missing between ${previous.at.file} and ${at.file}: ${missing} event(s) (${range}) before ${place}`);
      }
      return problemAt('deleted', at, `${missing} event(s) (${range}) were deleted before ${place}: its prev_hash names an event not in the log`);
    }
    if (previous && event.seq === expectedSeq) {
      const changed = previous.at;
      return problemAt('modified', changed, `${describePlace(changed)} was modified and its hash recomputed: the next event's prev_hash names a different hash`);
    }
    if (event.seq < expectedSeq && recent.some((s) => s.hash === event.hash)) {
      return problemAt('inserted', at, `${place} is a copy of an earlier event`);
    }
    return problemAt('reordered', at, `${place} is out of order: seq ${expectedSeq} was expected, with prev_hash ${expectedPrev.slice(0, 12)}…`);
  }
  return problemAt('modified', at, `${place} was modified: seq ${event.seq} does not follow ${previous ? `seq ${previous.seq}` : 'the genesis'} although its hash matches (the chain was recomputed)`);
}

const EVENT_FIELDS = 11;

/**
 * Whether an event's hash matches its canonical form. Fast path: our writers store details and
 * source with sorted keys, so native JSON.stringify of the parsed values is already canonical;
 * only when that does not match (keys reordered by another tool, integer-like keys, extra
 * fields) is the full RFC 8785 canonicalisation run.
 */
function hashMatches(event: AuditEvent, hasher: ChainHasher): boolean {
  if (Object.keys(event).length === EVENT_FIELDS) {
    const fast =
      `{"action_type":${JSON.stringify(event.action_type)},"actor":${JSON.stringify(event.actor)},"details":${JSON.stringify(event.details)},` +
      `"error":${JSON.stringify(event.error)},"id":${JSON.stringify(event.id)},"prev_hash":${JSON.stringify(event.prev_hash)},"seq":${event.seq},` +
      `"source":${JSON.stringify(event.source)},"status":${JSON.stringify(event.status)},"timestamp":${JSON.stringify(event.timestamp)}}`;
    if (hasher.digest(fast) === event.hash) return true;
  }
  return hasher.digest(canonicalForm(event)) === event.hash;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Why a record is not an audit event, or undefined when it is one. */
function shapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  if (!e.prev_hash && !e.hash) return 'it has no prev_hash and hash: written without a hash chain (an older logger, or another tool)';
  if (typeof e.id !== 'string') return 'id is missing';
  if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq < 1) return 'seq is not a positive integer';
  for (const key of ['timestamp', 'action_type', 'status'] as const) if (typeof e[key] !== 'string') return `${key} is not a string`;
  if (typeof e.details !== 'object' || e.details === null || Array.isArray(e.details)) return 'details is not an object';
  if (typeof e.source !== 'object' || e.source === null) return 'source is not an object';
  for (const key of ['error', 'actor'] as const) if (e[key] !== null && typeof e[key] !== 'string') return `${key} is neither a string nor null`;
  if (typeof e.prev_hash !== 'string' || !HEX64.test(e.prev_hash)) return 'prev_hash is not a SHA-256 hex digest';
  if (typeof e.hash !== 'string' || !HEX64.test(e.hash)) return 'hash is not a SHA-256 hex digest';
  return undefined;
}
