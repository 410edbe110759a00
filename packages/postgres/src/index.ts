// @auditrail/postgres entry point (being built).
export { verifyPostgresTable, tableEvents, type VerifyTableOptions } from './verify-table';
