// The layout of the oldest-first JSON array (json-array-layout.ts), property by property: every in-place write
// stays inside one page and inside the reserve, and a writer notices any record another one added.
import { expect } from 'chai';
import fc from 'fast-check';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CLOSE, PAGE, appendedSince, findEnd, pageSlices, placeFor, reserveBytes, reserveFor } from '../src/sinks/json-array-layout';
import { tempDir } from '../../../test/helpers/tmp';

describe('JSON array layout', () => {
  it('splits a write into slices that cover it in order, each inside one page', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: 1 << 22 }), (length, at) => {
        const slices = pageSlices(length, at);
        let next = 0;
        for (const [offset, end] of slices) {
          expect(offset).to.equal(next);
          expect(end).to.be.greaterThan(offset);
          expect(Math.floor((at + offset) / PAGE), 'one page').to.equal(Math.floor((at + end - 1) / PAGE));
          if (end < length) expect((at + end) % PAGE, 'ends on a page boundary').to.equal(0);
          next = end;
        }
        expect(next).to.equal(length);
      }),
    );
  });

  it('places every record inside one page and before the closing bracket, or nowhere when it cannot', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 22 }), fc.integer({ min: 1, max: 3 * PAGE }), fc.integer({ min: 0, max: 1 << 16 }), (end, length, room) => {
        const closeAt = end + room;
        const at = placeFor(end, length, closeAt);
        const pageEnd = end - (end % PAGE) + PAGE;
        if (at === undefined) {
          expect(length > PAGE || (end + length > Math.min(pageEnd, closeAt) && pageEnd + length > closeAt)).to.equal(true);
          return;
        }
        expect([end, pageEnd]).to.include(at);
        expect(at + length).to.be.at.most(closeAt);
        expect(Math.floor(at / PAGE), 'first and last byte in one page').to.equal(Math.floor((at + length - 1) / PAGE));
      }),
      { numRuns: 20_000 },
    );
  });

  it('leaves a reserve of at least 16 KiB or half the array, ending the file on a page boundary', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 28 }), (used) => {
        const reserve = reserveFor(used);
        expect(reserve).to.be.at.least(Math.max(4 * PAGE, used / 2));
        expect((used + reserve + CLOSE.length) % PAGE).to.equal(0);
      }),
    );
  });

  it('finds where the events end, across a reserve of many pages and events full of spaces', () => {
    const dir = tempDir();
    for (const events of [[], ['{"a":1}'], ['{"s":"' + ' '.repeat(3 * PAGE) + '"}', '{"b":2}'], Array.from({ length: 50 }, (_, i) => `{"i":${i},"t":"${' '.repeat(PAGE - 20)}"}`)]) {
      const head = '[' + events.map((e, i) => (i === 0 ? '\n' : ',\n') + e).join('');
      const used = Buffer.byteLength(head);
      for (const reserve of [0, 10, PAGE - 1, PAGE, 5 * PAGE + 17, reserveFor(used)]) {
        const path = join(dir, `a-${events.length}-${reserve}.json`);
        writeFileSync(path, Buffer.concat([Buffer.from(head), reserveBytes(used, used + reserve), CLOSE]));
        const fd = openSync(path, 'r');
        expect(findEnd(fd, used + reserve), `${events.length} events, reserve ${reserve}`).to.equal(used);
        closeSync(fd);
      }
    }
  });

  it('notices a record written at the end or at the next page start, even one that begins like the reserve', () => {
    const dir = tempDir();
    const path = join(dir, 'a.json');
    const make = (): number => {
      writeFileSync(path, Buffer.concat([Buffer.from('['), reserveBytes(1, 1 + reserveFor(1)), CLOSE]));
      return 1 + reserveFor(1);
    };
    let closeAt = make();
    let fd = openSync(path, 'r+');
    expect(appendedSince(fd, 1, closeAt)).to.equal(false);
    // A first record of exactly one page goes to the next page start, beginning with the newline the reserve has there.
    const record = '\n{"p":"' + 'x'.repeat(PAGE - 9) + '"}';
    expect(Buffer.byteLength(record)).to.equal(PAGE);
    expect(placeFor(1, PAGE, closeAt)).to.equal(PAGE);
    writeSync(fd, record, PAGE);
    expect(appendedSince(fd, 1, closeAt)).to.equal(true);
    closeSync(fd);
    closeAt = make();
    fd = openSync(path, 'r+');
    writeSync(fd, '\n{"a":1}', 1);
    expect(appendedSince(fd, 1, closeAt)).to.equal(true);
    expect(appendedSince(fd, 9, closeAt)).to.equal(false);
    closeSync(fd);
  });
});
