// diff(before, after): changed keys only, dot paths, added and removed keys, arrays compared whole.
import { expect } from 'chai';
import fc from 'fast-check';
import { diff, formatPath, InvalidEventError } from '@auditrail/core';

describe('diff', () => {
  it('records changed keys only, at nested dot paths, with old and new values nested as in the data', () => {
    const before = { learning_rate: 0.01, batch_size: 32, optimizer: { name: 'adam', betas: [0.9, 0.999], weight_decay: 0 }, seed: 7 };
    const after = { learning_rate: 0.001, batch_size: 32, optimizer: { name: 'adam', betas: [0.9, 0.99], weight_decay: 0 }, seed: 7 };
    expect(diff(before, after)).to.deep.equal({
      changed: ['learning_rate', 'optimizer.betas'],
      added: [],
      removed: [],
      before: { learning_rate: 0.01, optimizer: { betas: [0.9, 0.999] } },
      after: { learning_rate: 0.001, optimizer: { betas: [0.9, 0.99] } },
    });
  });

  it('lists added and removed keys, whole subtrees once', () => {
    const d = diff({ dropout: 0.1, scheduler: { kind: 'cosine', t_max: 10 } }, { momentum: 0.9, scheduler: { kind: 'cosine', warmup: { steps: 100 } } });
    expect(d.added).to.deep.equal(['momentum', 'scheduler.warmup']);
    expect(d.removed).to.deep.equal(['dropout', 'scheduler.t_max']);
    expect(d.changed).to.deep.equal([]);
    expect(d.before).to.deep.equal({ dropout: 0.1, scheduler: { t_max: 10 } });
    expect(d.after).to.deep.equal({ momentum: 0.9, scheduler: { warmup: { steps: 100 } } });
  });

  it('compares arrays whole, element order included, and records a changed array whole', () => {
    expect(diff({ tags: ['a', 'b'] }, { tags: ['a', 'b'] }).changed).to.deep.equal([]);
    const d = diff({ tags: ['a', 'b'], layers: [{ units: 64 }] }, { tags: ['b', 'a'], layers: [{ units: 128 }] });
    expect(d.changed).to.deep.equal(['layers', 'tags']);
    expect(d.after).to.deep.equal({ layers: [{ units: 128 }], tags: ['b', 'a'] });
  });

  it('treats a change of type (object to value, value to object) as one change of the whole value', () => {
    const d = diff({ schedule: { kind: 'step' }, lr: 0.1 }, { schedule: 'constant', lr: { base: 0.1 } });
    expect(d.changed).to.deep.equal(['lr', 'schedule']);
    expect(d.before).to.deep.equal({ lr: 0.1, schedule: { kind: 'step' } });
    expect(d.after).to.deep.equal({ lr: { base: 0.1 }, schedule: 'constant' });
  });

  it('compares what would be logged: Dates as ISO strings, undefined keys as absent, null as a value', () => {
    const t = '2026-05-27T14:30:00.000Z';
    expect(diff({ at: new Date(t), gone: undefined }, { at: t })).to.deep.include({ changed: [], added: [], removed: [] });
    const d = diff({ note: null }, { note: 'x' });
    expect(d.changed).to.deep.equal(['note']);
    expect(d.before).to.deep.equal({ note: null });
  });

  it('sees a change past the length the log keeps of a string', () => {
    const long = 'x'.repeat(20_000);
    expect(diff({ prompt: long + 'a' }, { prompt: long + 'b' }).changed).to.deep.equal(['prompt']);
  });

  it('treats null or undefined as an empty snapshot', () => {
    expect(diff(undefined, { a: 1 })).to.deep.include({ added: ['a'], after: { a: 1 } });
    expect(diff({ a: 1 }, null)).to.deep.include({ removed: ['a'], before: { a: 1 } });
  });

  it('quotes keys that would make a path ambiguous', () => {
    expect(formatPath(['a', 'b.c', '', 'd'])).to.equal('a["b.c"][""].d');
    const d = diff({ 'lr.base': 1, x: { 'a[0]': 1 } }, { 'lr.base': 2, x: { 'a[0]': 2 } });
    expect(d.changed).to.deep.equal(['["lr.base"]', 'x["a[0]"]']);
    expect(d.after).to.deep.equal({ 'lr.base': 2, x: { 'a[0]': 2 } });
  });

  it('keeps a "__proto__" key as data and never changes a prototype', () => {
    const d = diff(JSON.parse('{"__proto__": {"polluted": 1}, "a": {"__proto__": {"x": 1}}}') as object, { a: 1 });
    expect(d.removed).to.deep.equal(['__proto__']);
    expect(d.changed).to.deep.equal(['a']);
    expect(Object.prototype.hasOwnProperty.call(d.before, '__proto__')).to.equal(true);
    expect(Object.getPrototypeOf(d.before)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(JSON.stringify(d.before)).to.equal('{"__proto__":{"polluted":1},"a":{"__proto__":{"x":1}}}');
  });

  it('refuses snapshots that are not objects, naming the side', () => {
    expect(() => diff({}, [1, 2] as unknown as object)).to.throw(InvalidEventError, /"after" must be an object/);
    expect(() => diff(5 as unknown as object, {})).to.throw(InvalidEventError, /"before" must be an object, null or undefined, got number/);
  });

  it('finds no change between equal snapshots and some change between different ones (property)', () => {
    const objects = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
    fc.assert(
      fc.property(objects, objects, (a, b) => {
        const same = diff(a, structuredClone(a));
        expect(same.changed.length + same.added.length + same.removed.length).to.equal(0);
        const d = diff(a, b);
        const differs = JSON.stringify(sortDeep(JSON.parse(JSON.stringify(a)))) !== JSON.stringify(sortDeep(JSON.parse(JSON.stringify(b))));
        expect(d.changed.length + d.added.length + d.removed.length > 0).to.equal(differs);
      }),
      { numRuns: 300 },
    );
  });
});

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortDeep((value as Record<string, unknown>)[k])]),
  );
}
