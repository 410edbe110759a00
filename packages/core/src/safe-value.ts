// Turns any value a caller passes as details into a JSON-safe copy, with a documented form for each awkward type.
// Object keys come out sorted (RFC 8785 order), so the copy serialises to its canonical form with plain JSON.stringify.
import type { Details } from './event';

/** Limits applied while copying details. */
export interface SafeValueLimits {
  /** Serialised size above which top-level keys are dropped (default 65,536 bytes; at least 1,024). */
  maxDetailsBytes: number;
  /** Strings longer than this are cut, with a marker (default 16,384 characters; at least 64). */
  maxStringLength: number;
  /** Nesting deeper than this becomes "[MaxDepth]" (default 32; 1 to 1,000). */
  maxDepth: number;
}

/** Default limits. */
export const DEFAULT_LIMITS: SafeValueLimits = { maxDetailsBytes: 65_536, maxStringLength: 16_384, maxDepth: 32 };

/** Key added to details that were cut to fit `maxDetailsBytes`. */
export const TRUNCATED_KEY = '_truncated';

/** Replaces the value of a key during the copy (used by key-based redaction); return `keep` to leave it. */
export type KeyRewriter = (key: string, path: readonly string[], value: unknown) => unknown;

/** Returned by a KeyRewriter to keep the value as it is. */
export const KEEP: unique symbol = Symbol('keep');

/** Hooks of the details copy (redaction): key rules per entry, and a scan of every string the copy produces. */
export interface CopyHooks {
  /** Called for each object key and each string key of a Map, before its value is copied. */
  readonly rewriteKey?: KeyRewriter;
  /** Called on every string value the copy emits (after the length cap): values, array, Map and Set items, toJSON results. */
  readonly scanText?: (text: string) => string;
}

interface CopyState {
  readonly limits: SafeValueLimits;
  /** The objects being copied, outermost first: meeting one of them again is a cycle. */
  readonly ancestors: object[];
  readonly rewrite: KeyRewriter | undefined;
  readonly scan: ((text: string) => string) | undefined;
  readonly path: string[];
  /** Set when an object has an integer-like key, which JSON.stringify would not emit in sorted order. */
  indexKeys: boolean;
}

/** A copied details object, and whether JSON.stringify of it is already canonical. */
export interface CopiedDetails {
  /** The JSON-safe copy, keys sorted. */
  details: Details;
  /** True unless an object has integer-like keys (JavaScript orders those first). */
  stringifyIsCanonical: boolean;
}

/**
 * A JSON-safe deep copy. Circular references become "[Circular]", BigInt its decimal string,
 * NaN/Infinity/-Infinity their names as strings, -0 becomes 0, Date its ISO string, Map an
 * array of [key, value] pairs, Set an array, Buffer and typed arrays {type, base64}, Error
 * {name, message, stack, ...own fields, cause}, functions "[Function name]", Symbols
 * "Symbol(desc)"; undefined is omitted from objects and null in arrays; a throwing getter or
 * toJSON becomes "[Unreadable: message]".
 */
export function toSafeValue(value: unknown, limits: SafeValueLimits = DEFAULT_LIMITS): unknown {
  return copy(value, newState(limits, undefined));
}

/** A JSON-safe copy of any value with the copy hooks applied (key rules inside objects and Maps, patterns on strings). */
export function copyValue(value: unknown, limits: SafeValueLimits, hooks?: CopyHooks): unknown {
  return copy(value, newState(limits, hooks));
}

/** A string cut to `maxLength` characters, with a marker saying how many were dropped. */
export function capString(text: string, maxLength: number): string {
  return text.length > maxLength ? text.slice(0, maxLength) + `…[truncated ${text.length - maxLength} chars]` : text;
}

/** Copies details (a plain object, or absent for {}); a non-object value is kept as { value }. */
export function toSafeDetails(details: unknown, limits: SafeValueLimits = DEFAULT_LIMITS): Details {
  return copyDetails(details, limits).details;
}

/** Copies details and reports whether their JSON.stringify is canonical. */
export function copyDetails(details: unknown, limits: SafeValueLimits, hooks?: CopyHooks): CopiedDetails {
  if (details === undefined || details === null) return { details: {}, stringifyIsCanonical: true };
  const state = newState(limits, hooks);
  const copied = copy(details, state);
  const object: Details = typeof copied === 'object' && copied !== null && !Array.isArray(copied) ? (copied as Details) : { value: copied };
  return { details: object, stringifyIsCanonical: !state.indexKeys };
}

function newState(limits: SafeValueLimits, hooks: CopyHooks | undefined): CopyState {
  return { limits, ancestors: [], rewrite: hooks?.rewriteKey, scan: hooks?.scanText, path: [], indexKeys: false };
}

