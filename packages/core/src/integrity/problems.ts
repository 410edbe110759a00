// What verification reports: the kinds of tampering it tells apart, and where it found the first one.
import type { AuditEvent } from '../event';

/**
 * How a log was found to be broken:
 * - `modified`: an event's content no longer matches its hash (or its successor's prev_hash);
 * - `deleted`: events are missing (a seq gap, and a prev_hash naming an event not in the log);
 * - `inserted`: an event that the chain skips over (a later event links past it);
 * - `reordered`: an event is out of place (the one expected here comes later);
 * - `truncated`: the log ends before a signed checkpoint;
 * - `rewritten`: an event differs from what a signed checkpoint recorded for its seq;
 * - `unkeyed`: the hash is a plain SHA-256 where the chain is keyed (recomputed without the key);
 * - `bad-signature`: a checkpoint's signature does not verify with the public key;
 * - `missing-checkpoint`: a checkpoint is missing from the checkpoint chain;
 * - `missing-segment`: a whole rotated segment of the journal is missing;
 * - `malformed`: a record is not a readable audit event.
 */
export type TamperKind =
  | 'modified'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'truncated'
  | 'rewritten'
  | 'unkeyed'
  | 'bad-signature'
  | 'missing-checkpoint'
  | 'missing-segment'
  | 'malformed';

/** The first problem verification found. */
export interface ChainProblem {
  /** What is wrong. */
  kind: TamperKind;
  /** 1-based position of the event in reading order (across segments), or of the checkpoint in its file. */
  position: number;
  /** Seq of the event at fault, when known. */
  seq?: number;
  /** Id of the event at fault, when known. */
  id?: string;
  /** File holding it, when read from a file. */
  file?: string;
  /** Line (or record) number in that file, when known. */
  line?: number;
  /** One sentence naming what is wrong. */
  message: string;
}

/** An event as read, with where it was read from. */
export interface LocatedEvent {
  /** The event (possibly malformed: checked by the walker). */
  event: AuditEvent;
  /** 1-based position in reading order. */
  position: number;
  /** File it was read from. */
  file?: string;
  /** Line or record number in that file. */
  line?: number;
  /** Set when the record could not be parsed: why. */
  unreadable?: string;
}

/** A readable place for messages: "position 7 (seq 7, id ...)". */
export function describePlace(at: LocatedEvent): string {
  const e = at.event as Partial<AuditEvent>;
  const inner: string[] = [];
  if (typeof e.seq === 'number') inner.push(`seq ${e.seq}`);
  if (typeof e.id === 'string') inner.push(`id ${e.id}`);
  return inner.length > 0 ? `position ${at.position} (${inner.join(', ')})` : `position ${at.position}`;
}

/** Builds a problem located at an event. */
export function problemAt(kind: TamperKind, at: LocatedEvent, message: string): ChainProblem {
  const e = at.event as Partial<AuditEvent>;
  return {
    kind,
    position: at.position,
    ...(typeof e.seq === 'number' ? { seq: e.seq } : {}),
    ...(typeof e.id === 'string' ? { id: e.id } : {}),
    ...(at.file !== undefined ? { file: at.file } : {}),
    ...(at.line !== undefined ? { line: at.line } : {}),
    message,
  };
}
