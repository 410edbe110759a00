// Redaction, on by default in AuditLogger: secret keys and configured paths are masked inside the
// one copy walk of details (a KeyRewriter: no second pass, no re-serialisation), and free text
// (error, actor, string values) is scanned with patterns. Runs before sealing, so no sink,
// file, row or request body ever sees the secret.
import type { BinaryLike, KeyObject } from 'node:crypto';
import { canonicalJson } from '../canonical';
import type { Details, DraftEvent } from '../event';
import { copyDetails, DEFAULT_LIMITS, KEEP, toSafeValue, type KeyRewriter, type SafeValueLimits } from '../safe-value';
import { ChainHasher } from '../seal';
import { PathRules } from './paths';
import { DEFAULT_PATTERNS, TextScanner, userPattern } from './patterns';
import { SecretKeys, type SecretKeyOptions } from './secret-keys';

/** What a redacted value becomes without a key. */
export const REDACTED = '[REDACTED]';

/** Prefix of a redacted value with a key: `hmac-sha256:<hex>`. */
export const HMAC_PREFIX = 'hmac-sha256:';

/** Options of redaction (`new AuditLogger({ redact: { ... } })`). */
export interface RedactionOptions extends SecretKeyOptions {
  /** Paths to redact besides secret keys: `details.db.password`, `details.*.token`, `details.**.ssn`, `error`, `actor`, `source.key`. */
  paths?: readonly string[];
  /** More patterns for free text; the whole match is masked, or only a group named `secret`. */
  patterns?: readonly RegExp[];
  /** Apply the built-in patterns (URL credentials, Bearer/Basic, `password=...`, private keys, known token formats); default true. */
  defaultPatterns?: boolean;
  /** Scan string values of details with the patterns too (default true); error and actor are always scanned. */
  scanValues?: boolean;
  /** Key for `hmac-sha256:<hex>` masks, so equal secrets correlate; default AUDIT_LOG_REDACT_KEY, else `[REDACTED]`. */
  hmacKey?: BinaryLike | KeyObject;
}

/** The mask `auditrail redact-lookup` prints: HMAC-SHA256 of a string value (UTF-8), or of a non-string's canonical JSON. */
export function redactionHash(value: unknown, key: BinaryLike | KeyObject): string {
  const text = typeof value === 'string' ? value : canonicalJson(toSafeValue(value));
  return HMAC_PREFIX + new ChainHasher(key).digest(text);
}

/** A configured redactor: the copy-walk hook for details, and the masking of error, actor and source. */
export class Redaction {
  /** The hook AuditLogger passes to the details copy: masks secret keys and configured paths as it copies. */
  readonly rewriteKey: KeyRewriter;
  private readonly keys: SecretKeys;
  private readonly paths: PathRules;
  private readonly scanner: TextScanner;
  private readonly scanValues: boolean;
  private readonly hasher: ChainHasher | undefined;
  private readonly maskText = (secret: string): string => this.mask(secret);

  constructor(options: RedactionOptions = {}, private readonly limits: SafeValueLimits = DEFAULT_LIMITS) {
    this.keys = new SecretKeys(options);
    this.paths = new PathRules(options.paths);
    const custom = (options.patterns ?? []).map(userPattern);
    this.scanner = new TextScanner([...(options.defaultPatterns === false ? [] : DEFAULT_PATTERNS), ...custom], custom.length > 0);
    this.scanValues = options.scanValues ?? true;
    const key = options.hmacKey ?? (process.env.AUDIT_LOG_REDACT_KEY || undefined);
    this.hasher = key === undefined ? undefined : new ChainHasher(key);
    this.rewriteKey = (key, path, value) => this.rewrite(key, path, value);
  }

  /** What a secret value becomes: `[REDACTED]`, or `hmac-sha256:<hex>` with a key. Null stays null (it reveals nothing). */
  mask(value: unknown): string {
    if (!this.hasher) return REDACTED;
    return HMAC_PREFIX + this.hasher.digest(typeof value === 'string' ? value : canonicalJson(toSafeValue(value, this.limits)));
  }

