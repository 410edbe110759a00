// Where the sink connects: a pool the caller owns, or one it builds from a connection string,
// client settings and the libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, ...).
import { userInfo } from 'node:os';
import { Pool, type PoolConfig } from 'pg';

/** Settings of the pool the sink builds for itself. */
export interface OwnPoolSettings {
  /** A libpq connection URI (`postgres://user:pass@host:port/db?sslmode=...`). */
  connectionString: string | undefined;
  /** pg client settings (host, port, user, password, database, ssl, ...); they override the URI. */
  client: PoolConfig | undefined;
  /** Connections the sink may hold at once. */
  maxConnections: number;
  /** Limit on establishing a connection. */
  connectTimeoutMs: number;
  /** Server-side limit on each statement. */
  statementTimeoutMs: number;
}

/**
 * Builds the sink's own pool. pg reads the libpq variables itself; like libpq (and unlike pg,
 * which reads only $USER) the user defaults to the operating system's user name, so the sink
 * connects where `psql` would. Idle connections never keep the process alive.
 */
export function createOwnPool(settings: OwnPoolSettings): Pool {
  const config: PoolConfig = {
    application_name: process.env.PGAPPNAME || 'auditrail',
    keepAlive: true,
    idleTimeoutMillis: 30_000,
    ...settings.client,
    max: settings.maxConnections,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    allowExitOnIdle: true,
  };
  if (settings.connectionString !== undefined) config.connectionString = settings.connectionString;
  const user = config.user ?? userFromUri(settings.connectionString) ?? process.env.PGUSER ?? process.env.USER;
  if (!user) config.user = osUser();
  const pool = new Pool(config);
  // An idle connection that dies (server restart, pg_terminate_backend) is dropped by the pool,
  // which then emits 'error'; without a listener that would end the host process.
  pool.on('error', () => undefined);
  // pg-pool hands a new client over with no 'error' listener: if the same network read that
  // completes its startup also carries its termination (pg_terminate_backend, a restart), the
  // error is emitted before the caller's code runs. Each of our clients keeps a listener for
  // life; the failure itself reaches the caller through its query.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Host, port, database and user, for error messages (never the password). */
export function describeTarget(pool: Pool): string {
  const o = pool.options as PoolConfig;
  const uri = parseUri(o.connectionString);
  const host = o.host ?? uri?.hostname ?? process.env.PGHOST ?? 'localhost';
  const port = o.port ?? (uri?.port || undefined) ?? process.env.PGPORT ?? 5432;
  const user = o.user ?? (uri?.username ? decodeURIComponent(uri.username) : undefined) ?? process.env.PGUSER ?? process.env.USER ?? '?';
  const database = o.database ?? (uri && uri.pathname.length > 1 ? decodeURIComponent(uri.pathname.slice(1)) : undefined) ?? process.env.PGDATABASE ?? user;
  return `${host}:${port}/${database} as "${user}"`;
}

function userFromUri(uri: string | undefined): string | undefined {
  const username = parseUri(uri)?.username;
  return username ? decodeURIComponent(username) : undefined;
}

function parseUri(uri: string | undefined): URL | undefined {
  if (uri === undefined) return undefined;
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

function osUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}
