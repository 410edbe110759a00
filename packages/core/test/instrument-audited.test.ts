// audited(): one event per call with outcome, duration and before/after values, recorded before the caller sees the result.
import { expect } from 'chai';
import {
  audited,
  AuditLogger,
  defineStatuses,
  definePlugin,
  InvalidOptionError,
  LoggerClosedError,
  outcomeStatuses,
  pipelineStatuses,
  resolveOutcomeStatuses,
  type WeightsLabCatalog,
} from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonl } from './helpers';

class Trainer {
  hp = { learning_rate: 0.01, batch_size: 32, db: { host: 'h', password: 'hunter2' } };
  paused = false;
  setHp(changes: Partial<{ learning_rate: number; batch_size: number }>): number {
    Object.assign(this.hp, changes); // mutates the very object the snapshot getter returns
    return Object.keys(changes).length;
  }
}

function jsonlLogger(statuses = outcomeStatuses): { logger: AuditLogger<WeightsLabCatalog>; dir: string } {
  const dir = tempDir();
  return { logger: new AuditLogger<WeightsLabCatalog>({ rootLogDir: dir, format: 'jsonl', statuses }), dir };
}

describe('audited', () => {
  it('records a successful call with its duration, once the event is on disk, and returns the result', async () => {
    const { logger, dir } = jsonlLogger();
    const trainer = new Trainer();
    const setHp = audited(logger, 'hp_change', (changes: { learning_rate?: number }) => trainer.setHp(changes), {
      details: (changes) => ({ changed_params: changes }),
      before: () => trainer.hp,
      after: () => trainer.hp,
      actor: 'alice',
    });
    const result = await setHp({ learning_rate: 0.001 });
    expect(result).to.equal(1);
    const [event] = readJsonl(dir); // read before close: the wrapper settled after the write
    await logger.close();
    expect(event).to.deep.include({ action_type: 'hp_change', status: 'success', error: null, actor: 'alice' });
    const details = event!.details as Record<string, unknown>;
    expect(details.duration_ms).to.be.a('number').and.to.be.at.least(0);
    expect(details).to.deep.include({
      changed_params: { learning_rate: 0.001 },
      changed: ['learning_rate'],
      added: [],
      removed: [],
      before: { learning_rate: 0.01 },
      after: { learning_rate: 0.001 },
    });
  });

  it('records a failure with the error, then rethrows the same error', async () => {
    const { logger, dir } = jsonlLogger();
    const boom = new RangeError('checkpoint ckpt_001 not found');
    const restore = audited(logger, 'checkpoint_restore', async (id: string) => {
      await new Promise((r) => setTimeout(r, 1));
      throw boom;
    }, { details: (id) => ({ checkpoint_id: id }) });
    const err = await restore('ckpt_001').then(() => null, (e: unknown) => e);
    await logger.close();
    expect(err).to.equal(boom);
    const [event] = readJsonl(dir);
    expect(event).to.deep.include({ status: 'failed', error: 'RangeError: checkpoint ckpt_001 not found' });
    expect(event!.details).to.include({ checkpoint_id: 'ckpt_001' });
  });

  it('wraps sync functions, passes `this` through, and records a thrown non-Error as text', async () => {
    const { logger, dir } = jsonlLogger();
    const model = {
      mode: 'train',
      switchMode: audited(logger, 'mode_switch', function (this: { mode: string }, to: string) {
        if (to === 'bogus') throw 'unknown mode'; // eslint-disable-line no-throw-literal
        this.mode = to;
        return this.mode;
      }),
    };
    expect(await model.switchMode('audit')).to.equal('audit');
    expect(model.mode).to.equal('audit');
    expect(await model.switchMode('bogus').catch((e: unknown) => e)).to.equal('unknown mode');
    await logger.close();
    expect(readJsonl(dir).map((e) => [e.status, e.error])).to.deep.equal([
      ['success', null],
      ['failed', 'unknown mode'],
    ]);
  });

  it('chooses the action from the arguments (ExperimentCommand to pause / resume)', async () => {
    const { logger, dir } = jsonlLogger();
    const command = audited(logger, (cmd: { pause?: boolean; resume?: boolean }) => (cmd.pause ? 'pause' : 'resume'), (cmd: { pause?: boolean }) => Boolean(cmd.pause));
    await command({ pause: true });
    await command({ resume: true });
    await logger.close();
    expect(readJsonl(dir).map((e) => e.action_type)).to.deep.equal(['pause', 'resume']);
  });

  it('takes status names from the logger scheme, or the ones given', async () => {
    const { logger, dir } = jsonlLogger(pipelineStatuses.extend('CRITICAL'));
    const ok = audited(logger, 'evaluation_start', () => 1);
    const bad = audited(logger, 'evaluation_start', () => {
      throw new Error('no split');
    });
    const critical = audited(logger, 'evaluation_start', () => {
      throw new Error('gpu lost');
    }, { statuses: { failure: 'CRITICAL' } });
    await ok();
    await bad().catch(() => undefined);
    await critical().catch(() => undefined);
    await logger.close();
    expect(readJsonl(dir).map((e) => e.status)).to.deep.equal(['INFO', 'FAILURE', 'CRITICAL']);
  });

  it('fails fast when the scheme has no failure status or a named status is not in it', () => {
    const logger = new AuditLogger({ format: 'none', statuses: defineStatuses(['ok', 'meh']) });
    expect(() => audited(logger, 'x', () => 1)).to.throw(InvalidOptionError, /statuses\.failure/);
    expect(() => audited(logger, 'x', () => 1, { statuses: { failure: 'meh', success: 'great' } })).to.throw(InvalidOptionError, /"great" is not a status/);
    const misspelled = { failure: 'meh', succes: 'ok' } as unknown as { failure: string };
    expect(() => audited(logger, 'x', () => 1, { statuses: misspelled })).to.throw(InvalidOptionError, 'Invalid option "statuses.succes": is not an option; did you mean "success"?');
    expect(() => audited(logger, 'x', () => 1, { statuses: 'failed' as unknown as { failure: string } })).to.throw(InvalidOptionError, 'Invalid option "statuses": "failed" is not an object { success?, failure? }');
    expect(resolveOutcomeStatuses(pipelineStatuses)).to.deep.equal({ success: 'INFO', failure: 'FAILURE' });
    expect(resolveOutcomeStatuses(outcomeStatuses)).to.deep.equal({ success: 'success', failure: 'failed' });
  });

  it('records whole snapshots with snapshots: "full", and non-object snapshots as they are', async () => {
    const { logger, dir } = jsonlLogger();
    const trainer = new Trainer();
    const full = audited(logger, 'hp_change', (c: { batch_size: number }) => trainer.setHp(c), { before: () => trainer.hp, after: () => trainer.hp, snapshots: 'full' });
    const scalar = audited(logger, 'hp_change', (lr: number) => trainer.setHp({ learning_rate: lr }), { before: () => trainer.hp.learning_rate, after: () => trainer.hp.learning_rate });
    await full({ batch_size: 64 });
    await scalar(0.5);
    await logger.close();
    const [a, b] = readJsonl(dir);
    expect((a!.details as { before: { batch_size: number } }).before.batch_size).to.equal(32);
    expect((a!.details as { after: { batch_size: number } }).after.batch_size).to.equal(64);
    expect(b!.details).to.deep.include({ before: 0.01, after: 0.5 });
  });

  it('never lets a throwing getter stop the call: the failure is recorded in details', async () => {
    const { logger, dir } = jsonlLogger();
    let ran = false;
    const fn = audited(logger, 'pause', () => (ran = true), {
      before: () => {
        throw new Error('state unavailable');
      },
      details: () => {
        throw new Error('bad details');
      },
      actor: () => {
        throw new Error('no session');
      },
    });
    await fn();
    await logger.close();
    expect(ran).to.equal(true);
    expect(readJsonl(dir)[0]!.details).to.include({ before_error: 'state unavailable', details_error: 'bad details', actor_error: 'no session' });
  });

  it('masks secrets in before/after values with the built-in redaction, as in any details', async () => {
    const { logger, dir } = jsonlLogger();
    const trainer = new Trainer();
    const rotate = audited(logger, 'hp_change', () => (trainer.hp.db.password = 'correct horse'), { before: () => trainer.hp, after: () => trainer.hp });
    await rotate();
    await logger.close();
    const [event] = readJsonl(dir);
    expect(event!.details).to.deep.include({ changed: ['db.password'], before: { db: { password: '[REDACTED]' } }, after: { db: { password: '[REDACTED]' } } });
    expect(JSON.stringify(event)).not.to.include('hunter2').and.not.to.include('correct horse');
  });

  it('runs plugin redactors on before/after values too', async () => {
    const { logger, dir } = jsonlLogger();
    const maskRunIds = (value: unknown): void => {
      if (typeof value !== 'object' || value === null) return;
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'run_id') (value as Record<string, unknown>)[key] = 'masked';
        else maskRunIds(inner);
      }
    };
    logger.use(definePlugin({ name: 'mask-run-ids', redactors: [(draft) => maskRunIds(draft.details)] }));
    const state = { tracking: { run_id: 'r-123', project: 'p' } };
    const move = audited(logger, 'mode_switch', () => (state.tracking = { run_id: 'r-456', project: 'p' }), { before: () => state, after: () => state });
    await move();
    await logger.close();
    const [event] = readJsonl(dir);
    expect(event!.details).to.deep.include({ changed: ['tracking.run_id'], before: { tracking: { run_id: 'masked' } } });
    expect(JSON.stringify(event)).not.to.include('r-123').and.not.to.include('r-456');
  });

  it('fails closed: a call whose event cannot be recorded rejects, with both errors when the call failed too', async () => {
    const { logger } = jsonlLogger();
    const ok = audited(logger, 'resume', () => 'done');
    const bad = audited(logger, 'resume', () => {
      throw new Error('not paused');
    });
    await logger.close();
    const err1 = await ok().then(() => null, (e: unknown) => e);
    expect(err1).to.be.instanceOf(LoggerClosedError);
    const err2 = await bad().then(() => null, (e: unknown) => e);
    expect(err2).to.be.instanceOf(AggregateError);
    const errors = (err2 as AggregateError).errors;
    expect((errors[0] as Error).message).to.equal('not paused');
    expect(errors[1]).to.be.instanceOf(LoggerClosedError);
  });

  it('names the wrapper after the function', () => {
    const logger = new AuditLogger({ format: 'none', statuses: outcomeStatuses });
    function restoreCheckpoint(): void {}
    expect(audited(logger, 'checkpoint_restore', restoreCheckpoint).name).to.equal('audited restoreCheckpoint');
  });
});
