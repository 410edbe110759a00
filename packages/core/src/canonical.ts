// RFC 8785 JSON Canonicalization Scheme for the JSON-safe values auditrail records.
// (The canonicalize package is ESM-only since v3, which a CommonJS build cannot require.)
//
// Speed matters here (verify canonicalises every event of a log): a subtree whose keys are
// already in order, as in every copy of details, is handed to the native JSON.stringify whole;
// only objects with keys out of order are assembled key by key.

/** Nesting below which a subtree is checked for the native path; deeper (or cyclic) input takes the recursive one. */
const MAX_NATIVE_DEPTH = 64;

/**
 * Canonical JSON text: object keys sorted by UTF-16 code units, no whitespace, numbers and
 * strings serialised as ECMAScript's JSON.stringify does (which RFC 8785 adopts).
 * Non-finite numbers have no JSON form and throw; undefined members are omitted.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot canonicalise ${value}`);
    return JSON.stringify(value) ?? 'null';
  }
  if (nativeIsCanonical(value, 0)) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item: unknown = value[i];
      out += item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 'null' : canonicalJson(item);
    }
    return out + ']';
  }
  return membersJson(value as Record<string, unknown>, Object.keys(value).sort(), undefined);
}

/** Canonical JSON of an object's members under `keys` (sorted), leaving out `skip`. */
export function membersJson(record: Record<string, unknown>, keys: readonly string[], skip: string | undefined): string {
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === skip) continue;
    const item = record[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    if (!first) out += ',';
    first = false;
    out += memberName(key) + canonicalJson(item);
  }
  return out + '}';
}

const NAME_CACHE_LIMIT = 4096;
const nameCache = new Map<string, string>();

/** `"key":`, cached: the same keys come back in every event. */
function memberName(key: string): string {
  let name = nameCache.get(key);
  if (name === undefined) {
    name = JSON.stringify(key) + ':';
    if (nameCache.size >= NAME_CACHE_LIMIT) nameCache.clear();
    nameCache.set(key, name);
  }
  return name;
}

/**
 * Whether JSON.stringify(value) is already its canonical text: plain objects and arrays only
 * (no toJSON, which JSON.stringify would call), finite numbers, and every object's keys in
 * sorted order (JSON.stringify follows Object.keys order, which puts integer-like keys first,
 * so out-of-order integer keys are caught by the same test).
 */
function nativeIsCanonical(value: object, depth: number): boolean {
  if (depth >= MAX_NATIVE_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!itemIsCanonical(value[i], depth)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  const record = value as Record<string, unknown>;
  for (let i = 0; i < keys.length; i++) {
    const item = record[keys[i]!];
    if (keys[i] === 'toJSON' && typeof item === 'function') return false;
    if (!itemIsCanonical(item, depth)) return false;
  }
  return true;
}

function itemIsCanonical(item: unknown, depth: number): boolean {
  switch (typeof item) {
    case 'string':
    case 'boolean':
    case 'undefined': // omitted from objects, null in arrays: the same both ways
    case 'function':
    case 'symbol':
      return true;
    case 'number':
      return Number.isFinite(item);
    case 'object':
      return item === null || nativeIsCanonical(item, depth + 1);
    default:
      return false; // bigint: the recursive path reports it
  }
}
