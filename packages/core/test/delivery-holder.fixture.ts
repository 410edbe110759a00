// Child process for the lease test: logs events to DIR with a batch sink that never confirms, says "ready", and waits to be killed.
import { AuditLogger, type BatchSink, type ExportResult } from '@auditrail/core';

const [dir, count] = process.argv.slice(2);
const stuck: BatchSink = {
  name: 'remote',
  delivery: { maxBatchDelayMs: 1, exportTimeoutMs: 600_000 },
  export: (_batch, signal) => new Promise<ExportResult>((resolve) => signal.addEventListener('abort', () => resolve({ code: 'retryable', error: new Error('aborted') }))),
};

async function main(): Promise<void> {
  const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [stuck] });
  for (let i = 0; i < Number(count); i++) await logger.logEvent('child_step', { i });
  process.stdout.write('ready\n');
  setInterval(() => undefined, 60_000); // stay alive, holding the lease, until SIGKILL
}
void main();
