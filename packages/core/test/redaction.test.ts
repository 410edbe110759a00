// Redaction is on by default: no secret byte reaches a file, the console, a MemorySink or the bus, and the chain still verifies.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AuditLogger, ConsoleSink, MemorySink, Redaction, redactionHash, REDACTED, verifyAuditLog, type AuditEvent, type AuditLoggerOptions } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';

/** Secrets planted in the events below; none may appear anywhere. */
const SECRETS = ['hunter2-pw', 'k3y-0f-api', 'cookie-jar-77', 'old-secret-1', 'new-secret-2', 'p1-before', 'p2-after', 's3cretpw99', 'bearer-abcdefgh123', 'hunter3-err', 'env-token-55', 'ghp_0123456789abcdefghijklmnopqrstuvwxyz', 'array-pw-777', 'src-secret-9', 'stack-token-31'];

async function logSecrets(options: AuditLoggerOptions): Promise<{ dir: string; memory: MemorySink; console: string; bus: AuditEvent[]; events: AuditEvent[] }> {
  const dir = tempDir();
  const memory = new MemorySink();
  const stream = new PassThrough();
  let console = '';
  stream.on('data', (chunk: Buffer) => (console += chunk.toString()));
  const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'json', 'csv'], sinks: [memory, new ConsoleSink({ stream, style: 'pretty' }), new ConsoleSink({ stream, style: 'json' })], ...options });
  logger.use({ name: 'ctx', enrichers: [(source) => void (source.deploy_secret = 'src-secret-9')] });
  const bus: AuditEvent[] = [];
  logger.on('event', (event) => bus.push(event));
  const events = [
    await logger.logEvent('login', { user: 'alice', Password: 'hunter2-pw', nested: { deeper: { API_KEY: 'k3y-0f-api', Cookie: 'cookie-jar-77' } } }),
    await logger.logEvent({
      action: 'hp_change',
      details: { changed_params: { api_key: { before: 'old-secret-1', after: 'new-secret-2' } }, before: { password: 'p1-before' }, after: { password: 'p2-after' } },
    }),
    await logger.logEvent({
      action: 'Model training failed',
      status: 'FAILURE',
      details: { dsn_list: ['postgres://admin:array-pw-777@db/x'], env: { HF_TOKEN: 'env-token-55' }, cause: new Error('refused: token=stack-token-31') },
      error: 'connect postgres://admin:s3cretpw99@db:5432/runs failed; password=hunter3-err; Authorization: Bearer bearer-abcdefgh123; gh ghp_0123456789abcdefghijklmnopqrstuvwxyz',
    }),
  ];
  await logger.close();
  return { dir, memory, console, bus, events };
}

function everything(dir: string): string {
  return readdirSync(dir)
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('\n');
}

