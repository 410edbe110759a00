// The "unsealed" baseline of the integrity bench: logEvent's real path with sealEvent swapped for plain line assembly.
import { dirname, join } from 'node:path';
import type { AuditEvent } from '@auditrail/core';
import type { SealParts } from '../packages/core/src/seal';

type SealFn = (parts: SealParts, hasher: unknown) => { event: AuditEvent; json: string };

// The very module instance the logger uses (journal.js calls `seal_1.sealEvent(...)`, reading the export at each call).
const sealModule = require(join(dirname(require.resolve('@auditrail/core')), 'seal.js')) as { sealEvent: SealFn };

/** The JSON line an event would have without the integrity feature: same fields and order, no prev_hash or hash. */
function unsealedLine(parts: SealParts): { event: AuditEvent; json: string } {
  const json =
    `{"id":"${parts.id}","seq":${parts.seq},"timestamp":"${parts.timestamp}","action_type":${JSON.stringify(parts.action_type)},` +
    `"status":${JSON.stringify(parts.status)},"details":${parts.detailsJson},"error":${parts.error === null ? 'null' : JSON.stringify(parts.error)},` +
    `"actor":${parts.actor === null ? 'null' : JSON.stringify(parts.actor)},"source":${parts.sourceJson}}`;
  const event: AuditEvent = {
    id: parts.id,
    seq: parts.seq,
    timestamp: parts.timestamp,
    action_type: parts.action_type,
    status: parts.status,
    details: parts.details,
    error: parts.error,
    actor: parts.actor,
    source: parts.source,
    prev_hash: '',
    hash: '',
  };
  return { event, json };
}

/** Runs `fn` with sealing swapped out, and puts the real sealEvent back afterwards. */
export async function withoutSealing<T>(fn: () => Promise<T>): Promise<T> {
  const real = sealModule.sealEvent;
  if (typeof real !== 'function') throw new Error('@auditrail/core dist/seal.js has no sealEvent export: update bench/unsealed.ts');
  sealModule.sealEvent = unsealedLine;
  try {
    return await fn();
  } finally {
    sealModule.sealEvent = real;
  }
}
