// NatsSink: a batch sink that publishes each event to JetStream with the event id as message id,
// so JetStream's duplicate window drops the copies a retried batch publishes again.
import { connect, type ConnectionOptions, type JetStreamClient, type NatsConnection } from 'nats';
import { checkFunction, checkMilliseconds, describeValue, checkWholeNumber, InvalidOptionError, refuseMisspelledOptions, type AuditEvent, type BatchSink, type EventFilter, type ExportResult } from '@auditrail/core';
import { AUDIT_STREAM_OPTION_NAMES, checkStreamOptions, ensureAuditStream, type AuditStreamOptions } from './stream';
import { checkServers } from './options';
import { defaultSubject } from './subject';
import { classifyNatsError } from './errors';
import { closeConnection } from './close';

/** Options of the NATS sink. */
export interface NatsSinkOptions {
  /** Server URL(s); default NATS_URL, then nats://127.0.0.1:4222. */
  servers?: string | string[];
  /** An open connection to use instead (the sink then does not close it). */
  connection?: NatsConnection;
  /** Further connection options (credentials, TLS, name). */
  connectOptions?: Omit<ConnectionOptions, 'servers'>;
  /** Subject prefix (default 'audit'): events go to `<prefix>.<experiment>.<action_type>`. */
  subjectPrefix?: string;
  /** Subject of an event, replacing the default. */
  subject?: (event: AuditEvent) => string;
  /** The stream created when missing; `false` to never create it. */
  stream?: AuditStreamOptions | false;
  /** How long to wait for each publish acknowledgement, up to 2^31-1 (default 5,000 ms). */
  ackTimeoutMs?: number;
  /** How long to wait for the first connection, up to 2^31-1 (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** Publishes awaiting acknowledgement at once, a whole number of at least 1 (default 64). */
  maxInFlight?: number;
  /** Sink name (default 'nats'). */
  name?: string;
  /** Which events to publish. */
  filter?: EventFilter;
}

/** Every option's name, for catching misspelled ones (the type check fails when this and NatsSinkOptions disagree). */
export const NATS_SINK_OPTION_NAMES: readonly string[] = Object.keys({
  servers: 0,
  connection: 0,
  connectOptions: 0,
  subjectPrefix: 0,
  subject: 0,
  stream: 0,
  ackTimeoutMs: 0,
  connectTimeoutMs: 0,
  maxInFlight: 0,
  name: 0,
  filter: 0,
} satisfies Record<keyof NatsSinkOptions, 0>);

/** Publishes audit events to NATS JetStream. */
export class NatsSink implements BatchSink {
  readonly name: string;
  readonly filter: EventFilter | undefined;
  private connection: NatsConnection | undefined;
  private jetstream: JetStreamClient | undefined;
  private connecting: Promise<JetStreamClient> | undefined;
  private readonly ownsConnection: boolean;
  private readonly prefix: string;
  private readonly subjectOf: (event: AuditEvent) => string;
  private readonly ackTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly window: number;

  constructor(private readonly options: NatsSinkOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', `must be an object, got ${describeValue(options)}`);
    // `stream` is checked with its own names (checkStreamOptions); `connectOptions` are the nats client's: not judged here.
    // The stream's fields given at the top level (`subjects` would otherwise be taken for `subject`, a function).
    for (const field of AUDIT_STREAM_OPTION_NAMES) {
      if (!NATS_SINK_OPTION_NAMES.includes(field) && Object.hasOwn(options, field)) throw new InvalidOptionError(field, `is not an option; did you mean "stream.${field}"?`);
    }
    refuseMisspelledOptions(options, NATS_SINK_OPTION_NAMES);
    this.name = options.name ?? 'nats';
    if (typeof this.name !== 'string' || this.name === '') throw new InvalidOptionError('name', `must be a non-empty string, got ${describeValue(this.name)}`);
    if (options.servers !== undefined) checkServers('servers', options.servers);
    this.filter = options.filter;
    this.prefix = options.subjectPrefix ?? 'audit';
    if (typeof this.prefix !== 'string' || !/^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$/.test(this.prefix)) {
      throw new InvalidOptionError('subjectPrefix', `${describeValue(this.prefix)} is not a valid subject prefix (tokens of letters, digits, _ and -, separated by dots)`);
    }
    checkFunction('subject', options.subject);
    this.subjectOf = options.subject ?? ((event) => defaultSubject(this.prefix, event));
    // The default subjects are `<prefix>.<experiment>.<action_type>`: a stream created for them must be able to capture some.
    checkStreamOptions(options.stream, options.subject ? undefined : this.prefix);
    this.ackTimeoutMs = checkMilliseconds('ackTimeoutMs', options.ackTimeoutMs ?? 5000);
    this.connectTimeoutMs = checkMilliseconds('connectTimeoutMs', options.connectTimeoutMs ?? 5000);
    this.window = checkWholeNumber('maxInFlight', options.maxInFlight ?? 64, 1);
    this.connection = options.connection;
    this.ownsConnection = options.connection === undefined;
  }

  async export(batch: readonly AuditEvent[], signal: AbortSignal): Promise<ExportResult> {
    let js: JetStreamClient;
    try {
      js = await this.client();
    } catch (err) {
      return classifyNatsError(err);
    }
    // A bounded window of unacknowledged publishes: firing a whole batch at once makes the last
    // acknowledgements wait behind the first and time out on a busy server.
    let failure: unknown;
    let next = 0;
    const publishNext = async (): Promise<void> => {
      while (failure === undefined && !signal.aborted && next < batch.length) {
        const event = batch[next++]!;
        try {
          await js.publish(this.subjectOf(event), JSON.stringify(event), { msgID: event.id, timeout: this.ackTimeoutMs });
        } catch (err) {
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.window, batch.length) }, publishNext));
    if (failure !== undefined) return classifyNatsError(failure);
    if (signal.aborted) return { code: 'retryable', error: new Error('export aborted by the delivery timeout') };
    return { code: 'ok' };
  }

  async shutdown(): Promise<void> {
    const connection = this.connection;
    this.jetstream = undefined;
    this.connecting = undefined;
    if (connection && this.ownsConnection) {
      this.connection = undefined;
      await closeConnection(connection);
    }
  }

  private client(): Promise<JetStreamClient> {
    if (this.jetstream) return Promise.resolve(this.jetstream);
    this.connecting ??= this.openConnection().then(
      (js) => (this.jetstream = js),
      (err: unknown) => {
        this.connecting = undefined;
        throw err;
      },
    );
    return this.connecting;
  }

  private async openConnection(): Promise<JetStreamClient> {
    if (!this.connection) {
      const servers = this.options.servers ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
      this.connection = await connect({
        ...this.options.connectOptions,
        servers,
        timeout: this.connectTimeoutMs,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        name: this.options.connectOptions?.name ?? 'auditrail',
      });
    }
    if (this.options.stream !== false) {
      await ensureAuditStream(await this.connection.jetstreamManager({ timeout: this.ackTimeoutMs }), this.prefix, this.options.stream ?? {});
    }
    return this.connection.jetstream({ timeout: this.ackTimeoutMs });
  }
}
