// Table, schema and index names: validated against a strict rule, then always double-quoted in SQL.
import { createHash } from 'node:crypto';
import { InvalidOptionError } from '@auditrail/core';

/** Longest identifier Postgres keeps (NAMEDATALEN - 1 bytes); longer ones are silently cut, so we refuse them. */
export const MAX_IDENTIFIER_BYTES = 63;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/**
 * Checks a table or schema name: ASCII letters, digits, `_` and `$`, not starting with a digit
 * or `$`, at most 63 bytes. Names are quoted in SQL, so they are case-sensitive as given.
 */
export function checkIdentifier(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(option, `must be a non-empty string, got ${describeValue(value)}`);
  if (value.includes('.')) {
    throw new InvalidOptionError(option, `${JSON.stringify(value)} contains "."; give the schema with the "schema" option, not inside the name`);
  }
  if (!IDENTIFIER.test(value)) {
    throw new InvalidOptionError(
      option,
      `${JSON.stringify(value)} is not a plain SQL identifier: use ASCII letters, digits, "_" and "$", starting with a letter or "_"`,
    );
  }
  if (value.length > MAX_IDENTIFIER_BYTES) throw new InvalidOptionError(option, `${JSON.stringify(value)} is longer than ${MAX_IDENTIFIER_BYTES} characters`);
  return value;
}

/** A double-quoted identifier (validated names hold no quote, but escaping keeps this safe on its own). */
export function quoteIdentifier(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** The table as SQL: `"schema"."table"`, or `"table"` (found through search_path) without a schema. */
export function qualifiedName(table: string, schema: string | undefined): string {
  return schema === undefined ? quoteIdentifier(table) : `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}

/**
 * Name of an index on the table: `{table}_{suffix}`. Postgres would silently cut a name over
 * 63 bytes, and two cut names could collide (making `IF NOT EXISTS` skip an index), so long
 * table names are shortened with a hash that keeps them distinct.
 */
export function indexName(table: string, suffix: string): string {
  const name = `${table}_${suffix}`;
  if (name.length <= MAX_IDENTIFIER_BYTES) return name;
  const digest = createHash('sha256').update(table).digest('hex').slice(0, 8);
  const room = MAX_IDENTIFIER_BYTES - suffix.length - digest.length - 2;
  return `${table.slice(0, room)}_${digest}_${suffix}`;
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? 'an empty string' : value === null ? 'null' : typeof value;
}
