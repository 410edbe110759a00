// Request shapes of the presets: generic JSON/NDJSON, OTLP/HTTP JSON logs, Elasticsearch/OpenSearch _bulk, Splunk HEC.
import { parseTimestampUs, type AuditEvent, type RejectedEvent, type StatusScheme } from '@auditrail/core';
import { otlpLogsBody } from './otlp';

/** The endpoints the sink knows how to talk to. */
export type HttpPreset = 'json' | 'otlp' | 'elasticsearch' | 'opensearch' | 'splunk';

/** Everything a preset may use to build a request. */
export interface PresetSettings {
  /** 'json' (an array) or 'ndjson' (one event a line), for the generic preset. */
  format: 'json' | 'ndjson';
  /** The logger's status scheme, once the sink is opened. */
  statuses: StatusScheme | undefined;
  /** OTLP resource service.name. */
  serviceName: string;
  /** Elasticsearch/OpenSearch index, or Splunk index. */
  index: string | undefined;
  /** Splunk HEC sourcetype. */
  sourcetype: string;
}

/** How one preset shapes requests and reads answers. */
export interface PresetShape {
  /** Path appended when the URL has none (just "/"). */
  readonly defaultPath: string;
  /** Content-Type of the body. */
  readonly contentType: string;
  /** The body of a batch. */
  encode(batch: readonly AuditEvent[], settings: PresetSettings): string;
  /** Events a 2xx answer refused one by one (Elasticsearch bulk item errors); retryable ones make the batch retry. */
  itemErrors?(body: string): { rejected: RejectedEvent[]; retryable: string | undefined };
}

const generic: PresetShape = {
  defaultPath: '/',
  contentType: 'application/json',
  encode: (batch, settings) =>
    settings.format === 'ndjson' ? batch.map((e) => JSON.stringify(e) + '\n').join('') : JSON.stringify(batch),
};

const otlp: PresetShape = {
  defaultPath: '/v1/logs',
  contentType: 'application/json',
  encode: (batch, settings) => JSON.stringify(otlpLogsBody(batch, settings.statuses, settings.serviceName)),
};

/** `_bulk` with one index action per event and the event id as `_id`: a retried batch overwrites, never duplicates. */
const bulk: PresetShape = {
  defaultPath: '/_bulk',
  contentType: 'application/x-ndjson',
  encode: (batch, settings) =>
    batch.map((event) => JSON.stringify({ index: { _index: settings.index ?? 'auditrail-events', _id: event.id } }) + '\n' + JSON.stringify(event) + '\n').join(''),
  itemErrors: bulkItemErrors,
};

/** HEC event endpoint: concatenated event objects; time in epoch seconds with microseconds. */
const splunk: PresetShape = {
  defaultPath: '/services/collector/event',
  contentType: 'application/json',
  encode: (batch, settings) =>
    batch
      .map((event) =>
        JSON.stringify({
          time: Number((parseTimestampUs(event.timestamp) / 1e6).toFixed(6)),
          host: event.source.host,
          source: 'auditrail',
          sourcetype: settings.sourcetype,
          ...(settings.index ? { index: settings.index } : {}),
          event,
        }),
      )
      .join('\n'),
};

/** The shape of each preset. */
export const PRESETS: Record<HttpPreset, PresetShape> = { json: generic, otlp, elasticsearch: bulk, opensearch: bulk, splunk };

interface BulkItem {
  status?: number;
  error?: { type?: string; reason?: string } | string;
}

/** Reads a `_bulk` answer: 429 and 5xx items make the batch retry (it is idempotent by _id); other failed items are refused. */
function bulkItemErrors(body: string): { rejected: RejectedEvent[]; retryable: string | undefined } {
  let parsed: { errors?: boolean; items?: Record<string, BulkItem>[] };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return { rejected: [], retryable: undefined };
  }
  const rejected: RejectedEvent[] = [];
  let retryable: string | undefined;
  if (!parsed.errors || !Array.isArray(parsed.items)) return { rejected, retryable };
  parsed.items.forEach((item, index) => {
    const result = Object.values(item)[0];
    const status = result?.status ?? 0;
    if (status >= 200 && status < 300) return;
    const error = result?.error;
    const reason = `bulk item ${status}: ${typeof error === 'string' ? error : `${error?.type ?? 'error'}: ${error?.reason ?? 'no reason given'}`}`;
    if (status === 429 || status >= 500) retryable ??= reason;
    else rejected.push({ index, reason });
  });
  return { rejected, retryable };
}
