// Child for the failed-secondary test, run under `ulimit -f`: logs JSONL (primary) and CSV, whose rows are
// larger (quotes are doubled), until the CSV file nearly reaches the limit; then, in one lease, an event
// too large for the CSV's room and a small one that fits. Prints what happened to each as JSON.
import { statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger } from '@auditrail/core';

async function main(): Promise<void> {
  const [dir, limit] = process.argv.slice(2) as [string, string];
  const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'], fsync: 'never' });
  const csvSize = (): number => statSync(join(dir, 'audit_log.csv')).size;
  const quotes = (n: number): { q: string } => ({ q: '"'.repeat(n) });
  await logger.logEvent('fill', quotes(1000));
  const before = csvSize();
  await logger.logEvent('fill', quotes(1000));
  const row = csvSize() - before;
  while (Number(limit) - csvSize() >= 2 * row + 100) await logger.logEvent('fill', quotes(1000));
  const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (err: Error) => `rejected: ${err.message}`);
  // Both appended in this turn of the event loop, under one lease.
  const [big, small] = await Promise.all([outcome(logger.logEvent('too big', quotes(4000))), outcome(logger.logEvent('fits', quotes(1000)))]);
  await logger.close().catch(() => undefined);
  writeSync(1, JSON.stringify({ big, small }) + '\n');
}

void main();
