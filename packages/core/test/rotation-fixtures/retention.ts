// Fixture: retention scenarios in their own process, so they see a real clock whatever the tests before them did to theirs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, type AuditLoggerOptions } from '@auditrail/core';

const [scenario, dir, privateKey] = process.argv.slice(2) as [string, string, string | undefined];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const warnings: string[] = [];

async function write(options: AuditLoggerOptions, count: number, action: string): Promise<void> {
  const logger = new AuditLogger(options);
  logger.on('warning', ({ code }) => warnings.push(code));
  for (let i = 0; i < count; i++) await logger.logEvent(action, { i });
  await logger.close();
}

void (async () => {
  const base: AuditLoggerOptions = { rootLogDir: dir, format: 'jsonl', rotation: { maxBytes: scenario === 'expire' ? 1_500 : 1_000 } };
  if (privateKey) base.checkpoints = { privateKey, every: 10 };
  await write(base, scenario === 'expire' ? 40 : 30, 'old');
  if (scenario === 'waiting') {
    mkdirSync(join(dir, '.delivery'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, '.delivery', 'slow.cursor'), JSON.stringify({ v: 1, sink: 'slow', file: 'x', ino: -1, offset: 0, seq: 3, updated: '' }));
  }
  await sleep(300);
  await write({ ...base, retention: { maxAgeDays: 0.2 / 86_400, minAgeDays: 0 } }, 1, 'new');
  process.stdout.write(JSON.stringify({ warnings }) + '\n');
})();
