// Streams the events of a log that a command asked for: filtered, in recorded or reverse order, limited, in bounded memory.
import { AuditReadError, parseTimestampUs, readEvents, type AuditEvent, type LogFileRef } from '@auditrail/core';
import { logFiles, type OpenedLog } from './open-log';

export { openLog, type OpenedLog } from './open-log';

/** Which events a command selects; every condition given must hold. */
export interface Selection {
  /** Only these action types (exact match). */
  actions?: ReadonlySet<string>;
  /** Only these statuses (matched case-insensitively; store them lower-cased). */
  statuses?: ReadonlySet<string>;
  /** Only events at or after this time, in microseconds since the epoch. */
  sinceUs?: number;
  /** Only events at or before this time, in microseconds since the epoch. */
  untilUs?: number;
  /** At most this many events: the oldest ones, or the newest ones with `newestFirst`. */
  limit?: number;
  /** Newest first instead of oldest first. */
  newestFirst?: boolean;
  /** Called for every event read, selected or not: drives progress bars. */
  onRead?: () => void;
}

/** Whether an event passes the selection's filters (not its limit or order). */
export function matches(event: AuditEvent, selection: Selection): boolean {
  if (selection.actions && !selection.actions.has(event.action_type)) return false;
  if (selection.statuses && !selection.statuses.has(event.status.toLowerCase())) return false;
  if (selection.sinceUs !== undefined || selection.untilUs !== undefined) {
    const us = parseTimestampUs(event.timestamp);
    if (selection.sinceUs !== undefined && !(us >= selection.sinceUs)) return false;
    if (selection.untilUs !== undefined && !(us <= selection.untilUs)) return false;
  }
  return true;
}

/**
 * The selected events of a log. Events come in the order they were recorded (the file's
 * order; a newest-first JSON array is read back to front). Memory stays bounded by the
 * limit, except when the wanted order is the reverse of the file's and no limit is given.
 */
export async function* selectEvents(log: LogFileRef | OpenedLog, selection: Selection = {}): AsyncGenerator<AuditEvent> {
  const limit = selection.limit ?? Infinity;
  if (limit <= 0) return;
  const { events, reversed } = await withFileDirection(log);
  if (Boolean(selection.newestFirst) === reversed) {
    let count = 0;
    for await (const event of events) {
      selection.onRead?.();
      if (!matches(event, selection)) continue;
      yield event;
      if (++count >= limit) return;
    }
    return;
  }
  const last = new LastN<AuditEvent>(limit);
  for await (const event of events) {
    selection.onRead?.();
    if (matches(event, selection)) last.push(event);
  }
  yield* last.newestFirst();
}

/** Every event of a log in file order (a rotated journal's segments first), each checked to be an audit event. */
export async function* checkedEvents(log: LogFileRef | OpenedLog): AsyncGenerator<AuditEvent> {
  for (const file of logFiles(log)) {
    let n = 0;
    for await (const value of readEvents(file)) {
      n++;
      yield checkEvent(value, file.path, n);
    }
  }
}

/** Throws AuditReadError unless a parsed value has the fields every command relies on. */
export function checkEvent(value: unknown, path: string, n: number): AuditEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuditReadError(`${path}: event ${n} is not an audit event: expected an object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  const event = value as Partial<AuditEvent>;
  for (const field of ['timestamp', 'action_type', 'status'] as const) {
    if (typeof event[field] !== 'string') {
      throw new AuditReadError(`${path}: event ${n} is not an audit event: "${field}" is ${event[field] === undefined ? 'missing' : 'not a string'}`);
    }
  }
  if (Number.isNaN(parseTimestampUs(event.timestamp!))) {
    throw new AuditReadError(`${path}: event ${n} has an invalid timestamp ${JSON.stringify(event.timestamp)}`);
  }
  return value as AuditEvent;
}

/** Only JSON arrays are ever written newest-first (the first seed's order): tell by their first two events. */
async function withFileDirection(log: LogFileRef | OpenedLog): Promise<{ events: AsyncIterable<AuditEvent>; reversed: boolean }> {
  const source = checkedEvents(log);
  if (log.format !== 'json') return { events: source, reversed: false };
  const head: AuditEvent[] = [];
  for (let i = 0; i < 2; i++) {
    const next = await source.next();
    if (next.done) break;
    head.push(next.value);
  }
  const reversed = head.length === 2 && recordedBefore(head[1]!, head[0]!);
  async function* replay(): AsyncGenerator<AuditEvent> {
    yield* head;
    yield* source;
  }
  return { events: replay(), reversed };
}

/** Whether `a` was recorded before `b`: by seq within one log, else by timestamp (files of the seeds' tools carry no seq). */
function recordedBefore(a: AuditEvent, b: AuditEvent): boolean {
  if (typeof a.seq === 'number' && typeof b.seq === 'number' && a.seq > 0 && b.seq > 0) return a.seq < b.seq;
  return parseTimestampUs(a.timestamp) < parseTimestampUs(b.timestamp);
}

/** Keeps the last `capacity` items pushed (all of them when unbounded) and gives them back newest first. */
class LastN<T> {
  private readonly items: T[] = [];
  private start = 0;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
  }

  *newestFirst(): Generator<T> {
    const n = this.items.length;
    for (let i = n - 1; i >= 0; i--) yield this.items[(this.start + i) % n]!;
  }
}
