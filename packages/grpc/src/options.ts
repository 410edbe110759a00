// Options of the gRPC audit interceptor, and how a method's settings are looked up.
import type { ActionCatalog, AuditLogger, Details, OutcomeStatuses, SnapshotMode } from '@auditrail/core';
import type { Metadata } from '@grpc/grpc-js';

/** What the interceptor knows of a call when it asks for an action, details or snapshots. */
export interface GrpcCallInfo {
  /** Full method path, `/package.Service/Method`. */
  readonly path: string;
  /** Method name, the last part of the path. */
  readonly method: string;
  /** The first request message (undefined for a call that ended before sending one). */
  readonly request: unknown;
  /** The request metadata. */
  readonly metadata: Metadata;
  /** The client's address, as grpc-js reports it. */
  readonly peer: string;
}

/** How one method is audited. */
export interface MethodAudit {
  /** Action name, or a function of the call; a function returning undefined leaves the call unrecorded. Default: the method name. */
  action?: string | ((call: GrpcCallInfo) => string | undefined);
  /** Details from the call (the changed parameters, sample ids, a checkpoint id). */
  details?: (call: GrpcCallInfo) => Details | undefined;
  /** Snapshot of the state the call changes, taken after the request arrives and before the handler runs. */
  before?: (call: GrpcCallInfo) => unknown;
  /** Snapshot taken when the handler sends its status. */
  after?: (call: GrpcCallInfo) => unknown;
  /** How snapshots are recorded (default 'diff'). */
  snapshots?: SnapshotMode;
}

/** Every field of a MethodAudit, for catching misspelled ones (the type check fails when this and MethodAudit disagree). */
export const METHOD_AUDIT_NAMES: readonly string[] = Object.keys({
  action: 0,
  details: 0,
  before: 0,
  after: 0,
  snapshots: 0,
} satisfies Record<keyof MethodAudit, 0>);

/** Options of `auditInterceptor`; only `logger` is required. */
export interface GrpcAuditOptions<C extends ActionCatalog = ActionCatalog> {
  /** The AuditLogger that records the events. */
  logger: AuditLogger<C>;
  /**
   * Per method, keyed by full path (`/pkg.Service/Method`) or method name (`Method`): an
   * action name, a MethodAudit, or false to leave it unrecorded.
   */
  methods?: Readonly<Record<string, string | MethodAudit | false>>;
  /** Methods not in `methods`: 'record' (default) under their method name, or 'skip'. */
  otherMethods?: 'record' | 'skip';
  /** Metadata key that names the actor (default 'x-actor'). */
  actorKey?: string;
  /** Who acts, from the call; overrides `actorKey`. */
  actor?: (call: GrpcCallInfo) => string | null | undefined;
  /** Record the first request message as `details.request` (default false; redaction applies). */
  recordRequest?: boolean;
  /** Statuses for OK and for every other code; default from the logger's scheme. */
  statuses?: Partial<OutcomeStatuses>;
  /** Called when the event of a cancelled call could not be recorded (no client is left to fail); default, and when it throws or rejects: a process warning. */
  onError?: (error: unknown, call: GrpcCallInfo) => void;
}

/** Every option's name, for catching misspelled ones (the type check fails when this and GrpcAuditOptions disagree). */
export const GRPC_AUDIT_OPTION_NAMES: readonly string[] = Object.keys({
  logger: 0,
  methods: 0,
  otherMethods: 0,
  actorKey: 0,
  actor: 0,
  recordRequest: 0,
  statuses: 0,
  onError: 0,
} satisfies Record<keyof GrpcAuditOptions, 0>);


/** The settings of a method, or undefined when it is not recorded. */
export function methodAudit(options: GrpcAuditOptions, path: string): MethodAudit | undefined {
  const name = methodName(path);
  const entry = options.methods?.[path] ?? options.methods?.[name];
  if (entry === false) return undefined;
  if (entry === undefined) return options.otherMethods === 'skip' ? undefined : {};
  return typeof entry === 'string' ? { action: entry } : entry;
}

/** The method name of a path: `/pkg.Service/Method` → `Method`. */
export function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