describe('redaction (on by default)', () => {
  it('no secret byte reaches any file, console line, MemorySink or bus event, including before/after values and error messages', async () => {
    const { dir, memory, console, bus } = await logSecrets({});
    const places = { files: everything(dir), console, memory: JSON.stringify(memory.events), bus: JSON.stringify(bus) };
    for (const [place, text] of Object.entries(places)) {
      for (const secret of SECRETS) expect(text, `${secret} in ${place}`).not.to.include(secret);
      expect(text, place).to.include(REDACTED);
    }
    const [login, change, failure] = memory.events;
    expect(login!.details).to.deep.equal({ Password: REDACTED, nested: { deeper: { API_KEY: REDACTED, Cookie: REDACTED } }, user: 'alice' });
    expect(change!.details).to.deep.equal({ after: { password: REDACTED }, before: { password: REDACTED }, changed_params: { api_key: REDACTED } });
    expect(failure!.error).to.equal(
      'connect postgres://admin:[REDACTED]@db:5432/runs failed; password=[REDACTED]; Authorization: Bearer [REDACTED]; gh [REDACTED]',
    );
    expect(failure!.source.deploy_secret).to.equal(REDACTED);
    expect((await verifyAuditLog(dir)).ok).to.equal(true);
  });

  it('with a key, values become hmac-sha256:<hex>, equal secrets correlate, and redactionHash gives the same mask', async () => {
    const key = 'redaction-key';
    const { memory } = await logSecrets({ redact: { hmacKey: key } });
    const [login, change] = memory.events;
    expect(login!.details.Password).to.equal(redactionHash('hunter2-pw', key)).and.match(/^hmac-sha256:[0-9a-f]{64}$/);
    const again = new Redaction({ hmacKey: key }).redactDetails({ password: 'hunter2-pw' });
    expect(again.password).to.equal(login!.details.Password);
    // A non-string secret is hashed over its canonical JSON.
    expect((change!.details.changed_params as Record<string, string>).api_key).to.equal(redactionHash({ after: 'new-secret-2', before: 'old-secret-1' }, key));
  });

  it('configured paths with wildcards, the actor pseudonymised, and custom patterns', async () => {
    const memory = new MemorySink();
    const logger = new AuditLogger({
      format: 'none',
      sinks: [memory],
      redact: { paths: ['details.db.host', 'details.*.ssn', 'details.**.email', 'actor'], patterns: [/employee-\d+/, /pin (?<secret>\d{4})/], hmacKey: 'k' },
    });
    await logger.logEvent({
      action: 'lookup',
      actor: 'alice@example.com',
      details: { db: { host: 'db.internal', port: 5432 }, patient: { ssn: '123-45-6789', name: 'Bob' }, a: { b: { c: { email: 'x@y.z' } } }, note: 'by employee-4711 with pin 1234' },
    });
    await logger.close();
    const event = memory.events[0]!;
    expect(event.actor).to.equal(redactionHash('alice@example.com', 'k'));
    const d = event.details as { db: { host: string; port: number }; patient: { ssn: string; name: string }; a: { b: { c: { email: string } } }; note: string };
    expect(d.db).to.deep.equal({ host: redactionHash('db.internal', 'k'), port: 5432 });
    expect(d.patient.name).to.equal('Bob');
    expect(d.patient.ssn).to.match(/^hmac-sha256:/);
    expect(d.a.b.c.email).to.match(/^hmac-sha256:/);
    expect(d.note).to.equal(`by ${redactionHash('employee-4711', 'k')} with pin ${redactionHash('1234', 'k')}`);
  });

  it('leaves ML vocabulary alone (max_tokens, eos_token, token_count) and honours allowKeys and redact: false', async () => {
    const memory = new MemorySink();
    const logger = new AuditLogger({ format: 'none', sinks: [memory], redact: { allowKeys: ['session_token'] } });
    const details = { max_tokens: 256, eos_token: '</s>', token_count: 12, tokenizer: 'bpe', session_token: 'visible', password_hint_count: 1 };
    await logger.logEvent('generate', details);
    await logger.close();
    expect(memory.events[0]!.details).to.deep.equal(details);
    const off = new MemorySink();
    const plain = new AuditLogger({ format: 'none', sinks: [off], redact: false });
    await plain.logEvent('login', { password: 'kept' }, 'INFO');
    await plain.close();
    expect(off.events[0]!.details).to.deep.equal({ password: 'kept' });
  });

  it('patterns in free text: PEM keys, AWS ids, JWTs, Slack, sk-, hf_ tokens, quoted JSON pairs; and a short custom pattern', () => {
    const redaction = new Redaction();
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----';
    const text = [
      `key file: ${pem}`,
      'aws AKIAIOSFODNN7EXAMPLE',
      'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'slack xoxb-123456789012-abcdefghij',
      'openai sk-abcdefghijklmnopqrstuvwx',
      'hf hf_abcdefghijklmnopqrstuvwxyz0123456789',
      'body {"api_key": "quoted-secret-1", "client_secret":"quoted-secret-2"}',
    ].join('; ');
    const out = redaction.redactText(text);
    for (const secret of ['MIIEow', 'AKIAIOSFODNN7EXAMPLE', 'dozjgNryP4J3', 'xoxb-123456789012', 'sk-abcdefghijkl', 'hf_abcdefghij', 'quoted-secret-1', 'quoted-secret-2']) {
      expect(out, secret).not.to.include(secret);
    }
    expect(out).to.include('"api_key": "[REDACTED]"');
    expect(new Redaction({ patterns: [/\b\d{6}\b/] }).redactText('otp 123456')).to.equal('otp [REDACTED]');
    expect(redaction.redactText('plain text about tokenizers and max_tokens=512')).to.equal('plain text about tokenizers and max_tokens=512');
  });

  it('keeps null secrets as null and redacts empty ones, and rejects a malformed path naming the option', () => {
    const redaction = new Redaction();
    expect(redaction.redactDetails({ password: null, token: '', secret: 0 })).to.deep.equal({ password: null, secret: REDACTED, token: REDACTED });
    expect(() => new Redaction({ paths: ['body.password'] })).to.throw(/redact\.paths/);
    expect(() => new Redaction({ paths: ['error.message'] })).to.throw(/error is text/);
  });
});
