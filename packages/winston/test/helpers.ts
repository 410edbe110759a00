// Helpers for the winston tests: read back JSON lines written by auditrail or by winston.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '@auditrail/core';

/** Parsed JSON lines of a file (empty when the file is empty). */
export function readLines<T = Record<string, unknown>>(file: string): T[] {
  const text = readFileSync(file, 'utf8');
  return text.trim() === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as T);
}

/** Events of `{dir}/audit_log.jsonl`. */
export function readJsonl(dir: string): AuditEvent[] {
  return readLines<AuditEvent>(join(dir, 'audit_log.jsonl'));
}
