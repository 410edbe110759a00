// Helpers for the core tests: read back what a logger wrote, in each format, straight from disk.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { csvToEvent, type AuditEvent } from '@auditrail/core';

/** Events of `{dir}/audit_log.jsonl`, one per line; throws if any line is not JSON. */
export function readJsonl(dir: string): AuditEvent[] {
  const text = readFileSync(join(dir, 'audit_log.jsonl'), 'utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as AuditEvent);
}

/** Events of `{dir}/audit_log.json`, parsed whole with JSON.parse, in file order. */
export function readJsonArray(dir: string): AuditEvent[] {
  const value: unknown = JSON.parse(readFileSync(join(dir, 'audit_log.json'), 'utf8'));
  if (!Array.isArray(value)) throw new Error('audit_log.json is not an array');
  return value as AuditEvent[];
}

/** Raw CSV records (header row first) of `{dir}/audit_log.csv`, parsed by csv-parse as RFC 4180. */
export function readCsvRows(dir: string): string[][] {
  return parse(readFileSync(join(dir, 'audit_log.csv')), { relax_column_count: false }) as string[][];
}

/** Events of `{dir}/audit_log.csv`, cells restored as the reader restores them. */
export function readCsv(dir: string): AuditEvent[] {
  const records = parse(readFileSync(join(dir, 'audit_log.csv')), { columns: true }) as Record<string, string>[];
  return records.map(csvToEvent);
}

/** Events of one format. */
export function readFormat(dir: string, format: 'json' | 'jsonl' | 'csv'): AuditEvent[] {
  if (format === 'json') return readJsonArray(dir);
  if (format === 'jsonl') return readJsonl(dir);
  return readCsv(dir);
}

/** The rejection of a promise (fails if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Waits until a logger's lease on its directory has ended (at the end of its turn of the event loop), with room to spare. */
export function leaseEnds(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}
