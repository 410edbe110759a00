// Finds the log a command reads: a file, or a directory's log with the closed segments of a rotated JSONL journal.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AuditReadError, FORMAT_FILES, journalFiles, locateLog, type LogFileRef } from '@auditrail/core';

/** A log to read: its file (for a JSONL journal, the live one) and the closed segments read before it. */
export interface OpenedLog extends LogFileRef {
  /** Closed journal segments, oldest first, read before `path`; empty for a file target and for JSON or CSV. */
  readonly segments: readonly string[];
}

/**
 * Finds the log of a directory (audit_log.jsonl with its rotated segments, else .json, else
 * .csv) or takes a file by its extension. A missing log, or a CSV without the audit columns,
 * is an AuditReadError naming the path.
 */
export function openLog(target: string): OpenedLog {
  if (isDirectory(target)) {
    const live = join(target, FORMAT_FILES.jsonl);
    const segments = journalFiles(target).filter((path) => path !== live);
    if (segments.length > 0) return { path: live, format: 'jsonl', segments };
  }
  const log = locateLog(target);
  if (log.format === 'csv') checkCsvHeader(log.path);
  return { ...log, segments: [] };
}

/** The files of a log in reading order: its segments, then its file (unless a rotation has just left no live file). */
export function logFiles(log: LogFileRef | OpenedLog): LogFileRef[] {
  const segments = 'segments' in log ? log.segments : [];
  const files: LogFileRef[] = segments.map((path) => ({ path, format: 'jsonl' }));
  if (segments.length === 0 || existsSync(log.path)) files.push({ path: log.path, format: log.format });
  return files;
}

/** `path (format)`, with the number of closed segments when there are any. */
export function describeLog(log: LogFileRef | OpenedLog): string {
  const segments = 'segments' in log ? log.segments.length : 0;
  return segments === 0 ? `${log.path} (${log.format})` : `${log.path} (${log.format}, after ${segments} closed segment${segments === 1 ? '' : 's'})`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // locateLog reports the missing path
  }
}

/** The columns without which a CSV file is not an audit log (the first seed's file has exactly five). */
const REQUIRED_CSV_COLUMNS = ['timestamp', 'action_type', 'status', 'details'] as const;

function checkCsvHeader(path: string): void {
  let head: string;
  try {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(4096);
      head = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new AuditReadError(`Cannot read ${path}: ${(err as Error).message}`);
  }
  if (head === '') return; // an empty file holds no events
  const columns = head.replace(/^\uFEFF/, '').split(/\r?\n/)[0]!.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  const missing = REQUIRED_CSV_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new AuditReadError(`${path} is not an audit log CSV: its header lacks ${missing.join(', ')} (expected ${REQUIRED_CSV_COLUMNS.join(',')},...)`);
  }
}
