// JetStream subjects for audit events: `<prefix>.<experiment>.<action_type>`, each token made subject-safe.
import type { AuditEvent } from '@auditrail/core';

/** What a token made by subjectToken looks like: letters, digits, `_` and `-`. */
export const SUBJECT_TOKEN = /^[A-Za-z0-9_\-]+$/;

/** Replaces what a subject token cannot hold (dots, wildcards, spaces, control characters) with `_`. */
export function subjectToken(value: string): string {
  const token = value.replace(/[^A-Za-z0-9_\-]/g, '_');
  return token.length === 0 ? '_' : token;
}

/** The default subject of an event: `audit.<experiment or "default">.<action_type>`. */
export function defaultSubject(prefix: string, event: AuditEvent): string {
  const experiment = typeof event.source.experiment === 'string' ? event.source.experiment : 'default';
  return `${prefix}.${subjectToken(experiment)}.${subjectToken(event.action_type)}`;
}
