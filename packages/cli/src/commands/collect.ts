// `auditrail collect --nats URL --stream S --to TARGET`: a durable JetStream consumer that writes events into a
// Postgres table, an HTTP endpoint or a directory, acknowledging each message only after the target confirmed it.
import { errorMessage, InvalidOptionError, type BatchSink } from '@auditrail/core';
import { withFlagNames } from '../flag-names';
import type { Command } from 'commander';
import { errorLine, withoutCredentials } from '../root';

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

/**
 * The flag behind each option of the Collector and of the targets: an InvalidOptionError of the library
 * names its option ("servers", "deadLetterPath"), which a user of the command never wrote.
 */
const COLLECT_FLAGS: Readonly<Record<string, string>> = {
  servers: '--nats',
  stream: '--stream',
  durable: '--durable',
  batchSize: '--batch',
  deadLetterPath: '--dead-letter',
  url: '--to', // HttpSink
  connectionString: '--to', // PostgresSink
  dir: '--to', // ArchiveSink
  table: '--table',
  schema: '--schema',
};

/** Warnings the collector reports that the command shows (DEAD_LETTER_FAILED...), in its own form; COLLECTOR_STOPPED is its own error line. */
function showWarning({ code, message }: { code: string; message: string }): void {
  if (code === 'COLLECTOR_STOPPED') return;
  process.stderr.write(errorLine(`warning: ${message.replace(/^auditrail collector: /, '')}`));
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
      // The Collector decides whether the number is a valid batch size (and says so naming --batch).
      const batchSize = Number(flags.batch);
      // Loaded only here: nats, axios and pg cost every other command's start-up time.
      const { Collector } = await import('@auditrail/nats');
      const collector = await withFlagNames(
        COLLECT_FLAGS,
        async () =>
          new Collector({
            servers: flags.nats.split(',').map((s) => s.trim()),
            stream: flags.stream,
            durable: flags.durable,
            target: await targetOf(flags),
            batchSize,
            ...(flags.deadLetter ? { deadLetterPath: flags.deadLetter } : {}),
            onWarning: showWarning,
          }),
        { batchSize: { value: batchSize, text: flags.batch } },
      );
      await collector.start();
      process.stderr.write(`auditrail: collecting ${flags.stream} (consumer ${flags.durable}) into ${describe(flags.to)}\n`);
      const stop = (): void => {
        process.stderr.write('auditrail: stopping after the batch in hand\n');
        void collector.stop();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      try {
        await collector.done();
      } catch (err) {
        // Closed as on a signal (the connection, the target), or the process would linger after the error line.
        await collector.stop().catch(() => undefined);
        throw new Error(`collecting stopped on an error: ${errorMessage(err)}`, { cause: err });
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      }
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
  return withoutCredentials(to);
}
