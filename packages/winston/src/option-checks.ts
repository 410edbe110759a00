// Checks of the winston-specific options of AuditTransport and WinstonSink: a bad value is an InvalidOptionError naming the option.
import { describeValue, InvalidOptionError } from '@auditrail/core';

/** Throws unless `value` is a winston format (an object with `transform`); a format factory passed uncalled is named as such. */
export function checkFormat(option: string, value: unknown): void {
  if (typeof (value as { transform?: unknown } | null)?.transform === 'function') return;
  if (typeof value === 'function') throw new InvalidOptionError(option, 'is a format factory, not a format: call it (did you mean winston.format.json()?)');
  throw new InvalidOptionError(option, `${describeValue(value)} is not a winston format (an object with a transform function)`);
}

/** Throws unless `value` is a plain object (a map from names to values); returns its entries. */
export function entriesOf(option: string, value: unknown): [string, unknown][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(option, `${describeValue(value)} is not an object`);
  return Object.entries(value);
}

/** Throws unless `level` is a level of `table`, naming `option`. */
export function checkLevel(option: string, level: unknown, table: Readonly<Record<string, unknown>>, tableName: string): void {
  if (typeof level !== 'string' || !Object.hasOwn(table, level)) {
    throw new InvalidOptionError(option, `${describeValue(level)} is not a level of ${tableName} (${Object.keys(table).join(', ')})`);
  }
}
