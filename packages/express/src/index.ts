// @auditrail/express: one audit event per Express request, through a middleware.
export { auditMiddleware, auditErrors, type ExpressAuditOptions } from './middleware';
