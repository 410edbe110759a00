// Every example under examples/ runs in a child process into a temp dir; the files it wrote are then checked.
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEvents, type AuditEvent } from '@auditrail/core';
import { runTs } from './helpers/node';
import { tempDir } from './helpers/tmp';

const EXAMPLES = join(__dirname, '..', 'examples');

/** Runs examples/<name>.ts with the given arguments; fails with its stderr if it exits non-zero. */
async function runExample(name: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const run = await runTs(join(EXAMPLES, `${name}.ts`), args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
  expect(run.code, `${name} failed:\n${run.stderr}`).to.equal(0);
  expect(run.stderr, name).to.equal('');
  return run.stdout;
}

async function eventsIn(target: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const event of readEvents(target)) events.push(event);
  return events;
}

const PIPELINE_ACTIONS = [
  'Data Ingestion started',
  'Data Ingestion completed',
  'Feature Engineering started',
  'Feature Engineering completed',
  'Model Training started',
  'Model Training completed',
  'Data Ingestion started',
  'Data Ingestion completed',
  'Feature Engineering started',
  'Pipeline Execution Failed',
];

describe('examples', () => {
  describe('pipeline-lifecycle (the main example)', () => {
    for (const format of ['json', 'jsonl', 'csv'] as const) {
      it(`logs a successful and a failed run with AUDIT_LOG_FORMAT=${format} and prints the summary`, async () => {
        const dir = join(tempDir('auditrail-example-'), 'logs');
        const stdout = await runExample('pipeline-lifecycle', [dir], { env: { AUDIT_LOG_FORMAT: format } });
        expect(readdirSync(dir).filter((f) => f.startsWith('audit_log.') && f !== 'audit_log.id')).to.deep.equal([`audit_log.${format}`]);
        const events = await eventsIn(dir);
        expect(events.map((e) => e.action_type)).to.deep.equal(PIPELINE_ACTIONS);
        expect(events.map((e) => e.seq)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(events[5]!.details).to.deep.equal({ accuracy: 0.91, epochs: 12, loss: 0.25 });
        const failure = events[9]!;
        expect(failure.status).to.equal('FAILURE');
        expect(failure.details).to.deep.equal({ file: 'corrupted.csv' });
        expect(failure.error).to.equal('Error: Invalid input data format: row 613 of corrupted.csv has a non-numeric value');
        expect(events.every((e) => e.source.experiment === 'pipeline-lifecycle' && e.source.pipeline === 'churn-model')).to.equal(true);
        expect(stdout).to.include('Total events: 10').and.include('Pipeline Execution Failed: 1').and.include('INFO: 9').and.include('FAILURE: 1');
        expect(stdout).to.include(join(dir, `audit_log.${format}`));
      });
    }

    it('writes no file with AUDIT_LOG_FORMAT=none and still prints the summary', async () => {
      const dir = join(tempDir('auditrail-example-'), 'logs');
      const stdout = await runExample('pipeline-lifecycle', [dir], { env: { AUDIT_LOG_FORMAT: 'none' } });
      expect(existsSync(dir)).to.equal(false);
      expect(stdout).to.include('Audit log: none').and.include('Total events: 10').and.include('FAILURE: 1');
    });

    it('writes under ./audit_logs/pipeline-lifecycle by default, and its summary counts every run on disk', async () => {
      const cwd = tempDir('auditrail-example-');
      await runExample('pipeline-lifecycle', [], { cwd, env: { AUDIT_LOG_FORMAT: '' } });
      const second = await runExample('pipeline-lifecycle', [], { cwd, env: { AUDIT_LOG_FORMAT: '' } });
      const dir = join(cwd, 'audit_logs', 'pipeline-lifecycle');
      const events = await eventsIn(join(dir, 'audit_log.json'));
      expect(events).to.have.length(20);
      expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(second).to.include('Total events: 20').and.include('FAILURE: 2');
    });
  });

  it('drift-monitoring logs drift as WARNING and stable features as INFO, with their scores', async () => {
    const dir = tempDir('auditrail-example-');
    await runExample('drift-monitoring', [dir]);
    const events = await eventsIn(dir);
    expect(events.map((e) => [e.action_type, e.status, e.details.feature])).to.deep.equal([
      ['Drift Monitoring initiated', 'INFO', undefined],
      ['Drift Detected', 'WARNING', 'user_age'],
      ['No Drift Detected', 'INFO', 'income'],
      ['No Drift Detected', 'INFO', 'session_minutes'],
    ]);
    expect(events[1]!.details.drift_score).to.be.a('number').greaterThan(0.2);
    expect(events[1]!.details.threshold).to.equal(0.2);
    for (const stable of events.slice(2)) expect(stable.details.drift_score).to.be.a('number').lessThan(0.2);
  });

  it('anomaly-threshold flags only the evaluation below the threshold', async () => {
    const dir = tempDir('auditrail-example-');
    const stdout = await runExample('anomaly-threshold', [dir]);
    const events = await eventsIn(dir);
    expect(events.map((e) => e.action_type)).to.deep.equal(['Model evaluated', 'Model evaluated', 'Model evaluated', 'Anomaly Detected: Accuracy Threshold Not Met']);
    expect(events[3]!.status).to.equal('WARNING');
    expect(events[3]!.details).to.deep.equal({ accuracy: 0.75, model_version: '1.2.0', threshold: 0.8 });
    expect(stdout).to.include('WARNING: Anomaly Detected: Accuracy Threshold Not Met');
    expect(stdout).not.to.include('Model evaluated');
  });

  it('critical-statuses records CRITICAL both ways and writes nothing for what it refuses', async () => {
    const dir = tempDir('auditrail-example-');
    const stdout = await runExample('critical-statuses', [dir]);
    const events = await eventsIn(dir);
    expect(events.map((e) => [e.seq, e.action_type, e.status])).to.deep.equal([
      [1, 'Model Training started', 'INFO'],
      [2, 'GPU node lost', 'CRITICAL'],
      [3, 'Model deployment successful', 'INFO'],
      [4, 'Serving error rate above 50%', 'CRITICAL'],
    ]);
    expect(stdout).to.include('Rejected: Invalid status "FATAL"').and.include('"CRITICAL"');
    expect(stdout).to.include('Refused by the subclass: a CRITICAL event must name its runbook');
    expect(stdout).to.include(`Paged on-call for: Serving error rate above 50% (${events[3]!.id})`);
  });

  it('custom-sink delivers only FAILURE and CRITICAL events to the webhook', async () => {
    const dir = tempDir('auditrail-example-');
    await runExample('custom-sink', [dir]);
    const events = await eventsIn(dir);
    expect(events.map((e) => e.status)).to.deep.equal(['INFO', 'WARNING', 'FAILURE', 'CRITICAL']);
    const received = readFileSync(join(dir, 'webhook-received.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { text: string; error: string | null; id: string });
    expect(received.map((r) => r.id)).to.deep.equal([events[2]!.id, events[3]!.id]);
    expect(received[0]).to.include({ text: '[FAILURE] Model Training failed', error: 'CUDA out of memory' });
    expect(received[1]).to.include({ text: '[CRITICAL] Training cluster unreachable', error: null });
  });

  it("weightslab-actions writes the first seed's files: a newest-first JSON array and the CSV, success/failed", async () => {
    const dir = tempDir('auditrail-example-');
    const stdout = await runExample('weightslab-actions', [dir]);
    const json = JSON.parse(readFileSync(join(dir, 'audit_log.json'), 'utf8')) as AuditEvent[];
    expect(json.map((e) => e.action_type)).to.deep.equal(['checkpoint_restore', 'sample_discard', 'tag_add', 'hp_change']);
    const [restore, discard, tag, hp] = json as [AuditEvent, AuditEvent, AuditEvent, AuditEvent];
    expect(hp.details).to.deep.include({ before: { batch_size: 64, learning_rate: 0.01 }, after: { batch_size: 32, learning_rate: 0.001 } });
    expect([hp.status, hp.actor]).to.deep.equal(['success', 'alice']);
    expect(tag.details).to.deep.include({ tag_name: 'defect', samples_affected: 5 });
    expect(discard.details).to.deep.include({ samples_affected: 2, sample_ids: ['s4', 's5'] });
    expect([restore.status, restore.error, restore.details.checkpoint_id]).to.deep.equal(['failed', 'Checkpoint file not found', 'ckpt_001']);
    const csv = readFileSync(join(dir, 'audit_log.csv'), 'utf8');
    expect(csv.split('\n')[0]!.startsWith('timestamp,action_type,status,details,error')).to.equal(true);
    expect(await eventsIn(join(dir, 'audit_log.csv'))).to.deep.equal([...json].reverse());
    expect(stdout).to.include('FAILED checkpoint_restore: Checkpoint file not found').and.include('Total events: 4').and.include('"failed":1');
  });
});
