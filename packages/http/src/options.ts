// Options of HttpSink, checked up front: a bad option fails the constructor with a message naming it.
import { checkBoolean, checkMilliseconds, InvalidOptionError, refuseMisspelledOptions, type AuditEvent, type DeliveryPolicy, type EventFilter } from '@auditrail/core';
import { PRESETS, type HttpPreset } from './presets';

/** A custom request body: the text (or bytes) to POST for a batch, and optionally its Content-Type. */
export type HttpBodyHook = (batch: readonly AuditEvent[]) => string | Uint8Array | { data: string | Uint8Array; contentType: string };

/** Options of `new HttpSink(options)`. */
export interface HttpSinkOptions {
  /** Endpoint URL (http or https). With a preset and a bare origin, the preset's path is added (/v1/logs, /_bulk, /services/collector/event). */
  url: string;
  /** Sink name, in stats and the cursor file (default "http"); give each HttpSink of a logger its own. */
  name?: string;
  /** Endpoint kind (default 'json'). */
  preset?: HttpPreset;
  /** Body of the generic preset: 'json' (an array, default) or 'ndjson' (one event a line). */
  format?: 'json' | 'ndjson';
  /** Compress bodies with gzip (Content-Encoding: gzip); default false. */
  gzip?: boolean;
  /** Extra headers (auth tokens and the like); they win over the sink's own, except Content-Length. Values are sent as given: ones axios would alter (control characters, characters above U+00FF, a leading or trailing space or tab) are refused. */
  headers?: Record<string, string>;
  /** Timeout of one request, in ms (default 10,000; at most MAX_TIMER_MS). The engine's export timeout is set a second above it (capped at MAX_TIMER_MS). */
  timeoutMs?: number;
  /** Reuse connections (default true). */
  keepAlive?: boolean;
  /** Header carrying the batch's idempotency key (default "Idempotency-Key"). */
  idempotencyHeader?: string;
  /** More 4xx statuses to retry rather than dead-letter, e.g. [401, 403] while a token is being rotated (default none). */
  retryStatuses?: readonly number[];
  /** Splunk HEC token: sent as `Authorization: Splunk <token>` (required by the splunk preset unless headers has Authorization); control characters and a leading or trailing space are refused. */
  token?: string;
  /** Elasticsearch/OpenSearch index (default "auditrail-events"), or Splunk index. */
  index?: string;
  /** OTLP resource service.name (default "auditrail"). */
  serviceName?: string;
  /** Splunk sourcetype (default "auditrail:event"). */
  sourcetype?: string;
  /** Builds the body instead of the preset. */
  body?: HttpBodyHook;
  /** Which events the sink receives. */
  filter?: EventFilter;
  /** Delivery policy of this sink (batch size, retries...), over the logger's. */
  delivery?: Partial<DeliveryPolicy>;
}

/** Every option's name, for catching misspelled ones (the type check fails when this and HttpSinkOptions disagree). */
export const HTTP_SINK_OPTION_NAMES: readonly string[] = Object.keys({
  url: 0,
  name: 0,
  preset: 0,
  format: 0,
  gzip: 0,
  headers: 0,
  timeoutMs: 0,
  keepAlive: 0,
  idempotencyHeader: 0,
  retryStatuses: 0,
  token: 0,
  index: 0,
  serviceName: 0,
  sourcetype: 0,
  body: 0,
  filter: 0,
  delivery: 0,
} satisfies Record<keyof HttpSinkOptions, 0>);

