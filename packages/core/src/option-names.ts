// Catches a misspelled option name (`fsynch`, `formats`, `root_log_dir`) at construction instead of ignoring it.
// Other unknown names are left alone: a subclass may carry options of its own in the same object.
import { InvalidOptionError } from './errors';

/**
 * Throws InvalidOptionError for the first own field of `options` that is not in `known` but looks
 * like a misspelling of a name that is (same letters ignoring case, `_` and `-`; or one or two
 * letters off), naming the option it meant; not the backing field of an option given too
 * (`_format` beside a `format` getter). `path` prefixes the field in
 * the message ("delivery"). Throws as well when `options` is not an object.
 */
export function refuseMisspelledOptions(options: object, known: readonly string[], path?: string): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(path ?? 'options', `must be an object, got ${options === null ? 'null' : typeof options}`);
  const names = new Set(known);
  for (const name of Object.keys(options)) {
    if (names.has(name)) continue;
    const meant = closestName(name, known);
    if (meant === undefined) continue;
    // The option's backing field next to the option (a class keeping `_rootLogDir` behind a `rootLogDir` getter): not a misspelling.
    if (meant in options && name.replace(/^_+/, '') === meant) continue;
    const field = path === undefined ? name : `${path}.${name}`;
    throw new InvalidOptionError(field, `is not an option; did you mean "${meant}"?`);
  }
}

/**
 * Throws InvalidOptionError for the first own field of `options` (a nested options object of a
 * fixed shape, at `path`) that is not in `known`, naming the option meant when it looks like a
 * misspelling, and the known ones. `what` names such a field in the message ("a limit").
 */
export function refuseUnknownOptions(options: object, known: readonly string[], path: string, what = 'an option'): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const meant = closestName(name, known);
    const hint = meant === undefined ? '' : `; did you mean "${meant}"?`;
    throw new InvalidOptionError(`${path}.${name}`, `is not ${what}${hint} (known: ${known.join(', ')})`);
  }
}

/** The known name that `name` most likely misspells, if any. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const given = normalise(name);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const target = normalise(candidate);
    // Short names are more alike by chance: two letters off counts only between names of six or more.
    const allowed = Math.min(given.length, target.length) >= 6 ? 2 : 1;
    const distance = given === target ? 0 : editDistance(given, target, allowed);
    if (distance <= allowed && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/** Optimal string alignment distance (insertions, deletions, substitutions, adjacent swaps), or more than `limit` once it exceeds it. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}
