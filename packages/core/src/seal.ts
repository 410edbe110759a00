// The hash chain: each event's hash covers its RFC 8785 canonical form (every field but `hash`, prev_hash included).
// The canonical text and the JSON line are assembled from the same serialised parts, so each
// value is serialised once per event.
import { createHash, createSecretKey, hash as oneShotHash, KeyObject, type BinaryLike } from 'node:crypto';
import { InvalidOptionError } from './errors';
import { membersJson } from './canonical';
import type { AuditEvent, Details, EventSource } from './event';

/** prev_hash of the first event of a log: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** An event before its hash is computed. */
export type UnsealedEvent = Omit<AuditEvent, 'hash'>;

/** The fields of an event in on-disk order, and sorted (the canonical order). */
const DISK_ORDER: readonly string[] = ['id', 'seq', 'timestamp', 'action_type', 'status', 'details', 'error', 'actor', 'source', 'prev_hash', 'hash'];
const CANONICAL_ORDER: readonly string[] = [...DISK_ORDER].sort();

/** The bytes that are hashed: the RFC 8785 canonical JSON of every field but `hash`. */
export function canonicalForm(event: UnsealedEvent | AuditEvent): string {
  const keys = Object.keys(event);
  // An event as written (or parsed from a line) has exactly these keys in this order: skip the sort.
  const sorted = sameKeys(keys, DISK_ORDER) ? CANONICAL_ORDER : keys.sort();
  return membersJson(event as unknown as Record<string, unknown>, sorted, 'hash');
}

function sameKeys(keys: readonly string[], expected: readonly string[]): boolean {
  if (keys.length !== expected.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== expected[i]) return false;
  return true;
}

/** SHA-256 (or HMAC-SHA256 with a key) of canonical text, as lowercase hex. */
export class ChainHasher {
  /** With a key: the inner pad followed by room for the text (the inner hash's input, reused). */
  private innerInput: Buffer | undefined;
  /** With a key: the outer pad followed by the 32 bytes of the inner hash (the outer hash's input, reused). */
  private readonly outerInput: Buffer | undefined;

  /**
   * @param option the option the key came from, named when it is not a usable key
   * @param allowEmpty accept an empty key (a verifier checking a log that was keyed with one); a writer refuses it
   */
  constructor(key?: BinaryLike | KeyObject, option = 'hmacKey', allowEmpty = false) {
    if (key === undefined) return;
    checkSecretKey(key, option, allowEmpty);
    // HMAC (RFC 2104) from two one-shot hashes over reused buffers: several times cheaper per event than createHmac.
    let raw = toKeyBuffer(key);
    if (raw.length > 64) raw = createHash('sha256').update(raw).digest();
    const padded = Buffer.concat([raw, Buffer.alloc(64 - raw.length)]);
    this.innerInput = Buffer.alloc(4096);
    for (let i = 0; i < 64; i++) this.innerInput[i] = padded[i]! ^ 0x36;
    this.outerInput = Buffer.alloc(96);
    for (let i = 0; i < 64; i++) this.outerInput[i] = padded[i]! ^ 0x5c;
  }

  /** Whether a key is in use. */
  get keyed(): boolean {
    return this.innerInput !== undefined;
  }

  /** The hex digest of `text`. */
  digest(text: string): string {
    let inner = this.innerInput;
    const outer = this.outerInput;
    if (!inner || !outer) return oneShotHash('sha256', text, 'hex');
    const room = 64 + text.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (room > inner.length) {
      const grown = Buffer.alloc(Math.max(room, inner.length * 2));
      inner.copy(grown, 0, 0, 64);
      inner = this.innerInput = grown;
    }
    const length = 64 + inner.write(text, 64);
    const innerHex = oneShotHash('sha256', new Uint8Array(inner.buffer, inner.byteOffset, length), 'hex');
    outer.write(innerHex, 64, 'hex');
    return oneShotHash('sha256', outer, 'hex');
  }
}

