// Secrets inside free text (error messages, string values): credentials in URLs, auth headers,
// `password=...` pairs, private key blocks and well-known token formats. Patterns, so best effort.

/** A pattern and which capture group holds the secret (0: the whole match). */
export interface SecretPattern {
  /** Global regular expression. */
  regex: RegExp;
  /** Group of the secret within a match: its number (0: the whole match) or 'secret' for a group named so. */
  group: number | 'secret';
}

const SECRET_WORDS = 'password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|authorization|cookie';

/** The patterns applied by default. */
export const DEFAULT_PATTERNS: readonly SecretPattern[] = [
  // scheme://user:password@host
  { regex: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:([^\s@/]+)@/gi, group: 1 },
  // Authorization: Bearer xyz / Basic xyz
  { regex: /\b(?:bearer|basic)\s+([A-Za-z0-9._~+/-]{8,}=*)/gi, group: 1 },
  // password=xyz, "api_key": "xyz", secret: xyz, --token xyz is not covered (no separator)
  { regex: new RegExp(`\\b[\\w.-]*(?:${SECRET_WORDS})["']?\\s*[:=]\\s*["']?(?!(?:bearer|basic)\\s)([^\\s"',;&}]+)`, 'gi'), group: 1 },
  // PEM private keys
  { regex: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, group: 0 },
  // AWS access key ids, GitHub, Slack, OpenAI/Anthropic-style, Hugging Face, Stripe tokens, JWTs
  { regex: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, group: 0 },
  { regex: /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, group: 0 },
  { regex: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, group: 0 },
  { regex: /\bsk-[A-Za-z0-9_-]{20,}/g, group: 0 },
  { regex: /\bhf_[A-Za-z0-9]{30,}\b/g, group: 0 },
  { regex: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b/g, group: 0 },
  { regex: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, group: 0 },
];

/** One cheap test that any default pattern could match; most strings fail it and skip the patterns. */
const TRIGGER = /:\/\/|bearer|basic|token|secret|passw|pwd|passphrase|key|credential|authoriz|cookie|AKIA|ASIA|gh[pousr]_|xox|sk-|[rs]k_|hf_|eyJ/i;

/** Replaces the secrets that patterns find in a text. */
export class TextScanner {
  private readonly patterns: readonly SecretPattern[];
  private readonly custom: boolean;

  constructor(patterns: readonly SecretPattern[], custom: boolean) {
    this.patterns = patterns;
    this.custom = custom;
  }

  /** The text with each secret replaced by `mask(secret)`; the same string when nothing matched. */
  scan(text: string, mask: (secret: string) => string): string {
    // The built-in patterns need at least 8 characters and one of the trigger words; a user's may match anything.
    if (!this.custom && (text.length < 8 || !TRIGGER.test(text))) return text;
    let out = text;
    for (const { regex, group } of this.patterns) {
      regex.lastIndex = 0;
      if (!regex.test(out)) continue;
      regex.lastIndex = 0;
      out = out.replace(regex, (...args: unknown[]) => {
        const match = args[0] as string;
        const secret = (group === 'secret' ? (args[args.length - 1] as Record<string, string | undefined>).secret : args[group]) as string | undefined;
        if (!secret || isMask(secret)) return match;
        if (group === 0) return mask(secret);
        const start = match.lastIndexOf(secret);
        return match.slice(0, start) + mask(secret) + match.slice(start + secret.length);
      });
    }
    return out;
  }
}

function isMask(text: string): boolean {
  return text.startsWith('[REDACTED]') || text.startsWith('hmac-sha256:');
}

/** A user's pattern: a RegExp (made global), the whole match being the secret unless it has a group named `secret`. */
export function userPattern(regex: RegExp): SecretPattern {
  const flags = regex.flags.includes('g') ? regex.flags : regex.flags + 'g';
  return { regex: new RegExp(regex.source, flags), group: regex.source.includes('(?<secret>') ? 'secret' : 0 };
}
