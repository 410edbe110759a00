// Fixture: crosses UTC midnight on a shifted wall clock (in its own process, so the process-wide clock of the tests is untouched).
import { AuditLogger } from '@auditrail/core';

const [dir] = process.argv.slice(2);
const realNow = Date.now.bind(Date);
const start = realNow();
let shift = Date.UTC(2099, 0, 1, 23, 59, 59, 0) - start;
Date.now = () => realNow() + shift;

void (async () => {
  const logger = new AuditLogger({ rootLogDir: dir!, format: 'jsonl', rotation: { interval: 'day' } });
  for (let i = 0; i < 3; i++) await logger.logEvent('before midnight', { i });
  shift += 2_000; // 2099-01-02T00:00:01
  for (let i = 0; i < 2; i++) await logger.logEvent('after midnight', { i });
  await logger.close();
})();
