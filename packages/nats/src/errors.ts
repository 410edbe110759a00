// Sorts NATS failures into the delivery engine's retryable and permanent outcomes.
import type { ExportResult } from '@auditrail/core';

const PERMANENT = new Set(['MAX_PAYLOAD_EXCEEDED', 'BAD_SUBJECT', 'BAD_PAYLOAD', 'INVALID_OPTION', 'PERMISSIONS_VIOLATION', 'AUTHORIZATION_VIOLATION']);

/** Connection loss, timeouts and missing responders are worth retrying; a payload or permission problem is not. */
export function classifyNatsError(err: unknown): ExportResult {
  const error = err instanceof Error ? err : new Error(String(err));
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && PERMANENT.has(code)) return { code: 'permanent', error };
  return { code: 'retryable', error };
}
