// The first seed's WeightsLab actions with the typed catalog: hp_change with before/after values, tag_add, sample_discard and a failed checkpoint_restore.
//
//   npx tsx examples/weightslab-actions.ts [dir]        (default ./audit_logs/weightslab-actions)
//
// Written as the seed's tool writes them: audit_log.json newest first and audit_log.csv, statuses success/failed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, outcomeStatuses, type AuditEvent, type WeightsLabCatalog } from '@auditrail/core';

const rootLogDir = process.argv[2] ?? 'audit_logs/weightslab-actions';

async function main(): Promise<void> {
  const logger = new AuditLogger<WeightsLabCatalog>({
    rootLogDir,
    experimentName: 'my_experiment',
    format: ['json', 'csv'],
    order: 'newest-first',
    statuses: outcomeStatuses,
  });

  // A hyperparameter change from the UI, with the values before and after.
  const before = { learning_rate: 0.01, batch_size: 64 };
  const after = { learning_rate: 0.001, batch_size: 32 };
  await logger.logEvent({ action_type: 'hp_change', status: 'success', details: { changed_params: after, before, after }, actor: 'alice' });

  // Data operations on samples (EditDataSample).
  await logger.logEvent({
    action_type: 'tag_add',
    status: 'success',
    details: { tag_name: 'defect', samples_affected: 5, sample_ids: ['s1', 's2', 's3', 's4', 's5'], origins: ['train', 'train', 'val', 'val', 'test'] },
    actor: 'bob',
  });
  await logger.logEvent({ action_type: 'sample_discard', status: 'success', details: { samples_affected: 2, sample_ids: ['s4', 's5'], reason: 'mislabelled' }, actor: 'bob' });

  // A checkpoint restore that failed: status failed, and the error in its own field.
  await logger.logEvent({ action_type: 'checkpoint_restore', status: 'failed', details: { checkpoint_id: 'ckpt_001', step: 1200 }, error: 'Checkpoint file not found', actor: 'alice' });

  const summary = await logger.getLogSummary();
  await logger.close();

  // Reading it back as the seed's Python example does, with plain JSON.
  const events = JSON.parse(readFileSync(join(rootLogDir, 'audit_log.json'), 'utf8')) as AuditEvent[];
  for (const event of events.filter((e) => e.action_type === 'hp_change')) console.log(`At ${event.timestamp}: ${JSON.stringify(event.details)}`);
  for (const event of events.filter((e) => e.status === 'failed')) console.log(`FAILED ${event.action_type}: ${event.error}`);
  console.log(`Total events: ${summary.total_events}`);
  console.log(`By action type: ${JSON.stringify(summary.by_action_type)}`);
  console.log(`By status: ${JSON.stringify(summary.by_status)}`);
}

/** Never called: with the catalog, a details shape that does not match its action is a compile error. */
export function wouldNotCompile(logger: AuditLogger<WeightsLabCatalog>): void {
  // @ts-expect-error tag_add needs tag_name and samples_affected
  void logger.logEvent({ action_type: 'tag_add', status: 'success', details: { tag: 'defect' } });
  // @ts-expect-error checkpoint_id must be a string
  void logger.logEvent('checkpoint_restore', { checkpoint_id: 1 }, 'failed');
  // @ts-expect-error not an action of the catalog
  void logger.logEvent('hp_chnage', { changed_params: {} });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
