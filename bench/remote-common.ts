// Shared by the remote scenarios: the Postgres settings, a journal backlog, and a sink delivering it.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { AuditLogger, outcomeStatuses, readEvents, type AuditEvent, type BatchSink } from '@auditrail/core';
import type { ClientConfig } from 'pg';
import { nextTurn, tagAddDetails, YIELD_EVERY } from './common';
import { benchDir, removeDir, secondsSince } from './lib';

/** pg settings from the libpq variables, defaulting to the machine's local server. */
export function pgSettings(): ClientConfig {
  return {
    host: process.env.PGHOST || '127.0.0.1',
    port: Number(process.env.PGPORT || 5432),
    user: process.env.PGUSER || process.env.USER || userInfo().username,
    database: process.env.PGDATABASE || 'test',
  };
}

/** A journal of `events` tag_add events, written once and copied for every round. */
export async function backlogJournal(events: number): Promise<{ dir: string; events: AuditEvent[] }> {
  const dir = benchDir();
  const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', statuses: outcomeStatuses });
  for (let i = 1; i <= events; i++) {
    await logger.logEvent('tag_add', tagAddDetails(), 'success');
    if (i % YIELD_EVERY === 0) await nextTurn();
  }
  await logger.close();
  const read: AuditEvent[] = [];
  for await (const event of readEvents(join(dir, 'audit_log.jsonl'))) read.push(event);
  return { dir, events: read };
}

/** The journal's backlog delivered by a sink joining a logger: events/s from addSink until flush is done. */
export async function deliverBacklog(source: string, events: number, sink: BatchSink): Promise<number> {
  const dir = benchDir();
  cpSync(source, dir, { recursive: true });
  const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', statuses: outcomeStatuses });
  const start = process.hrtime.bigint();
  logger.addSink(sink);
  const result = await logger.flush({ timeoutMs: 120_000 });
  const seconds = secondsSince(start);
  await logger.close();
  removeDir(dir);
  if (!result.ok) throw new Error(`delivery did not finish: ${JSON.stringify(result)}`);
  return events / seconds;
}
