// Closed segments of the JSONL journal: `audit_log.<first>_<last>.jsonl`, named by the UTC time range of their events.
import { closeSync, existsSync, fstatSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../event';
import { lastLineBefore, readAt } from '../files/fs-util';
import { FORMAT_FILES } from '../format';

/** A closed segment's name: first and last event times, compact UTC (`20261122T151500.123456Z`), and a counter on a clash. */
export const SEGMENT_PATTERN = /^audit_log\.(\d{8}T\d{6}\.\d{6}Z)_(\d{8}T\d{6}\.\d{6}Z)(?:-(\d+))?\.jsonl$/;

/** `2026-11-22T15:15:00.123456Z` → `20261122T151500.123456Z`. */
export function compactTime(timestamp: string): string {
  return timestamp.replace(/[-:]/g, '');
}

/** `20261122T151500.123456Z` → milliseconds since the epoch. */
export function compactTimeMs(compact: string): number {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)\.(\d{3})\d{3}Z$/.exec(compact);
  if (!m) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
}

/** One closed segment. */
export interface Segment {
  /** Its path. */
  path: string;
  /** Its file name. */
  name: string;
  /** Time of its first event (ms). */
  firstMs: number;
  /** Time of its last event (ms). */
  lastMs: number;
}

/** The closed segments of a directory, oldest first. */
export function listSegments(dir: string): Segment[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const segments: Segment[] = [];
  for (const name of names) {
    const m = SEGMENT_PATTERN.exec(name);
    if (m) segments.push({ path: join(dir, name), name, firstMs: compactTimeMs(m[1]!), lastMs: compactTimeMs(m[2]!) });
  }
  // Names sort by first time; a clash counter sorts numerically after the plain name.
  return segments.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The journal's files in order: closed segments, then the live `audit_log.jsonl` when it exists. */
export function journalFiles(dir: string): string[] {
  const files = listSegments(dir).map((segment) => segment.path);
  const live = join(dir, FORMAT_FILES.jsonl);
  if (existsSync(live)) files.push(live);
  return files;
}

/** A free name for a segment holding events from `first` to `last` (ISO timestamps). */
export function segmentName(dir: string, first: string, last: string): string {
  const base = `audit_log.${compactTime(first)}_${compactTime(last)}`;
  let name = `${base}.jsonl`;
  for (let n = 1; existsSync(join(dir, name)); n++) name = `${base}-${n}.jsonl`;
  return name;
}

/** The first and last events of a JSONL file (undefined when it holds none). */
export function firstAndLast(path: string): { first: AuditEvent; last: AuditEvent } | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const last = lastLineBefore(fd, size);
    if (!last) return undefined;
    const first = firstLine(fd, size);
    return { first: JSON.parse(first) as AuditEvent, last: JSON.parse(last.text) as AuditEvent };
  } finally {
    closeSync(fd);
  }
}

/** The first line of an open file (without its newline). */
export function firstLine(fd: number, size: number): string {
  let length = Math.min(size, 4096);
  for (;;) {
    const head = readAt(fd, 0, length);
    const nl = head.indexOf(0x0a);
    if (nl >= 0) return head.toString('utf8', 0, nl);
    if (length >= size) return head.toString('utf8');
    length = Math.min(size, length * 4);
  }
}
