// @auditrail/express: one audit event per Express request, through a middleware.
export { auditMiddleware, type ExpressAuditOptions } from './middleware';