function copy(value: unknown, state: CopyState): unknown {
  switch (typeof value) {
    case 'string': {
      const text = capString(value, state.limits.maxStringLength);
      return state.scan ? state.scan(text) : text;
    }
    case 'number':
      return value === 0 ? 0 : Number.isFinite(value) ? value : String(value); // 0 and -0 give 0
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
      return undefined;
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function ${value.name || 'anonymous'}]`;
    default:
      break;
  }
  if (value === null) return null;
  const object = value as object;
  if (state.path.length >= state.limits.maxDepth) return '[MaxDepth]';
  // A short stack scanned linearly beats a Set for the few levels details have; a throw
  // abandons the whole copy, so the stack needs no cleanup on that path.
  const ancestors = state.ancestors;
  if (ancestors.includes(object)) return '[Circular]';
  ancestors.push(object);
  const copied = copyObject(object, state);
  ancestors.pop();
  return copied;
}

function copyObject(object: object, state: CopyState): unknown {
  if (Array.isArray(object)) return copyArray(object, state);
  const proto: unknown = Object.getPrototypeOf(object);
  // A plain object is none of the special types below: skip their checks (the common case).
  if (proto !== Object.prototype && proto !== null) return copySpecial(object, state);
  return copyPlain(object, state);
}

/** Items copied in order; a hole stays a hole (JSON gives it null), undefined becomes null. */
function copyArray(array: readonly unknown[], state: CopyState): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (item === undefined && !(i in array)) {
      out.length = i + 1;
      continue;
    }
    out.push(copy(item, state) ?? null);
  }
  return out;
}

function copySpecial(object: object, state: CopyState): unknown {
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (object instanceof Map) return Array.from(object, ([k, v]) => copyMapEntry(k, v, state));
  if (object instanceof Set) return Array.from(object, (v) => copy(v, state) ?? null);
  if (ArrayBuffer.isView(object)) {
    const bytes = Buffer.from(object.buffer, object.byteOffset, object.byteLength);
    return { base64: bytes.toString('base64'), type: Buffer.isBuffer(object) ? 'Buffer' : object.constructor.name };
  }
  if (object instanceof ArrayBuffer) return { base64: Buffer.from(object).toString('base64'), type: 'ArrayBuffer' };
  if (object instanceof Error) return copyError(object, state);
  return copyPlain(object, state);
}

/** A Map entry as a [key, value] pair; a string key gets the key rules, as an object key would. */
function copyMapEntry(key: unknown, value: unknown, state: CopyState): [unknown, unknown] {
  const safeKey = copy(key, state) ?? null;
  if (typeof key !== 'string') return [safeKey, copy(value, state) ?? null];
  if (state.rewrite && value !== undefined) {
    const rewritten = state.rewrite(key, state.path, value);
    if (rewritten !== KEEP) return [safeKey, rewritten];
  }
  state.path.push(key);
  const safe = copy(value, state) ?? null;
  state.path.pop();
  return [safeKey, safe];
}

function copyPlain(object: object, state: CopyState): unknown {
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    let json: unknown;
    try {
      json = toJSON.call(object);
    } catch (err) {
      return `[Unreadable: ${messageOf(err)}]`;
    }
    return copy(json, state);
  }
  return copyEntries(object as Record<string, unknown>, Object.keys(object), state);
}

function copyEntries(object: Record<string, unknown>, keys: string[], state: CopyState, extra?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isSorted(keys)) keys.sort();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!state.indexKeys && isIndexKey(key)) state.indexKeys = true;
    let item: unknown;
    try {
      item = extra && key in extra ? extra[key] : object[key];
    } catch (err) {
      item = `[Unreadable: ${messageOf(err)}]`;
    }
    if (state.rewrite) {
      const rewritten = state.rewrite(key, state.path, item);
      if (rewritten !== KEEP) {
        setOwn(out, key, rewritten);
        continue;
      }
    }
    state.path.push(key);
    const safe = copy(item, state);
    state.path.pop();
    if (safe !== undefined) setOwn(out, key, safe);
  }
  return out;
}

/** `out[key] = value`, except that a "__proto__" key (valid JSON data) becomes an own property instead of a prototype change. */
function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

function copyError(error: Error, state: CopyState): Record<string, unknown> {
  const fields: Record<string, unknown> = { name: error.name, message: error.message };
  if (error.stack !== undefined) fields.stack = error.stack;
  if (error.cause !== undefined) fields.cause = error.cause;
  const keys = new Set([...Object.keys(fields), ...Object.keys(error)]);
  return copyEntries(error as unknown as Record<string, unknown>, [...keys], state, fields);
}

/** Whether keys are already in sort() order (UTF-16 code units), as the keys of a copy are. */
function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

function isIndexKey(key: string): boolean {
  const first = key.charCodeAt(0);
  return first >= 48 && first <= 57 && /^(0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4294967295;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Cuts details whose serialised size exceeds `maxBytes`: keys are kept in order while they
 * fit, the rest dropped, and `_truncated` says how big the original was and what was dropped.
 */
export function capDetails(details: Details, serialisedBytes: number, maxBytes: number): Details {
  const kept: Details = {};
  const dropped: string[] = [];
  let used = 2 + 300; // braces plus room for the marker itself
  for (const [key, value] of Object.entries(details)) {
    const entry = Buffer.byteLength(JSON.stringify(key) + ':' + JSON.stringify(value) + ',');
    if (dropped.length === 0 && used + entry <= maxBytes) {
      setOwn(kept, key, value);
      used += entry;
    } else {
      dropped.push(key);
    }
  }
  kept[TRUNCATED_KEY] = { dropped_count: dropped.length, dropped_keys: dropped.slice(0, 20), limit_bytes: maxBytes, original_bytes: serialisedBytes };
  const sorted: Details = {};
  for (const key of Object.keys(kept).sort()) setOwn(sorted, key, kept[key]);
  return sorted;
}
