// selectEvents against a plain in-memory model, for random selections over real logs in both file orders.
import { expect } from 'chai';
import fc from 'fast-check';
import { AuditLogger, parseTimestampUs, type AuditEvent } from '@auditrail/core';
import { openLog, selectEvents, type Selection } from '@auditrail/cli';
import { tempDir } from '../../../test/helpers/tmp';

const ACTIONS = ['hp_change', 'tag_add', 'sample_discard', 'checkpoint_restore'];
const STATUSES = ['INFO', 'WARNING', 'FAILURE'];

/** The model: filter, put in recorded order, reverse if asked, cut to the limit. */
function expected(events: readonly AuditEvent[], s: Selection): AuditEvent[] {
  const kept = events.filter((e) => {
    const us = parseTimestampUs(e.timestamp);
    return (
      (!s.actions || s.actions.has(e.action_type)) &&
      (!s.statuses || s.statuses.has(e.status.toLowerCase())) &&
      (s.sinceUs === undefined || us >= s.sinceUs) &&
      (s.untilUs === undefined || us <= s.untilUs)
    );
  });
  if (s.newestFirst) kept.reverse();
  return kept.slice(0, s.limit ?? Infinity);
}

async function collect(iterable: AsyncIterable<AuditEvent>): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const event of iterable) out.push(event);
  return out;
}

describe('selectEvents', () => {
  const logs: { name: string; dir: string }[] = [];
  let recorded: AuditEvent[] = [];

  before(async () => {
    for (const [name, options] of [
      ['jsonl', { format: 'jsonl' }],
      ['json newest-first', { format: 'json', order: 'newest-first' }],
      ['csv', { format: 'csv' }],
    ] as const) {
      const dir = tempDir('auditrail-select-');
      const logger = new AuditLogger({ rootLogDir: dir, ...options });
      const events: AuditEvent[] = [];
      for (let i = 0; i < 120; i++) events.push(await logger.logEvent(ACTIONS[(i * 7) % 4]!, { i }, STATUSES[(i * 5) % 3]));
      await logger.close();
      logs.push({ name, dir });
      if (name === 'jsonl') recorded = events;
    }
  });

  it('gives what the model gives, for random filters, limits and orders, in every file order', async () => {
    const selection = fc.record(
      {
        actions: fc.subarray(ACTIONS, { minLength: 1 }).map((a) => new Set(a)),
        statuses: fc.subarray(STATUSES.map((s) => s.toLowerCase()), { minLength: 1 }).map((s) => new Set(s)),
        window: fc.tuple(fc.nat(119), fc.nat(119)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const),
        limit: fc.integer({ min: 1, max: 150 }),
        newestFirst: fc.boolean(),
      },
      { requiredKeys: ['newestFirst'] },
    );
    await fc.assert(
      fc.asyncProperty(selection, fc.constantFrom(0, 1, 2), async (raw, which) => {
        const log = logs[which]!;
        const events = log.name === 'jsonl' ? recorded : await collect(selectEvents(openLog(log.dir)));
        const s: Selection = {
          ...(raw.actions ? { actions: raw.actions } : {}),
          ...(raw.statuses ? { statuses: raw.statuses } : {}),
          ...(raw.window ? { sinceUs: parseTimestampUs(events[raw.window[0]]!.timestamp), untilUs: parseTimestampUs(events[raw.window[1]]!.timestamp) } : {}),
          ...(raw.limit !== undefined ? { limit: raw.limit } : {}),
          newestFirst: raw.newestFirst,
        };
        const got = await collect(selectEvents(openLog(log.dir), s));
        expect(got.map((e) => e.seq)).to.deep.equal(expected(events, s).map((e) => e.seq));
      }),
      { numRuns: 150 },
    );
  });

  it('reads every file order back in recorded order', async () => {
    for (const log of logs) {
      const events = await collect(selectEvents(openLog(log.dir)));
      expect(events.map((e) => e.seq), log.name).to.deep.equal(Array.from({ length: 120 }, (_, i) => i + 1));
    }
    expect(recorded.map((e) => e.seq)).to.deep.equal(Array.from({ length: 120 }, (_, i) => i + 1));
  });
});
