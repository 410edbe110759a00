// @auditrail/postgres: the PostgreSQL sink of auditrail, and the reader that gives back the exact stored events.
export { PostgresSink, POSTGRES_DELIVERY, type PostgresSinkOptions } from './postgres-sink';
export { PostgresSinkError, classify as classifyPostgresError, type FailureKind } from './errors';
export { ddlScript as postgresDdl, COLUMNS as POSTGRES_COLUMNS, type ColumnSpec, type TableRef } from './schema';
export { checkIdentifier, quoteIdentifier } from './identifiers';
export { REPLACEMENT_CHAR, UnstorableEventError } from './rows';
export { verifyPostgresTable, tableEvents, type VerifyTableOptions } from './verify-table';
