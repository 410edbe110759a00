// Turns the arguments of logEvent (either seed's form) into a validated draft event.
import { InvalidEventError, InvalidOptionError, InvalidStatusError } from './errors';
import type { AnyCatalog, DraftEvent, EventInput, EventSource, LogEventArgs } from './event';
import { capString, copyDetails, copyValue, type CopyHooks, type SafeValueLimits } from './safe-value';
import type { StatusScheme } from './statuses';

/** Longest action name the logger records, in UTF-16 units. */
export const MAX_ACTION_LENGTH = 256;

/** The fields of a call to logEvent, whichever form it took. */
export interface NormalisedInput {
  /** Action name as given. */
  action: unknown;
  /** Details as given. */
  details: unknown;
  /** Status as given, if any. */
  status: unknown;
  /** Error as given, if any. */
  error: unknown;
  /** Actor as given, if any. */
  actor: unknown;
}

/** Reads logEvent's arguments: `(action, details?, status?)` or `({ action | action_type | event_name, ... })`. */
export function normaliseArgs(args: LogEventArgs | readonly unknown[]): NormalisedInput {
  const [first, details, status] = args as readonly unknown[];
  if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
    const input = first as EventInput<AnyCatalog> & Record<string, unknown>;
    const names = ['action', 'action_type', 'event_name'].filter((key) => input[key] !== undefined);
    if (names.length > 1) throw new InvalidEventError(`give one of action, action_type or event_name, not ${names.join(' and ')}`);
    return {
      action: input.action ?? input.action_type ?? input.event_name,
      details: input.details,
      status: input.status,
      error: input.error,
      actor: input.actor,
    };
  }
  return { action: first, details, status, error: undefined, actor: undefined };
}

/** Validates and copies an input into a draft; throws InvalidEventError or InvalidStatusError, writing nothing. */
export function draftFrom(
  input: NormalisedInput,
  scheme: StatusScheme,
  limits: SafeValueLimits,
  source: EventSource,
  defaultActor: string | null,
  hooks?: CopyHooks,
): DraftEvent {
  const action = checkAction(input.action);
  const status = input.status === undefined || input.status === null ? scheme.defaultStatus : input.status;
  if (typeof status !== 'string' || !scheme.isValid(status)) throw new InvalidStatusError(status, scheme.name, scheme.statuses);
  if (input.details !== undefined && input.details !== null && (typeof input.details !== 'object' || Array.isArray(input.details))) {
    throw new InvalidEventError(`details of "${action}" must be an object, got ${Array.isArray(input.details) ? 'an array' : typeof input.details}`);
  }
  let copied: ReturnType<typeof copyDetails>;
  try {
    copied = copyDetails(input.details, limits, hooks);
  } catch (err) {
    // Only exotic objects get here (a revoked Proxy, say): everything else has a safe form.
    throw new InvalidEventError(`details of "${action}" cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    action_type: action,
    status,
    details: copied.details,
    detailsCanonical: copied.stringifyIsCanonical,
    error: errorText(input.error, action, limits, hooks),
    actor: actorText(input.actor, defaultActor, limits.maxStringLength),
    source,
  };
}

/** Why a value is not an action the logger records (a non-empty string of at most 256 characters, no control characters), or undefined when it is one. */
export function actionProblem(action: unknown): string | undefined {
  if (typeof action !== 'string') return `must be a non-empty string, got ${action === null ? 'null' : typeof action}`;
  if (action.trim().length === 0) return 'must be a non-empty string, got an empty one';
  if (action.length > MAX_ACTION_LENGTH) return `is ${action.length} characters long; the limit is ${MAX_ACTION_LENGTH}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(action)) return `${JSON.stringify(action)} contains control characters`;
  return undefined;
}

function checkAction(action: unknown): string {
  const problem = actionProblem(action);
  if (problem !== undefined) throw new InvalidEventError(`action ${problem}`);
  return wellFormed(action as string);
}

/**
 * An Error is recorded as "Name: message"; a string as it is; anything else as the JSON of its
 * safe copy (cycles, BigInt, null prototypes handled; secret keys masked by the hooks); empty as
 * null. Capped at maxStringLength. The text is scanned with patterns later, as every error is.
 */
function errorText(error: unknown, action: string, limits: SafeValueLimits, hooks: CopyHooks | undefined): string | null {
  if (error === undefined || error === null || error === '') return null;
  let text: string;
  try {
    if (typeof error === 'string') text = error;
    else if (error instanceof Error) text = `${textOf(error.name, limits)}: ${textOf(error.message, limits)}`;
    else {
      const safe = copyValue(error, limits, hooks && { rewriteKey: hooks.rewriteKey });
      text = typeof safe === 'string' ? safe : JSON.stringify(safe);
    }
  } catch (err) {
    // Only exotic objects get here (a revoked Proxy, say).
    throw new InvalidEventError(`error of "${action}" cannot be read: ${err instanceof Error ? err.message : typeof err}`);
  }
  return wellFormed(capString(text, limits.maxStringLength));
}

/** A name or message as text, whatever a custom Error put there. */
function textOf(value: unknown, limits: SafeValueLimits): string {
  if (typeof value === 'string') return value;
  const safe = copyValue(value, limits);
  return typeof safe === 'string' ? safe : (JSON.stringify(safe) ?? '');
}

/** The logger's `actor` option as recorded: capped and well-formed as an event's own actor; null when not given. */
export function defaultActorOf(actor: unknown, maxLength: number): string | null {
  if (actor === undefined || actor === null) return null;
  if (typeof actor !== 'string' || actor === '') throw new InvalidOptionError('actor', `must be a non-empty string, got ${typeof actor === 'string' ? '""' : typeof actor}`);
  return wellFormed(capString(actor, maxLength));
}

function actorText(actor: unknown, fallback: string | null, maxLength: number): string | null {
  if (actor === undefined || actor === null || actor === '') return fallback;
  if (typeof actor !== 'string') throw new InvalidEventError(`actor must be a string, got ${actor === null ? 'null' : typeof actor}`);
  return wellFormed(capString(actor, maxLength));
}

const SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A lone surrogate has no UTF-8 form: CSV (raw text cells) would store U+FFFD and its hash
 * would no longer verify. Free-text fields get U+FFFD up front, so every format holds the same
 * text (details keep them: JSON escapes them as \udXXX everywhere).
 */
function wellFormed(text: string): string {
  return SURROGATE.test(text) ? text.replace(LONE_SURROGATE, '\ufffd') : text;
}
