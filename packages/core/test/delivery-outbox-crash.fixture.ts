// Child process for the outbox catch-up test: logs to DIR with format FORMAT and a batch sink, and kills itself with SIGKILL from an 'event' handler at seq 3.
import { AuditLogger, MemoryBatchSink, type LogFormat } from '@auditrail/core';

const [dir, format] = process.argv.slice(2) as [string, LogFormat];

async function main(): Promise<void> {
  const logger = new AuditLogger({ rootLogDir: dir, format, sinks: [new MemoryBatchSink({ name: 'remote' })] });
  logger.on('event', (event) => {
    if (event.seq === 3) process.kill(process.pid, 'SIGKILL'); // after the local file, before anything else
  });
  for (let i = 0; i < 5; i++) await logger.logEvent('child_step', { i });
}
void main();
