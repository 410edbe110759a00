// HttpSink: POSTs batches of audit events over axios; the core delivery engine batches, retries and resumes.
import axios, { type AxiosInstance } from 'axios';
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { MAX_TIMER_MS } from '@auditrail/core';
import type { AuditEvent, BatchSink, DeliveryPolicy, EventFilter, ExportResult, RejectedEvent, SinkContext, StatusScheme } from '@auditrail/core';
import { classifyStatus, classifyTransportError, HttpExportError } from './classify';
import { resolveHttpOptions, type HttpSinkOptions, type ResolvedHttpOptions } from './options';
import { PRESETS, type PresetShape } from './presets';

const gzip = promisify(gzipCallback);
const USER_AGENT = '@auditrail/http/0.1.0';
/** Most of an answer's body kept for error messages and bulk item errors. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** A batch sink for HTTP endpoints: generic JSON/NDJSON, OTLP/HTTP logs, Elasticsearch/OpenSearch _bulk, Splunk HEC. */
export class HttpSink implements BatchSink {
  /** Name in stats and the cursor file. */
  readonly name: string;
  /** Which events it receives. */
  readonly filter: EventFilter | undefined;
  /** Its delivery policy: the export timeout sits a second above the request timeout (capped at MAX_TIMER_MS). */
  readonly delivery: Partial<DeliveryPolicy>;
  /** The endpoint, with the preset's path when the URL had none. */
  readonly url: string;
  /** The endpoint as shown in errors and dead letters: without user and password. */
  private readonly shownUrl: string;
  private readonly options: ResolvedHttpOptions;
  private readonly shape: PresetShape;
  private readonly client: AxiosInstance;
  private readonly agent: HttpAgent | HttpsAgent;
  private statuses: StatusScheme | undefined;

  constructor(options: HttpSinkOptions) {
    this.options = resolveHttpOptions(options);
    this.name = this.options.name;
    this.filter = options.filter;
    this.delivery = { exportTimeoutMs: Math.min(this.options.timeoutMs + 1000, MAX_TIMER_MS), ...options.delivery };
    this.url = this.options.url.toString();
    const shown = new URL(this.url);
    if (shown.username || shown.password) [shown.username, shown.password] = ['***', ''];
    this.shownUrl = shown.toString();
    this.shape = PRESETS[this.options.preset];
    const agentOptions = { keepAlive: this.options.keepAlive, maxSockets: 16 };
    this.agent = this.options.url.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.client = axios.create({
      timeout: this.options.timeoutMs,
      maxRedirects: 0, // a redirected POST is a misconfigured URL: report it rather than follow it
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      maxContentLength: MAX_ANSWER_BYTES,
      maxBodyLength: Infinity,
      httpAgent: this.agent,
      httpsAgent: this.agent,
    });
  }

  /** Learns the logger's status scheme (OTLP severity). */
  open(context: SinkContext): void {
    this.statuses = context.statuses;
  }

  /**
   * POSTs one batch and says what happened to it. A batch the endpoint finds too large (413) is
   * split in halves, each sent on its own, down to single events: only an event too large alone
   * is refused (and dead-lettered by the engine); the rest are delivered.
   */
  async export(batch: readonly AuditEvent[], signal: AbortSignal): Promise<ExportResult> {
    const result = await this.post(batch, signal);
    if (batch.length < 2 || result.code !== 'permanent' || !(result.error instanceof HttpExportError) || result.error.status !== 413) return result;
    const middle = Math.ceil(batch.length / 2);
    const rejected: RejectedEvent[] = [];
    for (const [offset, half] of [[0, batch.slice(0, middle)], [middle, batch.slice(middle)]] as const) {
      const outcome = await this.export(half, signal);
      if (outcome.code === 'retryable') return outcome; // the whole batch again later: halves already sent are duplicates, which at-least-once allows
      if (outcome.code === 'permanent') rejected.push(...half.map((_, i) => ({ index: offset + i, reason: outcome.error.message })));
      else for (const refused of outcome.rejected ?? []) rejected.push({ index: offset + refused.index, reason: refused.reason });
    }
    return rejected.length > 0 ? { code: 'ok', rejected } : { code: 'ok' };
  }

  private async post(batch: readonly AuditEvent[], signal: AbortSignal): Promise<ExportResult> {
    let body: Buffer;
    let contentType: string;
    try {
      ({ body, contentType } = this.encode(batch));
    } catch (err) {
      // A body hook that throws will throw again: retrying cannot help.
      return { code: 'permanent', error: new HttpExportError(`sink "${this.name}": the body could not be built: ${err instanceof Error ? err.message : String(err)}`, { cause: err }) };
    }
    const headers: Record<string, string> = {
      'Content-Type': contentType,
      'User-Agent': USER_AGENT,
      [this.options.idempotencyHeader]: idempotencyKey(batch),
    };
    if (this.options.token !== undefined) headers.Authorization = `Splunk ${this.options.token}`;
    if (this.options.gzip) {
      body = await gzip(body);
      headers['Content-Encoding'] = 'gzip';
    }
    Object.assign(headers, this.options.headers);
    let response;
    try {
      response = await this.client.post<string>(this.url, body, { headers, signal });
    } catch (err) {
      return classifyTransportError(err, this.shownUrl);
    }
    const text = typeof response.data === 'string' ? response.data : String(response.data ?? '');
    if (response.status < 200 || response.status >= 300) {
      const retryAfter = response.headers['retry-after'];
      return classifyStatus(response.status, text, typeof retryAfter === 'string' ? retryAfter : undefined, this.shownUrl, this.options.retryStatuses);
    }
    if (!this.shape.itemErrors) return { code: 'ok' };
    const { rejected, retryable } = this.shape.itemErrors(text);
    if (retryable) return { code: 'retryable', error: new HttpExportError(`POST ${this.shownUrl}: ${retryable}`, { status: response.status }) };
    return rejected.length > 0 ? { code: 'ok', rejected } : { code: 'ok' };
  }

  /** Closes idle keep-alive connections. */
  async shutdown(): Promise<void> {
    this.agent.destroy();
  }

  private encode(batch: readonly AuditEvent[]): { body: Buffer; contentType: string } {
    const hook = this.options.body;
    if (!hook) {
      const settings = { ...this.options, statuses: this.statuses };
      return { body: Buffer.from(this.shape.encode(batch, settings)), contentType: this.shape.contentType };
    }
    const out = hook(batch);
    if (typeof out === 'string' || out instanceof Uint8Array) return { body: toBuffer(out), contentType: 'application/json' };
    if (out && typeof out === 'object' && (typeof out.data === 'string' || out.data instanceof Uint8Array) && typeof out.contentType === 'string') {
      return { body: toBuffer(out.data), contentType: out.contentType };
    }
    throw new TypeError('the body hook must return a string, a Uint8Array or { data, contentType }');
  }
}

/** The same batch always gets the same key, so a retried POST can be recognised by the endpoint. */
export function idempotencyKey(batch: readonly AuditEvent[]): string {
  const hash = createHash('sha256');
  for (const event of batch) hash.update(event.id).update('\n');
  return `auditrail-${hash.digest('hex').slice(0, 32)}`;
}

function toBuffer(data: string | Uint8Array): Buffer {
  return typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
