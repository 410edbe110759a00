// Where the sink connects: a pool the caller owns, or one it builds from a connection string,
// client settings and the libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, ...).
import { userInfo } from 'node:os';
import { defaults, Pool, type ClientConfig, type PoolConfig } from 'pg';

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
 * which reads only $USER) the user defaults to PGUSER, then the operating system's user name,
 * so the sink connects where `psql` would. Idle connections never keep the process alive.
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
  const pool = new Pool(withLibpqUser(config));
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

/**
 * Gives `config` the user libpq would pick when neither `user` nor the connection string names
 * one: PGUSER, else the operating system's user (pg alone reads $USER, which may be empty or
 * another user's). pg lets a connection string's (empty) user win over `user`, so a string
 * without one also gets the user as its `user` parameter. A string the sink cannot read is left to pg.
 */
export function withLibpqUser<T extends ClientConfig>(config: T): T {
  const text = config.connectionString;
  const uri = parseUri(text);
  if (text && !uri && !text.startsWith('/')) return config;
  if (uri && userFromUri(uri)) return config;
  const user = config.user || process.env.PGUSER || osUser();
  if (!user) return config;
  config.user = user;
  if (uri) config.connectionString = `${text}${text!.includes('?') ? '&' : '?'}user=${encodeURIComponent(user)}`;
  return config;
}

/**
 * Host, port, database and user pg connects with, for error messages (never the password): as pg
 * does, a connection string's values win over the settings, then the libpq variables, then pg's defaults.
 */
export function describeTarget(pool: Pool): string {
  const o = pool.options as PoolConfig;
  const uri = parseUri(o.connectionString);
  const host = (uri ? uri.searchParams.get('host') || decode(uri.hostname) : o.host) || process.env.PGHOST || 'localhost';
  const port = (uri ? uri.searchParams.get('port') || uri.port : o.port) || process.env.PGPORT || 5432;
  const user = (uri ? userFromUri(uri) : o.user) || process.env.PGUSER || defaults.user;
  const database = (uri ? decode(uri.pathname.slice(1)) : o.database) || process.env.PGDATABASE || user;
  return `${host}:${port}/${database} ${user ? `as "${user}"` : 'with no user name (set one, or PGUSER)'}`;
}

/** The user a connection URI names: its `user` parameter, else its user part. */
function userFromUri(uri: URL): string | undefined {
  return uri.searchParams.get('user') || decode(uri.username) || undefined;
}

/** Percent-decoded, or as it is when malformed (an error message must not throw). */
function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
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
