// auditInterceptor: a grpc-js server interceptor that records every unary and streaming call as one audit event.
//
//   metadata ─▶ (actor, start time) ─▶ first message ─▶ before snapshot ─▶ handler
//   handler sends status ─▶ after snapshot ─▶ event recorded ─▶ status goes to the client
//   call cancelled (or past its deadline) before a status ─▶ event recorded with CANCELLED (DEADLINE_EXCEEDED)
import {
  actionProblem,
  addSnapshotDetails,
  checkActorResult,
  checkBoolean,
  checkChoice,
  checkFunction,
  checkOutcomeStatuses,
  describeValue,
  errorMessage,
  InvalidOptionError,
  refuseMisspelledOptions,
  reportUnrecorded,
  resolveOutcomeStatuses,
  takeSnapshot,
  type ActionCatalog,
  type AuditLogger,
  type Details,
  type Snapshot,
} from '@auditrail/core';
import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as grpcStatus,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type StatusObject,
} from '@grpc/grpc-js';
import { GRPC_AUDIT_OPTION_NAMES, METHOD_AUDIT_NAMES, methodAudit, methodName, type GrpcAuditOptions, type GrpcCallInfo, type MethodAudit } from './options';

type PartialStatus = Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata | null };

/** How close to its deadline a cancelled call counts as DEADLINE_EXCEEDED (see pastDeadline). */
const DEADLINE_SLACK_MS = 250;

/**
 * A server interceptor for `new Server({ interceptors: [auditInterceptor({ logger })] })`. Each
 * call of a registered method becomes one event: action from `methods` (a name or a function
 * of the request), status success for OK and failure for any other code (error "NOT_FOUND:
 * details"), and details `method`, `grpc_code`, `grpc_status`, `duration_ms`, `peer`, `kind`
 * (unary, server_stream, client_stream, bidi), `messages_in`, `messages_out`, plus the method's
 * own details and before/after values. The actor is read from metadata (`x-actor`). The status
 * reaches the client only after the event is recorded; if recording fails (the logger's
 * onError is 'throw'), an OK call ends INTERNAL instead, so no client sees success for an
 * unrecorded action.
 */
export function auditInterceptor<C extends ActionCatalog>(options: GrpcAuditOptions<C>): ServerInterceptor {
  const opts = checkOptions(options as unknown as GrpcAuditOptions);
  const logger = opts.logger as unknown as AuditLogger;
  resolveOutcomeStatuses(logger.statuses, opts.statuses); // fail now on a scheme without a failure status
  return (descriptor, call) => {
    const audit = methodAudit(opts, descriptor.path);
    if (!audit) return new ServerInterceptingCall(call);
    const kind = descriptor.requestStream ? (descriptor.responseStream ? 'bidi' : 'client_stream') : descriptor.responseStream ? 'server_stream' : 'unary';
    return new AuditedCall(call, logger, opts, audit, descriptor.path, kind).intercepting();
  };
}

/** The state of one audited call, from its metadata to its status. */
class AuditedCall {
  private started = performance.now();
  private metadata = new Metadata();
  private request: unknown;
  private messagesIn = 0;
  private messagesOut = 0;
  private before: Snapshot | undefined;
  private recorded = false;

  constructor(
    private readonly call: ServerInterceptingCallInterface,
    private readonly logger: AuditLogger,
    private readonly options: GrpcAuditOptions,
    private readonly audit: MethodAudit,
    private readonly path: string,
    private readonly kind: string,
  ) {}