/** Refuses what cannot key an HMAC: an empty key (anyone could recompute the hashes), a public or private key, a number. */
function checkSecretKey(key: unknown, option: string, allowEmpty: boolean): void {
  let length: number;
  if (typeof key === 'string') length = key.length;
  else if (ArrayBuffer.isView(key)) length = key.byteLength;
  else if (key instanceof KeyObject) {
    if (key.type !== 'secret') throw new InvalidOptionError(option, `must be a secret key, got a ${key.type} key`);
    length = key.symmetricKeySize ?? 0;
  } else throw new InvalidOptionError(option, `must be a string, a Buffer or a secret KeyObject, got ${key === null ? 'null' : typeof key}`);
  if (length === 0 && !allowEmpty) throw new InvalidOptionError(option, 'must not be empty: anyone could compute an HMAC with an empty key');
}

function toKeyBuffer(key: BinaryLike | KeyObject): Buffer {
  if (typeof key === 'string') return Buffer.from(key);
  if (Buffer.isBuffer(key)) return key;
  if (ArrayBuffer.isView(key)) return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return (key.type === 'secret' ? key : createSecretKey(key.export())).export();
}

/** SHA-256 of an event's canonical form, or HMAC-SHA256 with `key`, as lowercase hex. */
export function computeHash(event: UnsealedEvent | AuditEvent, key?: BinaryLike | KeyObject): string {
  return new ChainHasher(key).digest(canonicalForm(event));
}

/** What sealing needs: the event's fields plus the canonical JSON of details and source. */
export interface SealParts {
  id: string;
  seq: number;
  timestamp: string;
  action_type: string;
  status: string;
  details: Details;
  /** Canonical JSON of details. */
  detailsJson: string;
  error: string | null;
  actor: string | null;
  source: EventSource;
  /** Canonical JSON of source. */
  sourceJson: string;
  prev_hash: string;
}

/** Seals parts into an event and its JSON line (fields in on-disk order, no newline). */
export function sealEvent(parts: SealParts, hasher: ChainHasher): { event: AuditEvent; json: string } {
  const action = quoted(parts.action_type);
  const status = quoted(parts.status);
  const error = parts.error === null ? 'null' : JSON.stringify(parts.error);
  const actor = parts.actor === null ? 'null' : JSON.stringify(parts.actor);
  const canonical =
    `{"action_type":${action},"actor":${actor},"details":${parts.detailsJson},"error":${error},"id":"${parts.id}",` +
    `"prev_hash":"${parts.prev_hash}","seq":${parts.seq},"source":${parts.sourceJson},"status":${status},"timestamp":"${parts.timestamp}"}`;
  const hash = hasher.digest(canonical);
  const json =
    `{"id":"${parts.id}","seq":${parts.seq},"timestamp":"${parts.timestamp}","action_type":${action},"status":${status},` +
    `"details":${parts.detailsJson},"error":${error},"actor":${actor},"source":${parts.sourceJson},"prev_hash":"${parts.prev_hash}","hash":"${hash}"}`;
  const event: AuditEvent = {
    id: parts.id,
    seq: parts.seq,
    timestamp: parts.timestamp,
    action_type: parts.action_type,
    status: parts.status,
    details: parts.details,
    error: parts.error,
    actor: parts.actor,
    source: parts.source,
    prev_hash: parts.prev_hash,
    hash,
  };
  return { event, json };
}

const QUOTED_LIMIT = 1024;
const quotedCache = new Map<string, string>();

/** JSON.stringify of a string, cached: actions and statuses repeat from event to event. */
function quoted(text: string): string {
  let json = quotedCache.get(text);
  if (json === undefined) {
    json = JSON.stringify(text);
    if (quotedCache.size >= QUOTED_LIMIT) quotedCache.clear();
    quotedCache.set(text, json);
  }
  return json;
}