/** The options with defaults applied and the URL resolved. */
export interface ResolvedHttpOptions extends Required<Omit<HttpSinkOptions, 'url' | 'token' | 'index' | 'body' | 'filter' | 'delivery'>> {
  /** The URL requests go to. */
  url: URL;
  /** Splunk token, if any. */
  token: string | undefined;
  /** Index, if any. */
  index: string | undefined;
  /** Body hook, if any. */
  body: HttpBodyHook | undefined;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Characters a header value cannot carry: axios silently strips them (or Node refuses them), so a secret would arrive altered. */
const BAD_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
/** The same for a token, which must not hold a tab either. */
const BAD_TOKEN_CHAR = /[^\x20-\x7e\x80-\xff]/;
/** A leading or trailing space or tab: axios trims them from every header value, so the endpoint would get a shorter value. */
const PADDED = /^[\t ]|[\t ]$/;
const PADDED_MESSAGE = 'must not begin or end with a space or a tab: axios trims them, so the endpoint would receive an altered value';

/** Applies defaults and checks every option, throwing InvalidOptionError naming the first bad one. */
export function resolveHttpOptions(options: HttpSinkOptions): ResolvedHttpOptions {
  if (!options || typeof options !== 'object') throw new InvalidOptionError('options', 'HttpSink needs an options object with at least "url"');
  // `headers` are the endpoint's names and `delivery` core's policy (checked by the logger): their keys are not judged here.
  refuseMisspelledOptions(options, HTTP_SINK_OPTION_NAMES);
  const preset = options.preset ?? 'json';
  if (!Object.hasOwn(PRESETS, preset)) throw new InvalidOptionError('preset', `${JSON.stringify(preset)} is not one of ${Object.keys(PRESETS).map((p) => JSON.stringify(p)).join(', ')}`);
  const url = checkUrl(options.url, PRESETS[preset].defaultPath);
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'ndjson') throw new InvalidOptionError('format', `must be "json" or "ndjson", got ${JSON.stringify(format)}`);
  if (options.format !== undefined && preset !== 'json') throw new InvalidOptionError('format', `applies to the generic "json" preset only; preset "${preset}" has its own body`);
  const headers = checkHeaders(options.headers);
  const token = optionalString('token', options.token);
  if (token !== undefined && BAD_TOKEN_CHAR.test(token)) throw new InvalidOptionError('token', 'must not contain CR, LF, tabs or other control characters, nor characters above U+00FF');
  if (token !== undefined && PADDED.test(token)) throw new InvalidOptionError('token', PADDED_MESSAGE);
  if (preset === 'splunk' && token === undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
    throw new InvalidOptionError('token', 'the splunk preset needs the HEC token (or an Authorization header)');
  }
  const timeoutMs = checkMilliseconds('timeoutMs', options.timeoutMs ?? 10_000);
  if (options.body !== undefined && typeof options.body !== 'function') throw new InvalidOptionError('body', 'must be a function (batch) => string | Uint8Array | { data, contentType }');
  const idempotencyHeader = options.idempotencyHeader ?? 'Idempotency-Key';
  if (!HEADER_NAME.test(idempotencyHeader)) throw new InvalidOptionError('idempotencyHeader', `${JSON.stringify(idempotencyHeader)} is not a valid header name`);
  const retryStatuses = options.retryStatuses ?? [];
  if (!Array.isArray(retryStatuses) || retryStatuses.some((s) => !Number.isInteger(s) || s < 400 || s > 499)) {
    throw new InvalidOptionError('retryStatuses', `must be a list of 4xx statuses, got ${JSON.stringify(retryStatuses)}`);
  }
  return {
    url,
    name: printable('name', nonEmpty('name', options.name ?? 'http')),
    preset,
    format,
    gzip: checkBoolean('gzip', options.gzip ?? false),
    headers,
    timeoutMs,
    keepAlive: checkBoolean('keepAlive', options.keepAlive ?? true),
    idempotencyHeader,
    retryStatuses: [...retryStatuses],
    token,
    index: optionalString('index', options.index),
    serviceName: nonEmpty('serviceName', options.serviceName ?? 'auditrail'),
    sourcetype: nonEmpty('sourcetype', options.sourcetype ?? 'auditrail:event'),
    body: options.body,
  };
}

function checkUrl(value: unknown, defaultPath: string): URL {
  if (typeof value !== 'string' || value === '') throw new InvalidOptionError('url', 'is required: the endpoint to POST batches to, e.g. "https://logs.example.com/ingest"');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidOptionError('url', `${JSON.stringify(value)} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidOptionError('url', `must be http: or https:, got ${JSON.stringify(url.protocol)}`);
  if (url.pathname === '/' && defaultPath !== '/') url.pathname = defaultPath;
  return url;
}

function checkHeaders(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidOptionError('headers', 'must be an object of header names to string values');
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (!HEADER_NAME.test(name)) throw new InvalidOptionError(`headers.${name}`, 'is not a valid header name');
    if (typeof v !== 'string') throw new InvalidOptionError(`headers.${name}`, `must be a string, got ${typeof v}`);
    if (BAD_HEADER_CHAR.test(v)) throw new InvalidOptionError(`headers.${name}`, 'must not contain CR, LF, NUL or other control characters (tab aside), nor characters above U+00FF');
    if (PADDED.test(v)) throw new InvalidOptionError(`headers.${name}`, PADDED_MESSAGE);
    headers[name] = v;
  }
  return headers;
}

function nonEmpty(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidOptionError(option, 'must be a non-empty string');
  return value;
}

function printable(option: string, value: string): string {
  if (/[\0-\x1f\x7f]/.test(value)) throw new InvalidOptionError(option, 'must not contain control characters');
  return value;
}

function optionalString(option: string, value: unknown): string | undefined {
  return value === undefined ? undefined : nonEmpty(option, value);
}
