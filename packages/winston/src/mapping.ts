// How a winston log line maps to an audit event: which lines are audit lines, and where action, status, details, error and actor come from.
import type { AnyCatalog, Details, EventInput, StatusScheme } from '@auditrail/core';
import type winston from 'winston';
import { statusForLevel } from './levels';

/** Fields of a winston line that the mapping reads itself; every other field becomes a detail. */
const READ_FIELDS = new Set(['level', 'message', 'audit', 'action', 'action_type', 'status', 'details', 'error', 'actor', 'timestamp']);
const LEVEL = Symbol.for('level');

/** How AuditTransport reads winston lines. */
export interface LineMapping {
  /** Lines without audit fields: 'ignore' them (default) or 'record' them, the message as the action. */
  others: 'ignore' | 'record';
  /** Status by winston level for lines that name none, over the default (see statusForLevel). */
  levelStatuses: Readonly<Record<string, string>>;
}

/**
 * The event input for a winston line, or undefined when the line is not an audit line.
 * A line is an audit line when `audit` is true or an action name, or when it has a string
 * `action` or `action_type` field (`audit: false` opts out). The action is, in order: `audit`
 * (a string), `action`, `action_type`, else the message. The status is `status`, else derived
 * from the level. Details are every other field, merged with a `details` object (its keys win);
 * when the action came from a field, a non-empty message is kept as `details.message`. `error`
 * (an Error or text) and `actor` (text) are read as they are; `timestamp` is dropped, since the
 * event has its own.
 */
export function eventInputFrom(info: winston.Logform.TransformableInfo, scheme: StatusScheme, mapping: LineMapping): EventInput<AnyCatalog> | undefined {
  if (info.audit === false) return undefined;
  let action: unknown;
  let fromMessage = false;
  if (typeof info.audit === 'string' && info.audit !== '') action = info.audit;
  else if (typeof info.action === 'string') action = info.action;
  else if (typeof info.action_type === 'string') action = info.action_type;
  else if (info.audit === true || mapping.others === 'record') {
    fromMessage = true;
    action = typeof info.message === 'string' && info.message.trim() !== '' ? info.message : mapping.others === 'record' ? 'log' : info.message;
  } else return undefined;

  const details: Details = {};
  for (const key of Object.keys(info)) if (!READ_FIELDS.has(key)) details[key] = info[key];
  if (!fromMessage && typeof info.message === 'string' && info.message !== '') details.message = info.message;
  if (typeof info.details === 'object' && info.details !== null && !Array.isArray(info.details)) Object.assign(details, info.details);
  else if (info.details !== undefined) details.details = info.details;

  const level = typeof info[LEVEL] === 'string' ? (info[LEVEL] as string) : info.level;
  const status = typeof info.status === 'string' ? info.status : (mapping.levelStatuses[level] ?? statusForLevel(scheme, level));
  return {
    action: action as string, // a non-string is refused by logEvent with a message naming it
    status,
    details,
    error: info.error instanceof Error || typeof info.error === 'string' ? info.error : info.error === undefined || info.error === null ? null : String(info.error),
    actor: typeof info.actor === 'string' ? info.actor : null,
  };
}
