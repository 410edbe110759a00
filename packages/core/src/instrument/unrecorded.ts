// What the HTTP and gRPC instrumentation do with an event they could not record, and with what an actor() callback returned.
import { describe as errorMessage } from '../errors';
import { describeValue, isThenable } from '../option-checks';

/**
 * Hands an event that could not be recorded to `onError`, by default a process warning (AuditrailWarning,
 * code EVENT_NOT_RECORDED). An onError that throws or rejects becomes that warning too, never an uncaught
 * error that would end the host process. `what` names the kind of event ("an HTTP"), `call` the request or call.
 */
export function reportUnrecorded(what: string, err: unknown, call: string, onError: (() => unknown) | undefined): void {
  const warn = (extra = ''): void =>
    process.emitWarning(`auditrail: ${what} audit event was not recorded: ${errorMessage(err)}${extra} (${call})`, { type: 'AuditrailWarning', code: 'EVENT_NOT_RECORDED' });
  if (!onError) return warn();
  try {
    const result = onError();
    if (isThenable(result)) result.then(undefined, (thrown: unknown) => warn(`; onError rejected: ${errorMessage(thrown)}`));
  } catch (thrown) {
    warn(`; onError threw: ${errorMessage(thrown)}`);
  }
}

/** What an actor() callback returned, when the logger takes it; a non-string throws (the event is then recorded without an actor, with the reason). */
export function checkActorResult(actor: unknown): string | null | undefined {
  if (actor === undefined || actor === null || typeof actor === 'string') return actor;
  throw new Error(`actor() returned ${describeValue(actor)}, not a string`);
}
