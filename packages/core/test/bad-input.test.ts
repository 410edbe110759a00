// Bad input never crashes the host or corrupts a file: each awkward value has a documented safe form, or a clear error.
import { expect } from 'chai';
import { AuditLogger, InvalidEventError, TRUNCATED_KEY, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readCsv, readJsonArray, readJsonl, rejectionOf } from './helpers';

/** Logs one event with these details into all three formats and returns what each file holds. */
async function roundTrip(details: unknown, limits?: ConstructorParameters<typeof AuditLogger>[0]): Promise<AuditEvent['details']> {
  const dir = tempDir();
  const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'json', 'csv'], ...limits });
  const event = await logger.logEvent('bad input', details as Record<string, unknown>);
  await logger.close();
  const [jsonl] = readJsonl(dir);
  expect(readJsonArray(dir)[0]).to.deep.equal(jsonl);
  expect(readCsv(dir)[0]!.details).to.deep.equal(jsonl!.details);
  expect(jsonl).to.deep.equal(event);
  return jsonl!.details;
}

describe('bad input', () => {
  it('circular references become "[Circular]"; shared (non-circular) references are copied', async () => {
    const shared = { v: 1 };
    const a: Record<string, unknown> = { name: 'a', shared, again: shared };
    a.self = a;
    a.list = [a, shared];
    expect(await roundTrip({ a })).to.deep.equal({ a: { again: { v: 1 }, list: ['[Circular]', { v: 1 }], name: 'a', self: '[Circular]', shared: { v: 1 } } });
  });

  it('BigInt becomes its decimal string; NaN, Infinity and -Infinity their names; -0 becomes 0', async () => {
    expect(await roundTrip({ big: 2n ** 70n, nan: NaN, inf: Infinity, ninf: -Infinity, nz: -0 })).to.deep.equal({
      big: '1180591620717411303424',
      inf: 'Infinity',
      nan: 'NaN',
      ninf: '-Infinity',
      nz: 0,
    });
  });

  it('undefined is omitted from objects and null in arrays; functions and Symbols become descriptive strings', async () => {
    const sym = Symbol('secret-key');
    expect(await roundTrip({ u: undefined, arr: [1, undefined, 3], fn: function train() {}, arrow: () => 1, sym: Symbol('tag'), [sym]: 'symbol keys are skipped' })).to.deep.equal({
      arr: [1, null, 3],
      arrow: '[Function arrow]',
      fn: '[Function train]',
      sym: 'Symbol(tag)',
    });
  });

  it('Error objects keep name, message, stack, own fields and cause', async () => {
    const cause = new TypeError('bad shape');
    const err = Object.assign(new RangeError('lr out of range', { cause }), { code: 'E_LR', value: 7 });
    const details = await roundTrip({ err });
    const e = details.err as Record<string, unknown>;
    expect(e).to.include({ name: 'RangeError', message: 'lr out of range', code: 'E_LR', value: 7 });
    expect(e.stack).to.be.a('string').and.include('lr out of range');
    expect((e.cause as Record<string, unknown>).message).to.equal('bad shape');
    expect((e.cause as Record<string, unknown>).name).to.equal('TypeError');
  });

  it('Date becomes its ISO string (an invalid one "Invalid Date"); Map pairs; Set an array; Buffer base64', async () => {
    const details = await roundTrip({
      at: new Date('2026-05-27T14:30:00.123Z'),
      invalid: new Date('nope'),
      map: new Map<unknown, unknown>([['lr', 0.1], [{ k: 1 }, 'object key']]),
      set: new Set(['train', 'val']),
      buf: Buffer.from('weights'),
      bytes: new Uint8Array([1, 2, 3]),
    });
    expect(details).to.deep.equal({
      at: '2026-05-27T14:30:00.123Z',
      buf: { base64: Buffer.from('weights').toString('base64'), type: 'Buffer' },
      bytes: { base64: 'AQID', type: 'Uint8Array' },
      invalid: 'Invalid Date',
      map: [['lr', 0.1], [{ k: 1 }, 'object key']],
      set: ['train', 'val'],
    });
  });

  it('huge details are cut to the cap with a _truncated marker saying what was dropped', async () => {
    const details: Record<string, unknown> = { a_small: 1 };
    for (let i = 0; i < 50; i++) details[`k${String(i).padStart(2, '0')}`] = 'x'.repeat(1000);
    const cut = await roundTrip(details, { limits: { maxDetailsBytes: 10_000 } });
    const marker = cut[TRUNCATED_KEY] as { dropped_count: number; dropped_keys: string[]; limit_bytes: number; original_bytes: number };
    expect(marker.limit_bytes).to.equal(10_000);
    expect(marker.original_bytes).to.be.greaterThan(50_000);
    expect(marker.dropped_count).to.be.greaterThan(35);
    expect(marker.dropped_keys).to.have.length(20); // the first 20 names; dropped_count has them all
    expect(Buffer.byteLength(JSON.stringify(cut))).to.be.at.most(10_000);
    expect(cut.a_small).to.equal(1);
    const keptKeys = Object.keys(cut).filter((k) => k.startsWith('k'));
    expect(keptKeys.length + marker.dropped_count).to.equal(50);
  });

  it('very long strings are cut with a marker, and deep nesting stops at "[MaxDepth]"', async () => {
    let deep: Record<string, unknown> = { bottom: true };
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const details = await roundTrip({ long: 'y'.repeat(20_000), deep }, { limits: { maxStringLength: 100 } });
    expect(details.long).to.equal('y'.repeat(100) + '…[truncated 19900 chars]');
    expect(JSON.stringify(details.deep)).to.include('"[MaxDepth]"');
  });

  it('a throwing getter or toJSON becomes "[Unreadable: ...]"; a toJSON result is used', async () => {
    const details = await roundTrip({
      get broken(): string {
        throw new Error('getter exploded');
      },
      custom: { toJSON: () => ({ as: 'json' }) },
      badJson: {
        toJSON: () => {
          throw new Error('toJSON exploded');
        },
      },
    });
    expect(details).to.deep.equal({ badJson: '[Unreadable: toJSON exploded]', broken: '[Unreadable: getter exploded]', custom: { as: 'json' } });
  });

  it('keys such as __proto__ and numeric keys are kept as data', async () => {
    const details = JSON.parse('{"__proto__":{"admin":true},"2":"two","10":"ten","b":1}') as Record<string, unknown>;
    expect(await roundTrip(details)).to.deep.equal(JSON.parse('{"10":"ten","2":"two","__proto__":{"admin":true},"b":1}'));
    expect(({} as Record<string, unknown>).admin).to.equal(undefined);
  });

  it('a revoked Proxy rejects with InvalidEventError, writing nothing', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const err = await rejectionOf(logger.logEvent('x', { proxy }));
    await logger.logEvent('after');
    await logger.close();
    expect(err).to.be.instanceOf(InvalidEventError);
    expect(readJsonl(dir).map((e) => [e.seq, e.action_type])).to.deep.equal([[1, 'after']]);
  });

  it('an empty, blank, non-string, over-long or control-character action rejects with InvalidEventError, writing nothing', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'] });
    const bad: unknown[] = ['', '   ', 42, null, undefined, { name: 'x' }, 'x'.repeat(257), 'line\nbreak', Symbol('a')];
    for (const action of bad) {
      const err = await rejectionOf(logger.logEvent(action as string));
      expect(err, String(typeof action === 'symbol' ? 'symbol' : action)).to.be.instanceOf(InvalidEventError);
      expect(err.message).to.match(/action/);
    }
    const err = await rejectionOf(logger.logEvent('ok', [1, 2] as unknown as Record<string, unknown>));
    expect(err).to.be.instanceOf(InvalidEventError);
    expect(err.message).to.include('details of "ok" must be an object, got an array');
    expect((await rejectionOf(logger.logEvent('ok', 'text' as unknown as Record<string, unknown>))).message).to.include('got string');
    expect((await rejectionOf(logger.logEvent({ action: 'ok', actor: 7 as unknown as string }))).message).to.include('actor must be a string');
    await logger.logEvent('ok');
    await logger.close();
    expect(readJsonl(dir).map((e) => e.seq)).to.deep.equal([1]);
    expect(readCsv(dir).map((e) => e.seq)).to.deep.equal([1]);
  });

  it('the caller keeps its own objects unchanged (details are copied)', async () => {
    const details = { b: 1, a: { nested: [1] }, secret: 's' };
    const logger = new AuditLogger({ format: 'none' });
    logger.use({ name: 'mask', redactors: [(e) => void (e.details.secret = '[REDACTED]')] });
    await logger.logEvent('x', details);
    await logger.close();
    expect(details).to.deep.equal({ b: 1, a: { nested: [1] }, secret: 's' });
    expect(Object.keys(details)).to.deep.equal(['b', 'a', 'secret']);
  });
});
