// @auditrail/grpc: automatic audit events for every call of a @grpc/grpc-js server, through a server interceptor.
export { auditInterceptor } from './interceptor';
export { methodName, type GrpcAuditOptions, type GrpcCallInfo, type MethodAudit } from './options';
