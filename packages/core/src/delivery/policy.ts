// Delivery policy: batching, concurrency, timeouts and retry, with defaults, validation and the backoff formula.
import { InvalidOptionError } from '../errors';
import { checkMilliseconds } from '../option-checks';

/** How the delivery engine feeds one batch sink. Every field has a default. */
export interface DeliveryPolicy {
  /** Most events in one batch (default 512). */
  maxBatchSize: number;
  /** Most bytes of event JSON in one batch (default 1 MiB); a single larger event still goes alone. */
  maxBatchBytes: number;
  /** How long a partial batch waits for more events before it is sent (default 200 ms). */
  maxBatchDelayMs: number;
  /** Batches in flight at once (default 1, which keeps batches in order). */
  concurrency: number;
  /** Timeout of one export; the sink's AbortSignal fires then (default 10,000 ms). */
  exportTimeoutMs: number;
  /** First retry delay's ceiling (default 100 ms); it doubles each attempt. */
  initialBackoffMs: number;
  /** Ceiling of every retry delay (default 30,000 ms). */
  maxBackoffMs: number;
  /** Ceiling of a sink's Retry-After (default 300,000 ms). */
  maxRetryAfterMs: number;
  /** Attempts before a retryable failure is dead-lettered (default Infinity: the journal holds the backlog). */
  maxAttempts: number;
  /** Consecutive failures after which the sink is reported 'isolated' (default 5). */
  isolateAfterFailures: number;
  /** Where a sink with no cursor starts: 'beginning' of the journal (default) or its current 'end'. */
  startFrom: 'beginning' | 'end';
}

/** The defaults of every policy field. */
export const DEFAULT_DELIVERY_POLICY: Readonly<DeliveryPolicy> = Object.freeze({
  maxBatchSize: 512,
  maxBatchBytes: 1 << 20,
  maxBatchDelayMs: 200,
  concurrency: 1,
  exportTimeoutMs: 10_000,
  initialBackoffMs: 100,
  maxBackoffMs: 30_000,
  maxRetryAfterMs: 300_000,
  maxAttempts: Infinity,
  isolateAfterFailures: 5,
  startFrom: 'beginning',
});

const POSITIVE_INTEGERS = ['maxBatchSize', 'maxBatchBytes', 'concurrency', 'maxAttempts', 'isolateAfterFailures'] as const;
const DURATIONS = ['maxBatchDelayMs', 'exportTimeoutMs', 'initialBackoffMs', 'maxBackoffMs', 'maxRetryAfterMs'] as const;

/** Merges partial policies over the defaults (later wins) and fails fast on a bad field, naming it. */
export function resolvePolicy(owner: string, ...layers: (Partial<DeliveryPolicy> | undefined)[]): DeliveryPolicy {
  const policy: DeliveryPolicy = { ...DEFAULT_DELIVERY_POLICY };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      if (!(key in DEFAULT_DELIVERY_POLICY)) throw new InvalidOptionError(`${owner}.${key}`, 'is not a delivery policy field');
      (policy as unknown as Record<string, unknown>)[key] = value;
    }
  }
  for (const key of POSITIVE_INTEGERS) {
    const value = policy[key];
    if (!(value === Infinity || (Number.isInteger(value) && value >= 1))) {
      throw new InvalidOptionError(`${owner}.${key}`, `must be a whole number of at least 1, got ${String(value)}`);
    }
  }
  for (const key of DURATIONS) checkMilliseconds(`${owner}.${key}`, policy[key], 0); // each ends up in a timer
  if (policy.exportTimeoutMs === 0) throw new InvalidOptionError(`${owner}.exportTimeoutMs`, 'must be more than 0');
  if (policy.maxBackoffMs < policy.initialBackoffMs) {
    throw new InvalidOptionError(`${owner}.maxBackoffMs`, `(${policy.maxBackoffMs}) must be at least initialBackoffMs (${policy.initialBackoffMs})`);
  }
  if (policy.startFrom !== 'beginning' && policy.startFrom !== 'end') {
    throw new InvalidOptionError(`${owner}.startFrom`, `must be "beginning" or "end", got ${JSON.stringify(policy.startFrom)}`);
  }
  return policy;
}

/**
 * Delay before retry number `attempt` (1 for the first retry): exponential backoff with full
 * jitter (AWS Architecture Blog, 2015), a uniform draw in [0, min(cap, base * 2^(attempt-1))).
 * A Retry-After from the sink wins when it is longer, itself capped by maxRetryAfterMs.
 */
export function retryDelay(attempt: number, policy: Pick<DeliveryPolicy, 'initialBackoffMs' | 'maxBackoffMs' | 'maxRetryAfterMs'>, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt - 1, 52));
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs) || retryAfterMs <= 0) return jittered;
  return Math.max(jittered, Math.min(Math.ceil(retryAfterMs), policy.maxRetryAfterMs));
}
