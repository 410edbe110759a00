// Redaction covers every string an event can carry: toJSON results, Map and Set items, arrays in source; enrichers cannot write details; error values are made safe.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, InvalidEventError, verifyAuditLog, type AuditLoggerOptions, type Enricher } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonl, rejectionOf } from './helpers';

/** The bytes of both files the logger wrote. */
function fileBytes(dir: string): string {
  return readFileSync(join(dir, 'audit_log.jsonl'), 'utf8') + readFileSync(join(dir, 'audit_log.csv'), 'utf8');
}

/** Logs with a jsonl + csv logger, closes it, and returns the directory. */
async function logInto(options: AuditLoggerOptions, log: (logger: AuditLogger) => Promise<unknown>): Promise<string> {
  const dir = tempDir();
  const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'], ...options });
  await log(logger);
  await logger.close();
  return dir;
}

/** A value the types forbid, as plain JavaScript callers pass it. */
function untyped(value: unknown): string {
  return value as string;
}

function expectNoSecret(dir: string, secrets: readonly string[]): string {
  const bytes = fileBytes(dir);
  for (const secret of secrets) expect(bytes, `${secret} reached a file`).not.to.include(secret);
  return bytes;
}

describe('redaction coverage', () => {
  it('a toJSON result (URL), Map entries (secret keys and patterns) and Set items are redacted', async () => {
    const dir = await logInto({}, (logger) =>
      logger.logEvent('connect', {
        db: new URL('postgres://alice:s3cretPassw0rd@host/db'),
        m: new Map<unknown, unknown>([
          ['authorization', 'Bearer abcdefgh12345678'],
          ['note', 'password=mapPatternPw1'],
          [7, 'token: numKeyTok9999'],
        ]),
        s: new Set(['password=hunter2xx', 'plain']),
        list: [['nested', 'api_key=arrayItemKey1']],
        custom: { toJSON: () => ({ password: 'fromToJsonPw1', text: 'Bearer toJsonBearer123' }) },
      }),
    );
    const bytes = expectNoSecret(dir, ['s3cretPassw0rd', 'abcdefgh12345678', 'mapPatternPw1', 'numKeyTok9999', 'hunter2xx', 'arrayItemKey1', 'fromToJsonPw1', 'toJsonBearer123']);
    expect(bytes).to.include('[REDACTED]');
    const [event] = readJsonl(dir);
    expect(event!.details.m).to.deep.equal([
      ['authorization', '[REDACTED]'],
      ['note', 'password=[REDACTED]'],
      [7, 'token: [REDACTED]'],
    ]);
    expect(event!.details.s).to.deep.equal(['password=[REDACTED]', 'plain']);
    expect(event!.details.db).to.equal('postgres://alice:[REDACTED]@host/db');
    expect((await verifyAuditLog(dir)).ok).to.equal(true);
  });

  it('configured details paths apply to Map entries with string keys', async () => {
    const dir = await logInto({ redact: { paths: ['details.m.ssn'] } }, (logger) => logger.logEvent('lookup', { m: new Map([['ssn', '078-05-1120']]) }));
    expectNoSecret(dir, ['078-05-1120']);
  });

  it('arrays in an enriched source are scanned (argv)', async () => {
    const argv: Enricher = (source) => {
      source.argv = ['train.py', '--api-key=sk-abcdefghijklmnopqrstuvwx', 'password=argvPass77', ['nested', 'token=nestedTok55']];
      source.nested = { list: [{ secret: 'objInArray66' }] };
    };
    const dir = await logInto({ plugins: [{ name: 'argv', enrichers: [argv] }] }, (logger) => logger.logEvent('run_started'));
    const bytes = expectNoSecret(dir, ['sk-abcdefghijklmnopqrstuvwx', 'argvPass77', 'nestedTok55', 'objInArray66']);
    expect(bytes).to.include('train.py');
    expect((await verifyAuditLog(dir)).ok).to.equal(true);
  });

  it('an enricher cannot change details (nor error or actor): the write fails as a warning and the record keeps the redacted copy, hash canonical', async () => {
    const warnings: string[] = [];
    // Writes to a frozen object throw only in strict code: these enrichers opt in, as compiled TypeScript modules do.
    const sneaky: Enricher = (source, event) => {
      'use strict';
      source.seen = String(event.details.model);
      (event.details as Record<string, unknown>).leak = 'enricherSecret42';
    };
    const reassign: Enricher = (_source, event) => {
      'use strict';
      (event as { details: unknown }).details = { '10': 'x', leak: 'enricherSecret43' };
    };
    const nested: Enricher = (_source, event) => {
      'use strict';
      ((event.details.cfg as Record<string, unknown>) ?? {}).api = 'enricherSecret44';
    };
    const text: Enricher = (_source, event) => {
      'use strict';
      (event as { error: string | null }).error = 'enricherSecret45';
    };
    const dir = await logInto({ plugins: [{ name: 'sneaky', enrichers: [sneaky, reassign, nested, text] }] }, async (logger) => {
      logger.on('warning', (w) => warnings.push(w.code));
      await logger.logEvent('train', { model: 'bert', cfg: { lr: 1 }, password: 'callerPw' });
    });
    expectNoSecret(dir, ['enricherSecret42', 'enricherSecret43', 'enricherSecret44', 'enricherSecret45', 'callerPw']);
    const [event] = readJsonl(dir);
    expect(event!.details).to.deep.equal({ cfg: { lr: 1 }, model: 'bert', password: '[REDACTED]' });
    expect(event!.source.seen).to.equal('bert');
    expect(warnings).to.deep.equal(['ENRICHER_FAILED', 'ENRICHER_FAILED', 'ENRICHER_FAILED', 'ENRICHER_FAILED']);
    expect((await verifyAuditLog(dir)).ok).to.equal(true);
  });

  it('an object error is recorded from its safe copy: secret keys and patterns masked, a circular null-prototype object is no crash', async () => {
    const circular = Object.create(null) as Record<string, unknown>;
    circular.self = circular;
    circular.detail = 'password=circularPw9';
    const dir = await logInto({ onError: 'emit' }, async (logger) => {
      await logger.logEvent({ action: 'a', status: 'FAILURE', error: untyped({ code: 42, password: 'objErrPw1', big: 10n }) });
      await logger.logEvent({ action: 'b', status: 'FAILURE', error: untyped(circular) });
      await logger.logEvent({ action: 'c', status: 'FAILURE', error: untyped(new Map([['token', 'mapErrTok77']])) });
    });
    expectNoSecret(dir, ['objErrPw1', 'circularPw9', 'mapErrTok77']);
    const events = readJsonl(dir);
    expect(events.map((e) => e.error)).to.deep.equal([
      '{"big":"10","code":42,"password":"[REDACTED]"}',
      '{"detail":"password=[REDACTED]","self":"[Circular]"}',
      '[["token","[REDACTED]"]]',
    ]);
  });

  it('error and actor are capped at maxStringLength like details strings; an unreadable error rejects with InvalidEventError', async () => {
    const dir = await logInto({ limits: { maxStringLength: 100 } }, async (logger) => {
      await logger.logEvent({ action: 'long', status: 'FAILURE', error: 'e'.repeat(5000), actor: 'a'.repeat(300) });
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      const err = await rejectionOf(logger.logEvent({ action: 'proxy', status: 'FAILURE', error: untyped(proxy) }));
      expect(err).to.be.instanceOf(InvalidEventError);
    });
    const [event, more] = readJsonl(dir);
    expect(more).to.equal(undefined);
    expect(event!.error).to.equal('e'.repeat(100) + '…[truncated 4900 chars]');
    expect(event!.actor).to.equal('a'.repeat(100) + '…[truncated 200 chars]');
  });
});
