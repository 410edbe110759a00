// What an HTTP answer means for a batch: 2xx ok; 408, 429, 5xx and network errors retryable; other statuses permanent.
import { AuditError, type ExportResult } from '@auditrail/core';

/** An endpoint's answer (or lack of one), as the sink saw it. */
export class HttpExportError extends AuditError {
  /** HTTP status, when there was an answer. */
  readonly status: number | undefined;
  /** Node's error code (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...), when there was none. */
  readonly errorCode: string | undefined;
  constructor(message: string, details: { status?: number; code?: string; cause?: unknown } = {}) {
    super('SINK_FAILED', message, { cause: details.cause });
    this.status = details.status;
    this.errorCode = details.code;
  }
}

/**
 * Milliseconds to wait from a Retry-After header: delay-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to `now`. Undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // "1.5", "-3": not a valid Retry-After
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Whether a status is worth retrying: request timeout, too many requests, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Classifies a non-2xx answer; `alsoRetry` lists more statuses to retry (401 and 403 while credentials are rotated, say). */
export function classifyStatus(status: number, body: string, retryAfter: string | undefined, url: string, alsoRetry: readonly number[] = []): ExportResult {
  const excerpt = body.length > 500 ? `${body.slice(0, 500)}…` : body;
  const error = new HttpExportError(`POST ${url} answered ${status}${excerpt ? `: ${excerpt}` : ''}`, { status });
  if (isRetryableStatus(status) || alsoRetry.includes(status)) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    return retryAfterMs === undefined ? { code: 'retryable', error } : { code: 'retryable', error, retryAfterMs };
  }
  return { code: 'permanent', error };
}

/** Classifies a request that got no answer: every transport failure is retryable (the endpoint may come back). */
export function classifyTransportError(err: unknown, url: string): ExportResult {
  const code = (err as { code?: string } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  // The transport error is not kept as the cause: axios errors carry the request config, headers (tokens) included.
  return { code: 'retryable', error: new HttpExportError(`POST ${url} failed: ${code ? `${code}: ` : ''}${message}`, { code }) };
}
