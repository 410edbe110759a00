// `auditrail collect --nats URL --stream S --to TARGET`: a durable JetStream consumer that writes events into a
// Postgres table, an HTTP endpoint or a directory, acknowledging each message only after the target confirmed it.
import { InvalidOptionError, type BatchSink } from '@auditrail/core';
import type { Command } from 'commander';

/** Options of the collect command. */
interface CollectFlags {
  nats: string;
  stream: string;
  durable: string;
  to: string;
  table?: string;
  schema?: string;
  batch: string;
  deadLetter?: string;
}

/** Adds the collect command. */
export function registerCollect(program: Command): void {
  program
    .command('collect')
    .description('collect audit events from a NATS JetStream stream into Postgres, an HTTP endpoint or a directory')
    .requiredOption('--to <target>', 'postgres://… URL, http(s)://… URL, or a directory (one JSONL file per chain)')
    .option('--nats <url>', 'NATS server URL(s), comma-separated', process.env.NATS_URL ?? 'nats://127.0.0.1:4222')
    .option('--stream <name>', 'JetStream stream', 'AUDIT')
    .option('--durable <name>', 'durable consumer shared by collectors that scale out', 'auditrail-collector')
    .option('--table <name>', 'table for a postgres target', 'audit_events')
    .option('--schema <name>', 'schema for a postgres target')
    .option('--batch <n>', 'messages per batch', '500')
    .option('--dead-letter <file>', 'file for messages the target refuses for good')
    .action(async (flags: CollectFlags) => {
      const batchSize = Number(flags.batch);
      if (!Number.isInteger(batchSize) || batchSize <= 0) throw new InvalidOptionError('--batch', `must be a positive integer, got ${JSON.stringify(flags.batch)}`);
      // Loaded only here: nats, axios and pg cost every other command's start-up time.
      const { Collector } = await import('@auditrail/nats');
      const collector = new Collector({
        servers: flags.nats.split(',').map((s) => s.trim()),
        stream: flags.stream,
        durable: flags.durable,
        target: await targetOf(flags),
        batchSize,
        ...(flags.deadLetter ? { deadLetterPath: flags.deadLetter } : {}),
      });
      await collector.start();
      process.stderr.write(`auditrail: collecting ${flags.stream} (consumer ${flags.durable}) into ${describe(flags.to)}\n`);
      const stop = (): void => {
        process.stderr.write('auditrail: stopping after the batch in hand\n');
        void collector.stop();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await collector.done();
      await collector.stop();
      process.stderr.write(`auditrail: stopped; ${collector.stats.written} events written, ${collector.stats.deadLettered} dead-lettered\n`);
    });
}

async function targetOf(flags: CollectFlags): Promise<BatchSink> {
  const to = flags.to;
  if (/^postgres(ql)?:\/\//.test(to)) {
    const { PostgresSink } = await import('@auditrail/postgres');
    return new PostgresSink({ connectionString: to, table: flags.table ?? 'audit_events', ...(flags.schema ? { schema: flags.schema } : {}) });
  }
  if (/^https?:\/\//.test(to)) {
    const { HttpSink } = await import('@auditrail/http');
    return new HttpSink({ url: to });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) throw new InvalidOptionError('--to', `${JSON.stringify(to)}: expected a postgres:// or http(s):// URL, or a directory`);
  const { ArchiveSink } = await import('@auditrail/nats');
  return new ArchiveSink(to);
}

/** The target without credentials, for messages. */
function describe(to: string): string {
  return to.replace(/\/\/[^@/]*@/, '//***@');
}
