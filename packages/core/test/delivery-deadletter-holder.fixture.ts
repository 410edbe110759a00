// Child process for the standby acknowledgement test: holds the lease of sink "remote" in DIR, which refuses every event for good; says "ready" and waits to be killed.
import { AuditLogger, type BatchSink } from '@auditrail/core';

const [dir] = process.argv.slice(2);
const refusing: BatchSink = {
  name: 'remote',
  delivery: { maxBatchDelayMs: 1 },
  export: async () => ({ code: 'permanent', error: new Error('schema mismatch') }),
};

async function main(): Promise<void> {
  const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [refusing], delivery: { pollIntervalMs: 10 } });
  await logger.logEvent('child_step');
  await logger.flush({ timeoutMs: 10_000 });
  process.stdout.write('ready\n');
  setInterval(() => undefined, 60_000); // stay alive, holding the lease, until SIGKILL
}
void main();
