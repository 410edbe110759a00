// Child process for the close test: a flush() with no timeout is in flight on a sink that never answers; close({ timeoutMs }) must return and the process end by itself.
import { AuditLogger, type BatchSink, type ExportResult } from '@auditrail/core';

const [dir] = process.argv.slice(2);
const stuck: BatchSink = {
  name: 'stuck',
  delivery: { maxBatchDelayMs: 1, exportTimeoutMs: 600_000 },
  export: (_batch, signal) => new Promise<ExportResult>((resolve) => signal.addEventListener('abort', () => resolve({ code: 'retryable', error: new Error('aborted') }))),
};

async function main(): Promise<void> {
  const logger = new AuditLogger({ rootLogDir: dir, format: 'json', sinks: [stuck] });
  await logger.logEvent('step');
  const flushing = logger.flush(); // no timeout: waits for a sink that never answers
  const closed = await logger.close({ timeoutMs: 200 });
  process.stdout.write(`closed ok=${String(closed.ok)} pending=${String(closed.sinks.stuck?.pending)}\n`);
  const flushed = await flushing;
  process.stdout.write(`flush settled ok=${String(flushed.ok)}\n`);
  // Nothing keeps the process alive now: it must exit by itself.
}
void main();
