// Which object keys hold secrets: names compared case-insensitively with `_`, `-`, `.` and spaces ignored.

/** Key names whose value is always a secret (normalised: lowercase, no `_ - .` or spaces). */
export const DEFAULT_SECRET_KEYS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'authorization',
  'cookie',
  'privatekey',
  'credentials',
  'credential',
];

/**
 * A key that ends with one of these is a secret too: `db_password`, `client_secret`,
 * `X-Api-Key`, `openai_api_key`, `set-cookie`, `ssh_private_key`, `aws_secret_access_key`,
 * `hf_token`, `github_token`, `refresh_token`, `proxy-authorization`.
 */
export const DEFAULT_SECRET_SUFFIXES: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'authorization',
  'cookie',
  'privatekey',
  'credentials',
  'secretkey',
  'secretaccesskey',
];

/**
 * Keys a suffix rule would catch that are not secrets: a tokenizer's special tokens are
 * ordinary configuration in ML pipelines (`eos_token: "</s>"`).
 */
export const DEFAULT_ALLOWED_KEYS: readonly string[] = [
  'eostoken',
  'bostoken',
  'padtoken',
  'unktoken',
  'septoken',
  'clstoken',
  'masktoken',
  'starttoken',
  'endtoken',
  'specialtoken',
  'maxtoken',
  'numtoken',
  'nexttoken',
  'lasttoken',
  'firsttoken',
  'cachedtoken',
];

/** Lowercase without `_`, `-`, `.` and whitespace: `X-Api_Key` → `xapikey`. */
export function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[\s_.-]+/g, '');
}

/** Options of key classification. */
export interface SecretKeyOptions {
  /** More secret key names (any case and separators). */
  keys?: readonly string[];
  /** Key names never treated as secret by the name rules (paths still apply). */
  allowKeys?: readonly string[];
  /** Use only `keys`, without the defaults (and without the suffix rules). */
  replaceDefaultKeys?: boolean;
}

const CACHE_LIMIT = 4096;

/** Classifies key names, caching the verdict per raw key (keys repeat from event to event). */
export class SecretKeys {
  private readonly exact: Set<string>;
  private readonly suffixes: readonly string[];
  private readonly allowed: Set<string>;
  private readonly cache = new Map<string, boolean>();

  constructor(options: SecretKeyOptions = {}) {
    const extra = (options.keys ?? []).map(normaliseKey).filter((k) => k !== '');
    this.exact = new Set(options.replaceDefaultKeys ? extra : [...DEFAULT_SECRET_KEYS, ...extra]);
    this.suffixes = options.replaceDefaultKeys ? [] : DEFAULT_SECRET_SUFFIXES;
    this.allowed = new Set([...(options.replaceDefaultKeys ? [] : DEFAULT_ALLOWED_KEYS), ...(options.allowKeys ?? []).map(normaliseKey)]);
  }

  /** Whether the value under this key is a secret. */
  isSecret(key: string): boolean {
    let verdict = this.cache.get(key);
    if (verdict === undefined) {
      verdict = this.classify(key);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, verdict);
    }
    return verdict;
  }

  private classify(key: string): boolean {
    const name = normaliseKey(key);
    if (this.allowed.has(name)) return false;
    if (this.exact.has(name)) return true;
    for (const suffix of this.suffixes) if (name.endsWith(suffix)) return true;
    return false;
  }
}
