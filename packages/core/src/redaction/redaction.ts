// Redaction, on by default in AuditLogger: secret keys and configured paths are masked inside the
// one copy walk of details (CopyHooks: no second pass, no re-serialisation), every string the copy
// emits is scanned with patterns, and so are error, actor and enriched source. Runs before
// sealing, so no sink, file, row or request body ever sees the secret.
import { InvalidOptionError } from '../errors';
import { refuseUnknownOptions } from '../option-names';
import type { BinaryLike, KeyObject } from 'node:crypto';
import { canonicalJson } from '../canonical';
import type { Details, DraftEvent } from '../event';
import { copyDetails, DEFAULT_LIMITS, KEEP, toSafeValue, type CopyHooks, type KeyRewriter, type SafeValueLimits } from '../safe-value';
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
  /** The key hook of the details copy: masks secret keys and configured paths as it copies. */
  readonly rewriteKey: KeyRewriter;
  /** The hooks AuditLogger passes to the details copy: key rules, and patterns on every string value (unless `scanValues: false`). */
  readonly hooks: CopyHooks;
  private readonly keys: SecretKeys;
  private readonly paths: PathRules;
  private readonly scanner: TextScanner;
  private readonly scanValues: boolean;
  private readonly hasher: ChainHasher | undefined;
  private readonly maskText = (secret: string): string => this.mask(secret);

  constructor(options: RedactionOptions = {}, private readonly limits: SafeValueLimits = DEFAULT_LIMITS) {
    checkRedactionOptions(options);
    this.keys = new SecretKeys(options);
    this.paths = new PathRules(options.paths);
    const custom = (options.patterns ?? []).map(userPattern);
    this.scanner = new TextScanner([...(options.defaultPatterns === false ? [] : DEFAULT_PATTERNS), ...custom], custom.length > 0);
    this.scanValues = options.scanValues ?? true;
    const key = options.hmacKey ?? (process.env.AUDIT_LOG_REDACT_KEY || undefined);
    this.hasher = key === undefined ? undefined : new ChainHasher(key, 'redact.hmacKey');
    this.rewriteKey = (key, path, value) => this.rewrite(key, path, value);
    this.hooks = this.scanValues ? { rewriteKey: this.rewriteKey, scanText: (text) => this.redactText(text) } : { rewriteKey: this.rewriteKey };
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
    return copyDetails(details, this.limits, this.hooks).details;
  }

  /** Masks error, actor and enriched source of a draft whose details were copied with `hooks`. */
  redactDraft(draft: DraftEvent): void {
    if (draft.error !== null) draft.error = this.paths.error ? this.mask(draft.error) : this.redactText(draft.error);
    if (draft.actor !== null) draft.actor = this.paths.actor ? this.mask(draft.actor) : this.redactText(draft.actor);
    // The logger's own source is frozen and holds no secrets; an enriched one is a fresh copy.
    if (!Object.isFrozen(draft.source)) {
      const source = this.redactObject(draft.source, [], 'source');
      if (source !== draft.source) draft.source = source as DraftEvent['source'];
    }
  }

  /** Key rules only: string values are scanned by the copy's `scanText` hook, wherever they sit. */
  private rewrite(key: string, path: readonly string[], value: unknown): unknown {
    if (value === undefined) return KEEP;
    if (this.keys.isSecret(key) || (this.paths.hasDetails && this.paths.matchesDetails(path, key))) return value === null ? null : this.mask(value);
    return KEEP;
  }

  private redactObject(object: Record<string, unknown>, path: string[], root: 'source'): Record<string, unknown> {
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(object)) {
      const value = object[key];
      let next = value;
      if (this.keys.isSecret(key) || (this.paths.hasSource && this.paths.matchesSource(path, key))) next = value === null || value === undefined ? value : this.mask(value);
      else if (typeof value === 'string') next = this.redactText(value);
      else next = this.redactValue(value, [...path, key], root);
      if (next !== value) {
        out ??= { ...object };
        out[key] = next;
      }
    }
    return out ?? object;
  }

  /** A source value with its strings scanned, through objects and arrays (argv, say); the same value when nothing changed. */
  private redactValue(value: unknown, path: string[], root: 'source'): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (typeof value !== 'object' || value === null || path.length > 8) return value;
    if (!Array.isArray(value)) return this.redactObject(value as Record<string, unknown>, path, root);
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const next = this.redactValue(value[i], path, root);
      if (next !== value[i]) (out ??= value.slice())[i] = next;
    }
    return out ?? value;
  }
}

/** The logger's redaction for its `redact` option: on by default, `false` turns it off. */
export function redactionFor(option: boolean | RedactionOptions | undefined, limits: SafeValueLimits): Redaction | undefined {
  if (option === false) return undefined;
  return new Redaction(option === true || option === undefined ? {} : option, limits);
}

const REDACTION_FIELDS: Record<keyof RedactionOptions, 'strings' | 'regexps' | 'boolean' | 'key'> = {
  keys: 'strings',
  allowKeys: 'strings',
  replaceDefaultKeys: 'boolean',
  paths: 'strings',
  patterns: 'regexps',
  defaultPatterns: 'boolean',
  scanValues: 'boolean',
  hmacKey: 'key',
};

/** The `redact` option when it is what it should be: each field of the right type, none unknown (a typo would switch a rule off silently). */
function checkRedactionOptions(option: unknown): RedactionOptions {
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new InvalidOptionError('redact', `must be true, false or an object of redaction options, got ${Array.isArray(option) ? 'an array' : option === null ? 'null' : typeof option}`);
  }
  refuseUnknownOptions(option, Object.keys(REDACTION_FIELDS), 'redact', 'a redaction option');
  for (const [field, value] of Object.entries(option)) {
    const kind = REDACTION_FIELDS[field as keyof RedactionOptions]!;
    if (value === undefined || kind === 'key') continue; // the key is checked where it is used
    const ok =
      kind === 'boolean' ? typeof value === 'boolean'
      : kind === 'strings' ? Array.isArray(value) && value.every((item) => typeof item === 'string')
      : Array.isArray(value) && value.every((item) => item instanceof RegExp);
    if (!ok) {
      const wanted = kind === 'boolean' ? 'true or false' : kind === 'strings' ? 'a list of strings' : 'a list of regular expressions';
      throw new InvalidOptionError(`redact.${field}`, `must be ${wanted}`);
    }
  }
  return option as RedactionOptions;
}
