// A custom sink in ten lines: FAILURE and CRITICAL events go to a webhook (a pager, a chat channel); the rest only to the files.
//
//   npx tsx examples/custom-sink.ts [dir]               (default ./audit_logs/custom-sink)
//
// The "webhook" is a local HTTP server started here, which appends what it receives to {dir}/webhook-received.jsonl.
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AuditLogger, defineSink, pipelineStatuses, type Sink } from '@auditrail/core';

const rootLogDir = process.argv[2] ?? 'audit_logs/custom-sink';

/** The sink: a name, a filter, and a write that awaits the POST, so logEvent learns of a failed delivery. */
function webhookSink(url: string): Sink {
  return defineSink({
    name: 'pager-webhook',
    filter: { minSeverity: 'FAILURE' }, // FAILURE and anything more severe (CRITICAL)
    async write(event) {
      const body = JSON.stringify({ text: `[${event.status}] ${event.action_type}`, error: event.error, id: event.id, at: event.timestamp });
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`webhook answered ${response.status}`);
    },
  });
}

/** A stand-in for the pager's endpoint. */
async function startWebhook(received: string): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      appendFileSync(received, body + '\n');
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/audit`, close: () => server.close() };
}

async function main(): Promise<void> {
  mkdirSync(rootLogDir, { recursive: true });
  const webhook = await startWebhook(join(rootLogDir, 'webhook-received.jsonl'));
  const auditLogger = new AuditLogger({ rootLogDir, experimentName: 'custom-sink', statuses: pipelineStatuses.extend('CRITICAL'), sinks: [webhookSink(webhook.url)] });
  try {
    await auditLogger.logEvent('Model Training started', { epochs: 20 });
    await auditLogger.logEvent('Validation loss rising', { epoch: 7, val_loss: 0.41 }, 'WARNING');
    await auditLogger.logEvent({ action: 'Model Training failed', status: 'FAILURE', details: { epoch: 9 }, error: 'CUDA out of memory' });
    await auditLogger.logEvent('Training cluster unreachable', { cluster: 'gpu-east' }, 'CRITICAL');
  } finally {
    await auditLogger.close();
    webhook.close();
  }
  console.log(`4 events in ${rootLogDir}; the webhook received the FAILURE and the CRITICAL one (webhook-received.jsonl)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
