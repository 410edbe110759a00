// The typed action catalog: wrong details shapes are compile errors (checked by `tsc -p tsconfig.test.json`), right ones log.
import { expect } from 'chai';
import { AuditLogger, WEIGHTSLAB_ACTIONS, outcomeStatuses, type AuditEvent, type WeightsLabCatalog } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonArray } from './helpers';

/** A user's own catalog, written as an interface. */
interface TrainingCatalog {
  train_start: { epochs: number; dataset: string };
  train_end: { accuracy: number };
}

/** Calls that must not compile. The function is never called: tsc checks it, mocha does not run it. */
export function typeErrors(wl: AuditLogger<WeightsLabCatalog>, training: AuditLogger<TrainingCatalog>): void {
  // @ts-expect-error an action that is not in the catalog
  void wl.logEvent('hp_cahnge', { changed_params: {} });
  // @ts-expect-error tag_add needs tag_name and samples_affected
  void wl.logEvent('tag_add', { tag_name: 'defect' });
  // @ts-expect-error samples_affected is a number
  void wl.logEvent('sample_discard', { samples_affected: '5' });
  // @ts-expect-error mode_switch needs `to`
  void wl.logEvent('mode_switch', { from: 'train' });
  // @ts-expect-error checkpoint_restore needs checkpoint_id, in the object form too
  void wl.logEvent({ action_type: 'checkpoint_restore', status: 'failed', details: { step: 3 } });
  // @ts-expect-error an unknown action in the object form
  void wl.logEvent({ action: 'delete_everything' });
  // @ts-expect-error a closed catalog refuses extra keys
  void training.logEvent('train_end', { accuracy: 0.9, loss: 0.1 });
  // @ts-expect-error epochs is a number
  void training.logEvent({ event_name: 'train_start', details: { epochs: 'ten', dataset: 'd' } });
  // @ts-expect-error details of one action do not fit another
  void training.logEvent('train_start', { accuracy: 0.9 });
}

describe('typed action catalog', () => {
  it('logs every WeightsLab action with its details shape, into the first seed JSON file', async () => {
    const dir = tempDir();
    const logger = new AuditLogger<WeightsLabCatalog>({ rootLogDir: dir, format: 'json', statuses: outcomeStatuses });
    const logged: AuditEvent[] = [
      await logger.logEvent('hp_change', { changed_params: { learning_rate: 0.001 }, before: { learning_rate: 0.01 }, after: { learning_rate: 0.001 } }),
      await logger.logEvent('pause', { reason: 'user', step: 100 }),
      await logger.logEvent('resume', { step: 100 }),
      await logger.logEvent('mode_switch', { from: 'train', to: 'audit' }),
      await logger.logEvent('tag_add', { tag_name: 'defect', samples_affected: 2, sample_ids: ['s1', 's2'], origins: ['train', 'val'] }),
      await logger.logEvent('tag_remove', { tag_name: 'defect', samples_affected: 1, sample_ids: ['s1'] }),
      await logger.logEvent('sample_discard', { samples_affected: 1, sample_ids: ['s2'] }),
      await logger.logEvent('sample_restore', { samples_affected: 1, sample_ids: ['s2'] }),
      await logger.logEvent({ action_type: 'query_execute', status: 'failed', details: { query_type: 'natural_language', query_text: 'invalid syntax here' }, error: 'Invalid query syntax: unexpected token' }),
      await logger.logEvent({ action_type: 'checkpoint_restore', status: 'failed', details: { checkpoint_id: 'ckpt_001' }, error: 'Checkpoint file not found' }),
      await logger.logEvent('evaluation_start', { split: 'val' }),
      await logger.logEvent('note_write', { plot_point: 12, note: 'spike here' }),
    ];
    await logger.close();
    expect(logged.map((e) => e.action_type)).to.deep.equal([...WEIGHTSLAB_ACTIONS]);
    const onDisk = readJsonArray(dir);
    expect(onDisk.map((e) => e.action_type)).to.deep.equal([...WEIGHTSLAB_ACTIONS]);
    expect(onDisk.filter((e) => e.status === 'failed').map((e) => e.error)).to.deep.equal([
      'Invalid query syntax: unexpected token',
      'Checkpoint file not found',
    ]);
  });

  it('accepts a catalog written as an interface', async () => {
    const logger = new AuditLogger<TrainingCatalog>({ format: 'none' });
    const event = await logger.logEvent('train_start', { epochs: 10, dataset: 'imagenet' });
    expect(event.details).to.deep.equal({ dataset: 'imagenet', epochs: 10 });
    await logger.close();
  });
});
