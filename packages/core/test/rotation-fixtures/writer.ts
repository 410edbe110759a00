// Fixture: one of several processes writing one directory with an HMAC chain, checkpoints and rotation.
import { AuditLogger } from '@auditrail/core';

const [dir, privateKey, count] = process.argv.slice(2) as [string, string, string];

void (async () => {
  const logger = new AuditLogger({
    rootLogDir: dir,
    format: ['jsonl', 'csv'],
    hmacKey: 'multi-writer-key',
    checkpoints: { privateKey, every: 50 },
    rotation: { maxBytes: 20_000 },
  });
  for (let i = 0; i < Number(count); i++) {
    await logger.logEvent('write', { i, pid: process.pid, password: 'never-on-disk' });
    if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await logger.close();
})();
