// Child for the local-files tests: waits for a common start time, then logs `count` events as fast as it can
// (each awaited, so the directory lock is taken again and again) and prints the log id it wrote under.
import { writeSync } from 'node:fs';
import { AuditLogger } from '@auditrail/core';

async function main(): Promise<void> {
  const [dir, startAt, count, formats = 'jsonl'] = process.argv.slice(2) as [string, string, string, string?];
  while (Date.now() < Number(startAt)) await new Promise((resolve) => setTimeout(resolve, 1));
  const logger = new AuditLogger({ rootLogDir: dir, format: formats.split(',') as ('jsonl' | 'json' | 'csv')[], fsync: 'never', lockTimeoutMs: 20_000 });
  let log = '';
  for (let i = 0; i < Number(count); i++) log = (await logger.logEvent('contend', { pid: process.pid, i })).source.log;
  await logger.close();
  writeSync(1, `log ${log}\n`);
}

main().catch((err: unknown) => {
  writeSync(2, `${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
