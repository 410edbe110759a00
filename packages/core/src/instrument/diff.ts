// diff(before, after): what changed between two snapshots, as dot paths plus the changed values nested as in the data.
import { InvalidEventError } from '../errors';
import type { Details } from '../event';
import { DEFAULT_LIMITS, toSafeValue } from '../safe-value';

/**
 * The changes between two snapshots. `before` and `after` hold only the values that changed,
 * nested exactly as in the snapshots, so key-based redaction (a `password` at any depth) still
 * finds them; the path lists name each change once.
 */
export interface Diff {
  /** Paths present on both sides whose value differs. */
  changed: string[];
  /** Paths present only after. */
  added: string[];
  /** Paths present only before. */
  removed: string[];
  /** The old values of changed and removed paths, nested. */
  before: Details;
  /** The new values of changed and added paths, nested. */
  after: Details;
}

/**
 * Compares two snapshots (plain objects; null or undefined count as empty). Both are first made
 * JSON-safe as details are (Dates become ISO strings, undefined keys vanish), so only differences
 * that would show in the log count. Objects are walked key by key; arrays and every other value
 * are compared whole, and a changed array is recorded whole on both sides. Paths join keys with
 * dots (`optimizer.lr`); a key that is empty or holds `.`, `[`, `]` or `"` is written as
 * `["a.b"]`. Paths are sorted as the keys are.
 */
export function diff(before: object | null | undefined, after: object | null | undefined): Diff {
  const result: Diff = { changed: [], added: [], removed: [], before: {}, after: {} };
  walk(snapshot(before, 'before'), snapshot(after, 'after'), [], result);
  return result;
}

/** Formats a key path as diff does: `a.b`, or `a["x.y"]` for awkward keys. */
export function formatPath(keys: readonly string[]): string {
  let path = '';
  for (const key of keys) {
    if (key === '' || /[.[\]"]/.test(key)) path += `[${JSON.stringify(key)}]`;
    else path += path === '' ? key : `.${key}`;
  }
  return path;
}

type Plain = Record<string, unknown>;

/** Compare strings whole: two long values that differ only past the logged length still differ. */
const WHOLE_STRINGS = { ...DEFAULT_LIMITS, maxStringLength: Number.MAX_SAFE_INTEGER };

function snapshot(value: unknown, side: string): Plain {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEventError(`diff: "${side}" must be an object, null or undefined, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const safe = toSafeValue(value, WHOLE_STRINGS);
  // An object with toJSON or an Error may not copy to a plain object; compare it as one value.
  return isPlain(safe) ? safe : { value: safe };
}

function walk(a: Plain, b: Plain, path: string[], out: Diff): void {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    const inA = Object.prototype.hasOwnProperty.call(a, key);
    const inB = Object.prototype.hasOwnProperty.call(b, key);
    const here = [...path, key];
    if (inA && !inB) {
      out.removed.push(formatPath(here));
      setAt(out.before, here, a[key]);
    } else if (!inA && inB) {
      out.added.push(formatPath(here));
      setAt(out.after, here, b[key]);
    } else if (isPlain(a[key]) && isPlain(b[key])) {
      walk(a[key], b[key], here, out);
    } else if (!sameValue(a[key], b[key])) {
      out.changed.push(formatPath(here));
      setAt(out.before, here, a[key]);
      setAt(out.after, here, b[key]);
    }
  }
}

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Both values are JSON-safe copies with sorted keys, so equal values serialise identically. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function setAt(root: Details, keys: readonly string[], value: unknown): void {
  let node: Plain = root;
  for (const key of keys.slice(0, -1)) {
    const next = Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
    if (isPlain(next)) node = next;
    else node = put(node, key, {}) as Plain;
  }
  put(node, keys[keys.length - 1]!, value);
}

/** Defines an own property, so a key named "__proto__" stays data instead of changing the prototype. */
function put(node: Plain, key: string, value: unknown): unknown {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}
