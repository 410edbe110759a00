// @auditrail/core: the audit logger for AI/ML pipelines. Every public name is exported here, explicitly.
export { AuditLogger } from './logger';
export type { AuditLoggerOptions } from './options';
export type { AuditEvent, ActionCatalog, ActionName, AnyCatalog, Details, DraftEvent, EventInput, EventSource, LogEventArgs } from './event';
export { actionProblem, MAX_ACTION_LENGTH, normaliseArgs, type NormalisedInput } from './input';
export {
  AuditError,
  AuditReadError,
  AuditWriteError,
  InvalidEventError,
  InvalidOptionError,
  InvalidStatusError,
  LockTimeoutError,
  LoggerClosedError,
  RedactionError,
  SinkError,
  describe as errorMessage,
  type AuditErrorCode,
} from './errors';
export { defineStatuses, statusValidator, pipelineStatuses, outcomeStatuses, type StatusScheme, type StatusListOptions, type StatusValidatorOptions } from './statuses';
export { MAX_TIMER_MS, checkMilliseconds, checkWholeNumber, checkBoolean, checkChoice, checkFunction, describeValue, isThenable } from './option-checks';
export { refuseMisspelledOptions, refuseUnknownOptions } from './option-names';
export { compileFilter, type EventFilter, type EventPredicate } from './filter';
export { AuditBus, type AuditBusEvents, type AuditBusEventName } from './bus';
export { definePlugin, type AuditPlugin, type Enricher, type Redactor } from './plugin';
export { defineSink, isBatchSink, type Sink, type BatchSink, type AnySink, type ExportResult, type RejectedEvent, type SinkContext } from './sink';
export { ConsoleSink, type ConsoleSinkOptions } from './sinks/console-sink';
export { MemorySink } from './sinks/memory-sink';
export type { JsonArrayOrder } from './sinks/json-array-file';
export { resolveFormats, FORMAT_FILES, type LogFormat } from './format';
export type { FsyncPolicy } from './journal';
export { toSafeValue, toSafeDetails, DEFAULT_LIMITS, TRUNCATED_KEY, type SafeValueLimits } from './safe-value';
export { GENESIS_HASH, canonicalForm, computeHash } from './seal';
export { verifyAuditLog, verifyEvents, type VerifyOptions, type VerifyReport, type LogVerification, type CheckpointsReport } from './integrity/verify';
export { RETENTION_ACTION } from './integrity/chain-walk';
export type { ChainProblem, TamperKind } from './integrity/problems';
export { CHECKPOINTS_FILE, DEFAULT_CHECKPOINT_EVERY, checkCheckpoints, type Checkpoint, type CheckpointOptions, type CheckpointReason, type CheckpointsCheck } from './integrity/checkpoints';
export { Redaction, redactionHash, REDACTED, HMAC_PREFIX, type RedactionOptions } from './redaction/redaction';
export { DEFAULT_SECRET_KEYS, DEFAULT_SECRET_SUFFIXES, DEFAULT_ALLOWED_KEYS, type SecretKeyOptions } from './redaction/secret-keys';
export { DEFAULT_MIN_RETENTION_DAYS, type RotationOptions, type RetentionOptions } from './rotation/policy';
export { SEGMENT_PATTERN, journalFiles, listSegments, type Segment } from './rotation/segments';
export { KEY_FILES, generateSigningKeys, writeSigningKeys, loadPrivateKey, loadPublicKey, keyIdOf, type SigningKeyPair } from './integrity/keys';
export { canonicalJson } from './canonical';
export { formatTimestamp, parseIsoTimestampUs, parseTimestampUs } from './clock';
export { uuidv7 } from './id';
export { CSV_COLUMNS, eventToCsv, csvToEvent, neutraliseCell, restoreCell } from './csv-codec';
export { readEvents, locateLog, type LogFileRef } from './reader/read-events';
export { summarize, queryEvents, type LogSummary, type EventQuery } from './reader/summary';
export { gitCommitEnricher, contextEnricher, contextPlugin } from './enrichers';
export { audited, type AuditedOptions, type AuditedFunction } from './instrument/audited';
export { checkActorResult, reportUnrecorded } from './instrument/unrecorded';
export { diff, formatPath, type Diff } from './instrument/diff';
export { checkOutcomeStatuses, resolveOutcomeStatuses, type OutcomeStatuses } from './instrument/outcome';
export { takeSnapshot, addSnapshotDetails, type Snapshot, type SnapshotMode } from './instrument/snapshot';
export { WEIGHTSLAB_ACTIONS, type WeightsLabCatalog, type Change, type SampleOperation } from './catalog/weightslab';
export {
  DeliveryEngine,
  type AcknowledgedDelivery,
  type DeliveryEngineOptions,
  type DeliveryOptions,
  type FlushResult,
  type SinkFlushResult,
} from './delivery/engine';
export type { SinkStats, SinkState } from './delivery/sink-worker';
export { DEFAULT_DELIVERY_POLICY, resolvePolicy, retryDelay, type DeliveryPolicy } from './delivery/policy';
export { JsonlJournalReader, type JournalReader, type JournalPosition, type JournalLine, type JournalChunk, type SegmentLister } from './delivery/journal-reader';
export { CursorStore, cursorFileName } from './delivery/cursor';
export { DEAD_LETTER_FILE, type DeadLetter } from './delivery/dead-letter';
export type { OverflowPolicy, MemoryQueueOptions } from './delivery/memory-queue';
export { outboxPath } from './delivery/outbox';
export { MemoryBatchSink, type MemoryBatchSinkOptions } from './delivery/memory-batch-sink';
