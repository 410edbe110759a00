// What the table holds gives back each event exactly (so its hash can be recomputed), whatever its details hold:
// NUL, lone surrogates, any double, deep nesting, odd keys.
import { expect } from 'chai';
import fc from 'fast-check';
import { computeHash } from '@auditrail/core';
import { PostgresSink } from '@auditrail/postgres';
import type { Client } from 'pg';
import { adminClient, loggedEvents, never, Scratch, sinkClient, stored } from './helpers';

const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '😀', '\\u0000', 'tab\tnl\n', '"\'\\'));
const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(5e-324, 1e21, 1.7976931348623157e308, 0.1, -1e-7, 2 ** 53 + 2));
const leaf = fc.oneof(text, number, fc.boolean(), fc.constant(null));
const value = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(text, tie('value'), { maxKeys: 4 })),
}));
const details = fc.dictionary(text, value.value, { maxKeys: 6 });

/** Whether a string anywhere in the value (keys included) holds U+0000 or an unpaired surrogate. */
function holdsUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
  if (Array.isArray(value)) return value.some(holdsUnstorable);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => holdsUnstorable(k) || holdsUnstorable(v));
  return false;
}

describe('PostgresSink round trip (real PostgreSQL)', () => {
  let admin: Client;
  const scratch = new Scratch();
  before(async () => (admin = await adminClient()));
  after(async () => {
    await scratch.dropAll(admin);
    await admin.end();
  });

  it('stores arbitrary details so that every event, and its HMAC chain, comes back exactly', async () => {
    const samples = fc.sample(details, { numRuns: 300, seed: 20261122 });
    const events = await loggedEvents(samples.length, (i) => samples[i] as Record<string, unknown>, { hmacKey: 'k3y' });
    const table = scratch.table();
    const sink = new PostgresSink({ client: sinkClient(), table });
    try {
      expect(await sink.export(events, never)).to.deep.equal({ code: 'ok' });
    } finally {
      await sink.shutdown();
    }
    const back = await stored(admin, table);
    expect(back).to.deep.equal(events);
    for (const event of back) expect(computeHash(event, 'k3y'), event.id).to.equal(event.hash);
    const { rows } = await admin.query<{ lossy: string }>(`SELECT count(*) FILTER (WHERE raw_event IS NOT NULL)::text AS lossy FROM "${table}"`);
    // Only events holding a NUL or a lone surrogate needed their exact copy; the others came back from the columns alone.
    const unstorable = events.filter((e) => holdsUnstorable(e.details)).length;
    expect(unstorable).to.be.within(1, events.length - 1);
    expect(Number(rows[0]!.lossy)).to.equal(unstorable);
  });

  it('stores ordinary events without a raw copy, their jsonb numbers reading back as the same doubles', async () => {
    const samples = fc.sample(fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => !k.includes('\u0000')), number, { maxKeys: 8 }), { numRuns: 200, seed: 7 });
    const events = await loggedEvents(samples.length, (i) => samples[i]!);
    const table = scratch.table();
    const sink = new PostgresSink({ client: sinkClient(), table });
    try {
      expect(await sink.export(events, never)).to.deep.equal({ code: 'ok' });
    } finally {
      await sink.shutdown();
    }
    const { rows } = await admin.query<{ details: Record<string, number>; raw_event: string | null }>(`SELECT details, raw_event FROM "${table}" ORDER BY seq`);
    expect(rows.map((r) => r.raw_event)).to.deep.equal(events.map(() => null));
    // pg's own jsonb parsing (JSON.parse of Postgres' numeric text) gives the very same doubles.
    expect(rows.map((r) => r.details)).to.deep.equal(events.map((e) => e.details));
    for (const event of await stored(admin, table)) expect(computeHash(event)).to.equal(event.hash);
  });
});
