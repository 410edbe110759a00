// canonicalJson and canonicalForm: the fast paths give exactly the text of the plain RFC 8785 recursion.
import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalForm, canonicalJson, toSafeDetails } from '@auditrail/core';

/** The reference: RFC 8785 by plain recursion (keys sorted by UTF-16 code units at every level). */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot canonicalise ${value}`);
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    return '[' + value.map((item: unknown) => (item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 'null' : reference(item))).join(',') + ']';
  }
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .sort()
    .filter((key) => record[key] !== undefined && typeof record[key] !== 'function' && typeof record[key] !== 'symbol')
    .map((key) => JSON.stringify(key) + ':' + reference(record[key]));
  return '{' + members.join(',') + '}';
}

const key = fc.oneof(fc.string(), fc.constantFrom('0', '1', '10', '9', '4294967294', '__proto__', 'toJSON', 'é', '\u{1f600}', 'a', 'B'));
const leaf = fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('node'), { maxKeys: 6 }),
})).node;

describe('canonicalJson', () => {
  it('gives the reference text for random values, sorted or not, with integer-like keys', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).to.equal(reference(v));
      }),
      { numRuns: 500 },
    );
  });

  it('gives the reference text for copies of details (keys already sorted: the native path)', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (details) => {
        const copy = toSafeDetails(details);
        expect(canonicalJson(copy)).to.equal(reference(copy));
      }),
      { numRuns: 300 },
    );
  });

  it('ignores toJSON, sorts integer-like keys as text and rejects non-finite numbers', () => {
    expect(canonicalJson({ b: { toJSON: () => 'x', a: 1 } })).to.equal('{"b":{"a":1}}');
    expect(canonicalJson({ 10: 'a', 9: 'b', a: 'c' })).to.equal('{"10":"a","9":"b","a":"c"}');
    expect(canonicalJson({ d: new Date(0) })).to.equal('{"d":{}}');
    expect(() => canonicalJson({ a: [1, Infinity] })).to.throw(TypeError);
    expect(() => canonicalJson({ a: NaN })).to.throw(TypeError);
  });

  it('canonicalForm covers every field but hash, extra fields included', () => {
    const event = { id: 'x', seq: 1, hash: 'h', extra: { z: 1, a: 2 }, action_type: 'a' };
    expect(canonicalForm(event as never)).to.equal('{"action_type":"a","extra":{"a":2,"z":1},"id":"x","seq":1}');
  });

  it('canonicalForm of an event in on-disk field order (the fast path) equals the sorted reference', () => {
    const event = {
      id: 'i', seq: 7, timestamp: 't', action_type: 'a"b', status: 's', details: { z: [1, { b: 2, a: 1 }], a: null },
      error: null, actor: 'ü', source: { pid: 1, host: 'h' }, prev_hash: 'p', hash: 'h',
    };
    const { hash: _hash, ...rest } = event;
    expect(canonicalForm(event as never)).to.equal(reference(rest));
  });
});
