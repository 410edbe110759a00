// Which local files a logger writes: the `format` option, then AUDIT_LOG_FORMAT, then json.
import { InvalidOptionError } from './errors';

/** A local log format: json (array), jsonl (one event a line), csv, or none. */
export type LogFormat = 'json' | 'jsonl' | 'csv' | 'none';

const FORMATS: readonly LogFormat[] = ['json', 'jsonl', 'csv', 'none'];

/** File name of each format under rootLogDir. */
export const FORMAT_FILES: Record<Exclude<LogFormat, 'none'>, string> = {
  json: 'audit_log.json',
  jsonl: 'audit_log.jsonl',
  csv: 'audit_log.csv',
};

/**
 * Resolves the formats to write. The option wins over AUDIT_LOG_FORMAT, which wins over the
 * default json; both accept one format or a comma list, case and spaces ignored. An unknown
 * value is an error, never a silent fallback. Returns [] for none.
 */
export function resolveFormats(option: LogFormat | readonly LogFormat[] | string | undefined, env: string | undefined = process.env.AUDIT_LOG_FORMAT): Exclude<LogFormat, 'none'>[] {
  if (option !== undefined) return parseFormats(option, 'format');
  if (env !== undefined && env.trim() !== '') return parseFormats(env, 'AUDIT_LOG_FORMAT');
  return ['json'];
}

function parseFormats(value: string | readonly string[], source: string): Exclude<LogFormat, 'none'>[] {
  const items = (typeof value === 'string' ? value.split(',') : [...value]).map((item) => String(item).trim().toLowerCase());
  const valid = FORMATS.map((f) => `"${f}"`).join(', ');
  if (items.length === 0 || items.some((item) => item === '')) {
    throw new InvalidOptionError(source, `${JSON.stringify(value)} has an empty entry; valid formats are ${valid}, or a comma list of them`);
  }
  for (const item of items) {
    if (!FORMATS.includes(item as LogFormat)) {
      throw new InvalidOptionError(source, `unknown format ${JSON.stringify(item)}; valid formats are ${valid}, or a comma list of them`);
    }
  }
  if (items.includes('none')) {
    if (items.length > 1) throw new InvalidOptionError(source, `"none" cannot be combined with other formats (got ${JSON.stringify(value)})`);
    return [];
  }
  return [...new Set(items)] as Exclude<LogFormat, 'none'>[];
}