  /** Free text with the secrets that patterns find masked. */
  redactText(text: string): string {
    return this.scanner.scan(text, this.maskText);
  }

  /** A redacted JSON-safe copy of any details object (for code outside the logger). */
  redactDetails(details: unknown): Details {
    return copyDetails(details, this.limits, this.rewriteKey).details;
  }

  /** Masks error, actor and enriched source of a draft whose details were copied with `rewriteKey`. */
  redactDraft(draft: DraftEvent): void {
    if (draft.error !== null) draft.error = this.paths.error ? this.mask(draft.error) : this.redactText(draft.error);
    if (draft.actor !== null) draft.actor = this.paths.actor ? this.mask(draft.actor) : this.redactText(draft.actor);
    // The logger's own source is frozen and holds no secrets; an enriched one is a fresh copy.
    if (!Object.isFrozen(draft.source)) {
      const source = this.redactObject(draft.source, [], 'source');
      if (source !== draft.source) draft.source = source as DraftEvent['source'];
    }
  }

  private rewrite(key: string, path: readonly string[], value: unknown): unknown {
    if (value === undefined) return KEEP;
    if (this.keys.isSecret(key) || (this.paths.hasDetails && this.paths.matchesDetails(path, key))) return value === null ? null : this.mask(value);
    if (!this.scanValues) return KEEP;
    if (typeof value === 'string') {
      const cut = value.length > this.limits.maxStringLength ? (toSafeValue(value, this.limits) as string) : value;
      const scanned = this.redactText(cut);
      return scanned === cut ? KEEP : scanned;
    }
    if (Array.isArray(value)) {
      const scanned = this.scanArray(value, 0);
      return scanned === value ? KEEP : scanned;
    }
    return KEEP;
  }

  /** Bare strings in arrays have no key: scan them; the array is copied only when one changes. */
  private scanArray(items: readonly unknown[], depth: number): readonly unknown[] {
    if (depth >= 4) return items;
    let out: unknown[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      let next = item;
      if (typeof item === 'string') next = this.redactText(item.length > this.limits.maxStringLength ? (toSafeValue(item, this.limits) as string) : item);
      else if (Array.isArray(item)) next = this.scanArray(item, depth + 1);
      if (next !== item && !out) out = items.slice(0, i);
      out?.push(next);
    }
    return out ? out.map((item) => this.copyItem(item)) : items;
  }

  /** A JSON-safe copy of an array item, with the key rules applied inside objects. */
  private copyItem(item: unknown): unknown {
    if (Array.isArray(item)) return item.map((inner) => this.copyItem(inner));
    if (typeof item === 'object' && item !== null) return copyDetails({ '': item }, this.limits, this.rewriteKey).details[''] ?? null;
    return toSafeValue(item, this.limits) ?? null;
  }

  private redactObject(object: Record<string, unknown>, path: string[], root: 'source'): Record<string, unknown> {
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(object)) {
      const value = object[key];
      let next = value;
      if (this.keys.isSecret(key) || (this.paths.hasSource && this.paths.matchesSource(path, key))) next = value === null || value === undefined ? value : this.mask(value);
      else if (typeof value === 'string') next = this.redactText(value);
      else if (typeof value === 'object' && value !== null && !Array.isArray(value) && path.length < 8) {
        next = this.redactObject(value as Record<string, unknown>, [...path, key], root);
      }
      if (next !== value) {
        out ??= { ...object };
        out[key] = next;
      }
    }
    return out ?? object;
  }
}

/** The logger's redaction for its `redact` option: on by default, `false` turns it off. */
export function redactionFor(option: boolean | RedactionOptions | undefined, limits: SafeValueLimits): Redaction | undefined {
  if (option === false) return undefined;
  return new Redaction(option === true || option === undefined ? {} : option, limits);
}
