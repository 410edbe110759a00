// The AuditLogger's checks of its own options: each bad value is an InvalidOptionError naming it, before anything is created.
import { InvalidOptionError } from './errors';
import type { LogFormat } from './format';
import { loadPrivateKey } from './integrity/keys';
import { DEFAULT_CHECKPOINT_EVERY, type CheckpointOptions } from './integrity/checkpoints';
import { checkWholeNumber } from './option-checks';
import { refuseUnknownOptions } from './option-names';
import { DEFAULT_LIMITS, type SafeValueLimits } from './safe-value';
import type { StatusScheme } from './statuses';

/** Below this, a live writer's lock (held through a GC pause, a synchronous stretch, an fsync) could be taken for abandoned. */
export const MIN_LOCK_STALE_MS = 1000;

/** A path with a NUL byte would be cut short by the system: refuse it instead of writing somewhere else. */
export function checkRootLogDir(dir: unknown): string {
  if (typeof dir !== 'string' || dir === '') throw new InvalidOptionError('rootLogDir', 'must be a non-empty string');
  if (dir.includes('\0')) throw new InvalidOptionError('rootLogDir', `${JSON.stringify(dir)} contains a NUL byte`);
  return dir;
}

/** An experiment name, which names a directory: no separators, NUL, "." or "..". */
export function checkExperimentName(name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || name.trim() === '') throw new InvalidOptionError('experimentName', 'must be a non-empty string');
  if (name.includes('\0') || /[\\/]/.test(name) || name === '.' || name === '..' || name.length > 200) {
    throw new InvalidOptionError('experimentName', `${JSON.stringify(name)} must not contain path separators or NUL, be "." or "..", or exceed 200 characters`);
  }
  return name;
}

/**
 * The limits of the details copy, merged over the defaults. Each is a whole number with a floor that
 * leaves room for its own marker (`_truncated`, `…[truncated N chars]`); a depth past 1,000 would
 * overflow the stack before the cap is reached.
 */
export function checkLimits(limits: unknown): SafeValueLimits {
  if (limits === undefined) return DEFAULT_LIMITS;
  if (typeof limits !== 'object' || limits === null) throw new InvalidOptionError('limits', `must be an object, got ${limits === null ? 'null' : typeof limits}`);
  const given = limits as Partial<Record<keyof SafeValueLimits, unknown>>;
  refuseUnknownOptions(given, Object.keys(DEFAULT_LIMITS), 'limits', 'a limit');
  return {
    maxDetailsBytes: checkWholeNumber('limits.maxDetailsBytes', given.maxDetailsBytes ?? DEFAULT_LIMITS.maxDetailsBytes, 1024),
    maxStringLength: checkWholeNumber('limits.maxStringLength', given.maxStringLength ?? DEFAULT_LIMITS.maxStringLength, 64),
    maxDepth: checkWholeNumber('limits.maxDepth', given.maxDepth ?? DEFAULT_LIMITS.maxDepth, 1, 1000),
  };
}

/** A status scheme, not a list of statuses or a scheme's name. */
export function checkStatusScheme(scheme: unknown, option: string): StatusScheme {
  const candidate = scheme as Partial<StatusScheme> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.isValid !== 'function' || typeof candidate.severity !== 'function' || typeof candidate.defaultStatus !== 'string') {
    const got = Array.isArray(scheme) ? 'an array' : scheme === null ? 'null' : typeof scheme;
    throw new InvalidOptionError(option, `must be a status scheme (pipelineStatuses, outcomeStatuses, defineStatuses([...]) or statusValidator(...)), got ${got}`);
  }
  return candidate as StatusScheme;
}

/** Signed checkpoints, with the private key loaded now (a bad key fails here, not at every logEvent). */
export function checkCheckpoints(checkpoints: CheckpointOptions | undefined, formats: readonly LogFormat[]): CheckpointOptions | undefined {
  if (checkpoints === undefined) return undefined;
  if (typeof checkpoints !== 'object' || checkpoints === null) throw new InvalidOptionError('checkpoints', 'must be an object with privateKey (and every)');
  refuseUnknownOptions(checkpoints, ['privateKey', 'every'] satisfies (keyof CheckpointOptions)[], 'checkpoints');
  if (formats.length === 0) throw new InvalidOptionError('checkpoints', "need a log file to sign: format 'none' writes none");
  const every = checkWholeNumber('checkpoints.every', checkpoints.every ?? DEFAULT_CHECKPOINT_EVERY, 1);
  return { privateKey: loadPrivateKey(checkpoints.privateKey), every };
}
