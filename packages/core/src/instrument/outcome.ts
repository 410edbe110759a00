// Which statuses of a logger's scheme mean "it worked" and "it failed", for instrumentation that records outcomes.
import { InvalidOptionError } from '../errors';
import { describeValue } from '../option-checks';
import { refuseMisspelledOptions } from '../option-names';
import type { StatusScheme } from '../statuses';

/** The statuses an instrumented call records: one for success, one for failure. */
export interface OutcomeStatuses {
  /** Status of a call that returned. */
  readonly success: string;
  /** Status of a call that threw or ended with an error. */
  readonly failure: string;
}

/** Names of failure statuses looked for, in order, when none is given. */
const FAILURE_NAMES = ['failed', 'FAILURE', 'failure', 'FAILED', 'error', 'ERROR'];

/**
 * Picks the outcome statuses within a scheme: success is "success" when the scheme has it, else
 * the scheme's default (INFO); failure is the first of failed, FAILURE, failure, FAILED, error,
 * ERROR that the scheme accepts. Either can be named instead; a name the scheme rejects, or a
 * scheme with no failure status and none named, throws InvalidOptionError.
 */
export function resolveOutcomeStatuses(scheme: StatusScheme, chosen: Partial<OutcomeStatuses> = {}): OutcomeStatuses {
  for (const key of ['success', 'failure'] as const) {
    const status = chosen[key];
    if (status !== undefined && (typeof status !== 'string' || !scheme.isValid(status))) {
      throw new InvalidOptionError(`statuses.${key}`, `${JSON.stringify(status)} is not a status of scheme "${scheme.name}"`);
    }
  }
  const success = chosen.success ?? (scheme.isValid('success') ? 'success' : scheme.defaultStatus);
  const failure = chosen.failure ?? FAILURE_NAMES.find((name) => scheme.isValid(name));
  if (failure === undefined) {
    throw new InvalidOptionError('statuses.failure', `scheme "${scheme.name}" has none of ${FAILURE_NAMES.join(', ')}; name its failure status`);
  }
  return { success, failure };
}

/** Refuses a `statuses` option that is not an object { success?, failure? }, or whose field is a misspelling of one (named); at construction. */
export function checkOutcomeStatuses(chosen: unknown): void {
  if (chosen === undefined) return;
  if (typeof chosen !== 'object' || chosen === null || Array.isArray(chosen)) throw new InvalidOptionError('statuses', `${describeValue(chosen)} is not an object { success?, failure? }`);
  refuseMisspelledOptions(chosen, Object.keys({ success: 0, failure: 0 } satisfies Record<keyof OutcomeStatuses, 0>), 'statuses');
}

/** Caches the resolution per scheme, since a logger's scheme can change with `use(plugin)`. */
export function outcomeResolver(chosen: Partial<OutcomeStatuses> = {}): (scheme: StatusScheme) => OutcomeStatuses {
  checkOutcomeStatuses(chosen);
  const cache = new WeakMap<StatusScheme, OutcomeStatuses>();
  return (scheme) => {
    let resolved = cache.get(scheme);
    if (!resolved) {
      resolved = resolveOutcomeStatuses(scheme, chosen);
      cache.set(scheme, resolved);
    }
    return resolved;
  };
}
