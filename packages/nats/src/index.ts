// @auditrail/nats: audit events across machines through NATS JetStream.
export { NatsSink, type NatsSinkOptions } from './nats-sink';
export { Collector, type CollectorOptions, type CollectorStats } from './collector';
export { ArchiveSink } from './archive-sink';
export { ensureAuditStream, type AuditStreamOptions } from './stream';
export { subjectToken, defaultSubject } from './subject';
export { classifyNatsError } from './errors';
