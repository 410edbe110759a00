// Before/after snapshots for instrumentation: taken as copies, recorded as a diff (or whole) in an event's details.
import type { Details } from '../event';
import { DEFAULT_LIMITS, toSafeValue } from '../safe-value';
import { diff } from './diff';

const WHOLE_STRINGS = { ...DEFAULT_LIMITS, maxStringLength: Number.MAX_SAFE_INTEGER };

/** A snapshot as taken: its JSON-safe copy, or why it could not be taken. */
export type Snapshot = { readonly value: unknown } | { readonly error: string };

/** How snapshots go into details: 'diff' records only what changed, 'full' both whole. */
export type SnapshotMode = 'diff' | 'full';

/** Takes a snapshot now, as a copy: the call being audited may mutate the very object the getter returns. Never throws. */
export async function takeSnapshot(get: () => unknown): Promise<Snapshot> {
  try {
    // Strings are kept whole so that a change past the logged length still counts; the logger cuts them when recording.
    return { value: toSafeValue(await get(), WHOLE_STRINGS) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Adds snapshots to details. In 'diff' mode, two object snapshots become `before` and `after`
 * (the changed values only, nested) plus the `changed`, `added` and `removed` paths; otherwise
 * (or when a snapshot is not an object) `before` and `after` hold the snapshots whole. A
 * snapshot that failed is recorded as `before_error` or `after_error`.
 */
export function addSnapshotDetails(details: Details, before: Snapshot | undefined, after: Snapshot | undefined, mode: SnapshotMode = 'diff'): void {
  if (before && 'error' in before) details.before_error = before.error;
  if (after && 'error' in after) details.after_error = after.error;
  const b = before && 'value' in before ? before.value : undefined;
  const a = after && 'value' in after ? after.value : undefined;
  const hasB = before !== undefined && 'value' in before;
  const hasA = after !== undefined && 'value' in after;
  if (mode === 'diff' && hasB && hasA && isObject(b) && isObject(a)) {
    const changes = diff(b, a);
    Object.assign(details, { before: changes.before, after: changes.after, changed: changes.changed, added: changes.added, removed: changes.removed });
    return;
  }
  if (hasB) details.before = b ?? null;
  if (hasA) details.after = a ?? null;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
