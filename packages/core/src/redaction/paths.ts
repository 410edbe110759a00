// Configured redaction paths: `details.db.password`, `details.*.token`, `details.**.secret`, `error`, `actor`, `source.run_url`.
import { InvalidOptionError } from '../errors';

const ROOTS = ['details', 'error', 'actor', 'source'] as const;

/** Compiled redaction paths. `*` matches one key, `**` any number of keys; array elements are transparent. */
export class PathRules {
  private readonly details: string[][] = [];
  private readonly source: string[][] = [];
  /** Redact the whole error message. */
  readonly error: boolean = false;
  /** Redact the actor (with an HMAC key: pseudonymise it). */
  readonly actor: boolean = false;

  constructor(paths: readonly string[] = []) {
    for (const path of paths) {
      if (typeof path !== 'string' || path.trim() === '') throw new InvalidOptionError('redact.paths', `each path must be a non-empty string, got ${JSON.stringify(path)}`);
      const [root, ...rest] = path.split('.');
      if (!ROOTS.includes(root as (typeof ROOTS)[number])) {
        throw new InvalidOptionError('redact.paths', `${JSON.stringify(path)} must start with ${ROOTS.join(', ')}`);
      }
      if (rest.some((segment) => segment === '')) throw new InvalidOptionError('redact.paths', `${JSON.stringify(path)} has an empty segment`);
      if (root === 'error' || root === 'actor') {
        if (rest.length > 0) throw new InvalidOptionError('redact.paths', `${JSON.stringify(path)}: ${root} is text, it has no keys`);
        (this as { error: boolean; actor: boolean })[root] = true;
        continue;
      }
      if (rest.length === 0) throw new InvalidOptionError('redact.paths', `${JSON.stringify(path)} names all of ${root}; name the keys to redact`);
      (root === 'details' ? this.details : this.source).push(rest);
    }
  }

  /** Whether any details path is configured. */
  get hasDetails(): boolean {
    return this.details.length > 0;
  }

  /** Whether any source path is configured. */
  get hasSource(): boolean {
    return this.source.length > 0;
  }

  /** Whether details key `key` under `path` (keys from the root of details) is named by a rule. */
  matchesDetails(path: readonly string[], key: string): boolean {
    return this.details.some((rule) => matches(rule, 0, path, key, 0));
  }

  /** Whether source key `key` under `path` is named by a rule. */
  matchesSource(path: readonly string[], key: string): boolean {
    return this.source.some((rule) => matches(rule, 0, path, key, 0));
  }
}

/** Glob match of rule[i..] against (path + key)[j..], without building the joined array. */
function matches(rule: readonly string[], i: number, path: readonly string[], key: string, j: number): boolean {
  const length = path.length + 1;
  if (i === rule.length) return j === length;
  const segment = rule[i]!;
  if (segment === '**') {
    for (let k = j; k <= length; k++) if (matches(rule, i + 1, path, key, k)) return true;
    return false;
  }
  if (j === length) return false;
  const part = j < path.length ? path[j]! : key;
  return (segment === '*' || segment === part) && matches(rule, i + 1, path, key, j + 1);
}
