// Child process for the crash test: logs COUNT events to DIR with an HttpSink to URL, flushes, says "done".
import { AuditLogger } from '@auditrail/core';
import { HttpSink } from '@auditrail/http';

const [dir, url, count] = process.argv.slice(2);

async function main(): Promise<void> {
  const logger = new AuditLogger({
    rootLogDir: dir,
    format: 'jsonl',
    fsync: 'never',
    sinks: [new HttpSink({ url: url!, delivery: { maxBatchSize: 50, maxBatchDelayMs: 5, initialBackoffMs: 5, maxBackoffMs: 50 } })],
  });
  for (let i = 0; i < Number(count); i++) {
    await logger.logEvent('step', { i });
    if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const result = await logger.flush({ timeoutMs: 30_000 });
  await logger.close();
  process.stdout.write(result.ok ? 'done\n' : `not done: ${JSON.stringify(result)}\n`);
}
void main();
