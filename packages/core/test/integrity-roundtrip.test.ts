// Property tests: random events (Unicode, nesting, awkward numbers) round-trip through every format and verify as intact.
import { expect } from 'chai';
import fc from 'fast-check';
import { AuditLogger, readEvents, verifyAuditLog, type AuditEvent, type JsonArrayOrder } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';

/** Any UTF-16 code unit, lone surrogates included, plus whole astral characters. */
const unit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.constantFrom('é', '日本', '👩‍🔬', '\u2028', '\u0000', '"', '\\', '\n', '\r\n', ',', '=SUM(A1)', "'", '@'),
);
const text = fc.string({ unit, maxLength: 12 });

const awkwardNumber = fc.oneof(
  fc.constantFrom(1e21, 1e-7, -0, 5e-324, Number.MAX_VALUE, Number.MIN_SAFE_INTEGER, 2 ** 53 + 2, 0.1 + 0.2, 123456789012345680000, 1.5e300, -1e-300),
  fc.double(),
  fc.integer(),
);

const leaf = fc.oneof(text, awkwardNumber, fc.boolean(), fc.constant(null), fc.bigInt());
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(text, fc.constantFrom('0', '10', '2', '__proto__', 'b', 'a')), tie('tree'), { maxKeys: 4 }),
  ),
}));

const eventArb = fc.record({
  details: fc.dictionary(text, tree, { maxKeys: 5 }),
  error: fc.option(text, { nil: undefined }),
  actor: fc.option(text.filter((s) => s !== ''), { nil: undefined }),
  action: text.filter((s) => s.trim() !== '' && !/[\u0000-\u001f\u007f]/.test(s)),
});

async function collect(target: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const event of readEvents(target)) events.push(event);
  return events;
}

describe('verify: random events round-trip through every format and verify as intact', () => {
  for (const order of ['oldest-first', 'newest-first'] as const satisfies readonly JsonArrayOrder[]) {
    it(`jsonl, json (${order}) and csv`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 4 }), async (inputs) => {
          const dir = tempDir();
          const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'json', 'csv'], order, redact: false });
          const logged: AuditEvent[] = [];
          for (const input of inputs) logged.push(await logger.logEvent({ action: input.action, details: input.details, error: input.error ?? null, actor: input.actor ?? null }));
          await logger.close();
          const report = await verifyAuditLog(dir);
          expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
          expect(report.logs.map((log) => log.events)).to.deep.equal([inputs.length, inputs.length, inputs.length]);
          for (const file of ['audit_log.jsonl', 'audit_log.json', 'audit_log.csv']) {
            const back = await collect(`${dir}/${file}`);
            if (order === 'newest-first' && file === 'audit_log.json') back.reverse();
            expect(back.map((e) => e.hash), file).to.deep.equal(logged.map((e) => e.hash));
            expect(JSON.stringify(back.map((e) => e.details)), file).to.equal(JSON.stringify(logged.map((e) => e.details)));
          }
        }),
        { numRuns: 100 },
      );
    });
  }
});
