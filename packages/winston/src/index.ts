// @auditrail/winston: the winston bridge, both ways. AuditTransport records winston lines as audit events; WinstonSink sends audit events through any winston transport.
export { AuditTransport, type AuditTransportOptions } from './audit-transport';
export { WinstonSink, type WinstonSinkOptions } from './winston-sink';
export { eventInputFrom, type LineMapping } from './mapping';
export { levelForStatus, statusForLevel } from './levels';