  intercepting(): ServerInterceptingCall {
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        this.metadata = metadata;
        this.started = performance.now();
        next(metadata);
      })
      .withOnReceiveMessage((message, next) => {
        this.messagesIn++;
        if (this.messagesIn > 1) return next(message);
        this.request = message;
        if (!this.audit.before) return next(message);
        // The handler must not run before the snapshot is taken: hold the message until then.
        void takeSnapshot(() => this.audit.before!(this.info())).then((snapshot) => {
          this.before = snapshot;
          next(message);
        });
      })
      .withOnCancel(() => {
        if (this.recorded) return;
        // grpc-js ends a call past its deadline itself, without passing through the interceptors.
        const status = this.pastDeadline() ? { code: grpcStatus.DEADLINE_EXCEEDED, details: 'Deadline exceeded' } : { code: grpcStatus.CANCELLED, details: 'call cancelled before a status was sent' };
        this.record(status).catch((err: unknown) => this.report(err)); // the client is gone: nobody else to tell
      })
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendMessage((message, next) => {
        this.messagesOut++;
        next(message);
      })
      .withSendStatus((status, next) => {
        this.record(status).then(
          () => next(status),
          (err: unknown) => next(status.code === grpcStatus.OK ? { code: grpcStatus.INTERNAL, details: `the call succeeded but its audit event was not recorded: ${errorMessage(err)}`, metadata: status.metadata } : status),
        );
      })
      .build();
    return new ServerInterceptingCall(this.call, responder);
  }

  /** Hands the unrecorded event of a cancelled call to onError (see reportUnrecorded). */
  private report(err: unknown): void {
    const onError = this.options.onError;
    reportUnrecorded('a gRPC', err, `cancelled call ${this.path}`, onError && (() => onError(err, this.info())));
  }

  /**
   * Whether the call ended because of its deadline. The client usually gives up first, at its own
   * copy of the deadline, and the server sees that as a cancel slightly before its copy (taken when
   * the request headers arrived): a cancel within DEADLINE_SLACK_MS of the deadline counts as it.
   */
  private pastDeadline(): boolean {
    const deadline = this.call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    return Number.isFinite(at) && Date.now() >= at - DEADLINE_SLACK_MS;
  }

  private info(): GrpcCallInfo {
    return { path: this.path, method: methodName(this.path), request: this.request, metadata: this.metadata, peer: this.call.getPeer() };
  }

  /** Records the event once; resolves when it is recorded, or at once for a call left unrecorded. */
  private async record(status: PartialStatus): Promise<void> {
    if (this.recorded) return;
    this.recorded = true;
    const durationMs = Math.round((performance.now() - this.started) * 1000) / 1000;
    const info = this.info();
    const details: Details = {};
    const action = this.actionOf(info, details);
    if (action === undefined) return;
    this.pick(details, 'details', () => Object.assign(details, this.audit.details?.(info)));
    const after = this.audit.after ? await takeSnapshot(() => this.audit.after!(info)) : undefined;
    Object.assign(details, {
      method: this.path,
      grpc_code: status.code,
      grpc_status: grpcStatus[status.code] ?? String(status.code),
      duration_ms: durationMs,
      peer: info.peer,
      kind: this.kind,
      messages_in: this.messagesIn,
      messages_out: this.messagesOut,
    });
    if (this.options.recordRequest && this.request !== undefined) details.request = this.request;
    addSnapshotDetails(details, this.before, after, this.audit.snapshots);
    const statuses = resolveOutcomeStatuses(this.logger.statuses, this.options.statuses);
    const ok = status.code === grpcStatus.OK;
    await this.logger.logEvent({
      action,
      status: ok ? statuses.success : statuses.failure,
      details,
      error: ok ? null : `${grpcStatus[status.code] ?? status.code}: ${status.details ?? ''}`.trimEnd(),
      actor: this.pick(details, 'actor', () => this.actor(info)) ?? null,
    });
  }

  /**
   * The action of a call, undefined to leave it unrecorded. An action function that throws or
   * returns a name the logger would refuse does not lose the event: it is recorded under the
   * method name, with the reason as `action_error`.
   */
  private actionOf(info: GrpcCallInfo, details: Details): string | undefined {
    const action = this.audit.action;
    if (typeof action !== 'function') return action ?? info.method;
    try {
      const name = action(info);
      const problem = name === undefined ? undefined : actionProblem(name);
      if (problem === undefined) return name;
      details.action_error = `action() returned a bad action name: ${problem}`;
    } catch (err) {
      details.action_error = errorMessage(err);
    }
    return info.method;
  }

  private actor(info: GrpcCallInfo): string | null | undefined {
    if (this.options.actor) return checkActorResult(this.options.actor(info));
    const value = info.metadata.get(this.options.actorKey ?? 'x-actor')[0];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  /** Runs a user function; a throw is recorded as `<label>_error` instead of losing the event. */
  private pick<T>(details: Details, label: string, get: () => T): T | undefined {
    try {
      return get();
    } catch (err) {
      details[`${label}_error`] = errorMessage(err);
      return undefined;
    }
  }
}

function checkOptions(options: GrpcAuditOptions): GrpcAuditOptions {
  // `methods` is keyed by method paths and names, not judged here; its MethodAudit entries are (checkMethod).
  if (isPlainObject(options)) refuseMisspelledOptions(options, GRPC_AUDIT_OPTION_NAMES);
  checkOutcomeStatuses(options?.statuses);
  if (isPlainObject(options?.methods)) {
    for (const [key, entry] of Object.entries(options.methods!)) if (isPlainObject(entry)) refuseMisspelledOptions(entry as object, METHOD_AUDIT_NAMES, `methods.${key}`);
  }
  if (!options || typeof options.logger?.logEvent !== 'function') throw new InvalidOptionError('logger', 'must be an AuditLogger');
  if (options.otherMethods !== undefined) checkChoice('otherMethods', options.otherMethods, ['record', 'skip']);
  if (options.actorKey !== undefined && (typeof options.actorKey !== 'string' || !/^[0-9a-z_.-]+$/.test(options.actorKey) || options.actorKey.endsWith('-bin'))) {
    throw new InvalidOptionError('actorKey', `${describeValue(options.actorKey)} is not a lower-case text metadata key`);
  }
  for (const key of ['actor', 'onError'] as const) checkFunction(key, options[key]);
  if (options.recordRequest !== undefined) checkBoolean('recordRequest', options.recordRequest);
  if (options.methods !== undefined && !isPlainObject(options.methods)) throw new InvalidOptionError('methods', `${describeValue(options.methods)} is not an object keyed by method`);
  for (const [key, entry] of Object.entries(options.methods ?? {})) checkMethod(`methods.${key}`, entry);
  return options;
}

/** Checks one entry of `methods`: false, an action name, or a MethodAudit whose fields have their documented types. */
function checkMethod(option: string, entry: unknown): void {
  if (entry === false) return;
  if (typeof entry === 'string') {
    const problem = actionProblem(entry);
    if (problem) throw new InvalidOptionError(option, problem);
    return;
  }
  if (!isPlainObject(entry)) throw new InvalidOptionError(option, 'must be an action name, a method setting object, or false');
  const audit = entry as MethodAudit;
  if (audit.action !== undefined && typeof audit.action !== 'function') {
    const problem = actionProblem(audit.action);
    if (problem) throw new InvalidOptionError(`${option}.action`, problem);
  }
  for (const key of ['details', 'before', 'after'] as const) checkFunction(`${option}.${key}`, audit[key]);
  if (audit.snapshots !== undefined) checkChoice(`${option}.snapshots`, audit.snapshots, ['diff', 'full']);
}

function isPlainObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

