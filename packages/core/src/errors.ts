// Typed errors: every failure auditrail reports is one of these, with a stable code.

/** Stable machine-readable codes of auditrail errors. */
export type AuditErrorCode =
  | 'INVALID_EVENT'
  | 'INVALID_STATUS'
  | 'INVALID_OPTION'
  | 'WRITE_FAILED'
  | 'LOCK_TIMEOUT'
  | 'LOGGER_CLOSED'
  | 'SINK_FAILED'
  | 'REDACTION_FAILED'
  | 'READ_FAILED';

/** Base class of all auditrail errors. */
export class AuditError extends Error {
  /** Stable code naming the kind of failure. */
  readonly code: AuditErrorCode;
  constructor(code: AuditErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The action, details or another field of an event is unusable; nothing was written. */
export class InvalidEventError extends AuditError {
  constructor(message: string) {
    super('INVALID_EVENT', message);
  }
}

/** The status is not part of the logger's scheme; nothing was written. */
export class InvalidStatusError extends AuditError {
  /** The rejected status. */
  readonly status: unknown;
  /** The statuses the scheme accepts, when it lists them. */
  readonly validStatuses: readonly string[] | undefined;
  constructor(status: unknown, scheme: string, valid: readonly string[] | undefined) {
    const list = valid ? `valid statuses are ${valid.map((s) => JSON.stringify(s)).join(', ')}` : 'the scheme rejected it';
    super('INVALID_STATUS', `Invalid status ${JSON.stringify(status)} for scheme "${scheme}": ${list}`);
    this.status = status;
    this.validStatuses = valid;
  }
}

/** A constructor or factory option is wrong; the message names it. */
export class InvalidOptionError extends AuditError {
  /** The option at fault. */
  readonly option: string;
  constructor(option: string, message: string) {
    super('INVALID_OPTION', `Invalid option "${option}": ${message}`);
    this.option = option;
  }
}

/** A local write failed (permission, full disk, a directory in the way); the event is not recorded there. */
export class AuditWriteError extends AuditError {
  /** The file or sink that failed. */
  readonly target: string;
  constructor(target: string, cause: unknown) {
    super('WRITE_FAILED', `Audit write to ${target} failed: ${describe(cause)}`, { cause });
    this.target = target;
  }
}

/** Another writer held the log directory's lock for too long. */
export class LockTimeoutError extends AuditError {
  constructor(lockPath: string, waitedMs: number, holder: string) {
    super('LOCK_TIMEOUT', `Timed out after ${waitedMs} ms waiting for ${lockPath} (held by ${holder})`);
  }
}

/** The logger was closed: it accepts no more events. */
export class LoggerClosedError extends AuditError {
  constructor() {
    super('LOGGER_CLOSED', 'AuditLogger is closed: no more events are accepted');
  }
}

/** A sink failed; `sink` names it. */
export class SinkError extends AuditError {
  /** Name of the failing sink. */
  readonly sink: string;
  constructor(sink: string, cause: unknown) {
    super('SINK_FAILED', `Sink "${sink}" failed: ${describe(cause)}`, { cause });
    this.sink = sink;
  }
}

/** A plugin's redactor threw: the event is not recorded anywhere, since its secrets could leak. */
export class RedactionError extends AuditError {
  constructor(cause: unknown) {
    super('REDACTION_FAILED', `A redactor threw, so the event was not recorded (it could leak a secret): ${describe(cause)}`, { cause });
  }
}

/** A log file could not be read or parsed. */
export class AuditReadError extends AuditError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('READ_FAILED', message, options);
  }
}

/** One-line description of any thrown value; never throws itself (a null-prototype object, a throwing toString). */
export function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  try {
    return String(cause);
  } catch {
    return Object.prototype.toString.call(cause);
  }
}
