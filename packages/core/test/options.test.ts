// Options of AuditLogger that would misbehave far from their cause: each bad value is refused at construction, naming it.
import { expect } from 'chai';
import { createSecretKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuditLogger,
  InvalidOptionError,
  MemoryBatchSink,
  MemorySink,
  Redaction,
  errorMessage,
  generateSigningKeys,
  outcomeStatuses,
  pipelineStatuses,
  verifyAuditLog,
  type AuditLoggerOptions,
} from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonl, rejectionOf } from './helpers';

const pem = generateSigningKeys().privateKeyPem;

describe('AuditLogger options', () => {
  it('refuses each bad value at construction, naming the option, and creates nothing', () => {
    const dir = join(tempDir(), 'never-created');
    const bad: [Partial<AuditLoggerOptions>, RegExp][] = [
      [{ actor: 42 as unknown as string }, /Invalid option "actor": must be a non-empty string, got number/],
      [{ actor: '' }, /Invalid option "actor": must be a non-empty string, got ""/],
      [{ limits: { maxDetailsBytes: 0 } }, /Invalid option "limits.maxDetailsBytes": 0 is not a whole number of at least 1024/],
      [{ limits: { maxStringLength: -1 } }, /Invalid option "limits.maxStringLength"/],
      [{ limits: { maxDepth: Number.NaN } }, /Invalid option "limits.maxDepth": NaN is not a whole number from 1 to 1000/],
      [{ limits: { maxDepth: 5000 } }, /Invalid option "limits.maxDepth"/],
      [{ limits: { maxDetailBytes: 10_000 } as unknown as AuditLoggerOptions['limits'] }, /Invalid option "limits.maxDetailBytes": is not a limit; did you mean "maxDetailsBytes"\? \(known: maxDetailsBytes, maxStringLength, maxDepth\)/],
      [{ statuses: ['INFO', 'ERROR'] as unknown as AuditLoggerOptions['statuses'] }, /Invalid option "statuses": must be a status scheme .*got an array/],
      [{ statuses: 'outcome' as unknown as AuditLoggerOptions['statuses'] }, /Invalid option "statuses": must be a status scheme/],
      [{ allowSymlink: 'false' as unknown as boolean }, /Invalid option "allowSymlink": "false" is not true or false/],
      [{ hmacKey: '' }, /Invalid option "hmacKey": must not be empty/],
      [{ hmacKey: 42 as unknown as string }, /Invalid option "hmacKey": must be a string, a Buffer or a secret KeyObject, got number/],
      [{ redact: { hmacKey: '' } }, /Invalid option "redact.hmacKey": must not be empty/],
      [{ redact: { keys: 'password' as unknown as string[] } }, /Invalid option "redact.keys": must be a list of strings/],
      [{ redact: { patterns: ['token=\\w+'] as unknown as RegExp[] } }, /Invalid option "redact.patterns": must be a list of regular expressions/],
      [{ redact: { scanvalues: false } as unknown as AuditLoggerOptions['redact'] }, /Invalid option "redact.scanvalues": is not a redaction option; did you mean "scanValues"\?/],
      [{ checkpoints: { privateKey: undefined as unknown as string } }, /Invalid option "checkpoints.privateKey": must be a KeyObject, PEM text or the path of a PEM file, got undefined/],
      [{ checkpoints: { privateKey: pem.slice(0, 60) } }, /Invalid option "checkpoints.privateKey": cannot be read as a private key/],
      [{ checkpoints: { privateKey: join(dir, 'missing.pem') } }, /Invalid option "checkpoints.privateKey": is neither PEM text nor a readable key file/],
      [{ checkpoints: { privateKey: pem, every: 0 } }, /Invalid option "checkpoints.every": 0 is not a whole number of at least 1/],
      [{ format: 'none', checkpoints: { privateKey: pem } }, /Invalid option "checkpoints": need a log file to sign/],
      [{ sinks: [new MemorySink({ filter: { statuses: ['FAILED'] } })] }, /Invalid option "sink "memory".filter.statuses": "FAILED" is not a status of scheme "pipeline" \(valid: INFO, WARNING, FAILURE\)/],
      [{ sinks: [new MemorySink({ filter: { statuses: 'FAILURE' as unknown as string[] } })] }, /filter.statuses": must be a list of names, got the string "FAILURE" \(write \["FAILURE"\]\)/],
      [{ sinks: [new MemorySink({ filter: { status: ['FAILURE'] } as unknown as { statuses: string[] } })] }, /Invalid option "sink "memory".filter.status": is not a filter field; did you mean "statuses"\? \(known: actions, statuses, minSeverity, predicate\)/],
      [{ delivery: { acknowledged: { sinks: ['remote'], timeout: 500 } } as unknown as AuditLoggerOptions['delivery'] }, /Invalid option "delivery.acknowledged.timeout": is not a filter field; did you mean "timeoutMs"\? \(known: .*sinks, timeoutMs\)/],
      [{ sinks: [new MemorySink({ filter: { actions: [''] } })] }, /filter.actions": each entry must be a non-empty string/],
      [{ sinks: [new MemorySink({ filter: { predicate: 'x' as unknown as () => boolean } })] }, /filter.predicate": must be a function, got string/],
      [{ delivery: { acknowledged: { sinks: ['remote'], statuses: ['FAILED'] } } }, /Invalid option "delivery.acknowledged.statuses": "FAILED" is not a status/],
      [{ delivery: { acknowledged: { sinks: ['remote'], timeoutMs: 0 } } }, /Invalid option "delivery.acknowledged.timeoutMs": 0 is not a number of milliseconds of at least 1/],
      [{ delivery: { acknowledged: { sinks: ['remote'], timeoutMs: Number.NaN } } }, /Invalid option "delivery.acknowledged.timeoutMs"/],
      [{ delivery: { pollIntervallMs: 500 } as unknown as AuditLoggerOptions['delivery'] }, /Invalid option "delivery.pollIntervallMs": is not an option; did you mean "pollIntervalMs"\? \(known: policy, queue/],
      [{ delivery: { retries: 3 } as unknown as AuditLoggerOptions['delivery'] }, /Invalid option "delivery.retries": is not an option \(known: policy, queue/],
      [{ rotation: { maxBytes: 1e6, intervall: 'day' } as unknown as AuditLoggerOptions['rotation'] }, /Invalid option "rotation.intervall": is not an option; did you mean "interval"\? \(known: maxBytes, interval\)/],
      [{ rotation: 'daily' as unknown as AuditLoggerOptions['rotation'] }, /Invalid option "rotation": must be an object/],
      [{ retention: { maxAgeDays: 400, minAgeDay: 200 } as unknown as AuditLoggerOptions['retention'] }, /Invalid option "retention.minAgeDay": is not an option; did you mean "minAgeDays"\?/],
      [{ checkpoints: { privateKey: pem, evry: 10 } as unknown as AuditLoggerOptions['checkpoints'] }, /Invalid option "checkpoints.evry": is not an option; did you mean "every"\? \(known: privateKey, every\)/],
      [{ delivery: { queue: { maxEvent: 5 } } as unknown as AuditLoggerOptions['delivery'] }, /Invalid option "delivery.queue.maxEvent": is not an option/],
      [{ delivery: { queue: null } as unknown as AuditLoggerOptions['delivery'] }, /Invalid option "delivery.queue": must be an object/],
      [{ delivery: { queue: 'block' } as unknown as AuditLoggerOptions['delivery'] }, /Invalid option "delivery.queue": must be an object/],
      [{ sinks: [new MemoryBatchSink({ name: 'remote\n' })] }, /the name of batch sink "remote\\n" contains control characters/],
      [{ delivery: { acknowledged: { sinks: [] } } }, /Invalid option "delivery.acknowledged.sinks": must name at least one batch sink/],
      [{ delivery: { queue: { maxEvents: 0.5 } } }, /Invalid option "delivery.queue.maxEvents": 0.5 is not a whole number of at least 1/],
      [{ delivery: { policy: { exportTimeoutMs: 3e9 } } }, /Invalid option "delivery.policy.exportTimeoutMs": 3000000000 is not a number of milliseconds from 0 to 2147483647/],
      [{ sinks: [new MemoryBatchSink({ name: 'é'.repeat(70) })] }, /Invalid option "sinks": the name of batch sink .* is too long: it names its cursor and lease files/],
    ];
    for (const [options, message] of bad) {
      expect(() => new AuditLogger({ rootLogDir: dir, format: 'jsonl', ...options }), message.source).to.throw(InvalidOptionError, message);
      expect(existsSync(dir), message.source).to.equal(false);
    }
  });

  it('refuses a misspelled option name, naming the option meant, and creates nothing; other unknown names are left to subclasses', () => {
    const dir = join(tempDir(), 'never-created');
    const misspelled: [Record<string, unknown>, string, string][] = [
      [{ fsynch: 'always' }, 'fsynch', 'fsync'],
      [{ formats: ['jsonl', 'csv'] }, 'formats', 'format'],
      [{ root_log_dir: '/elsewhere' }, 'root_log_dir', 'rootLogDir'], // the first seed's Python name
      [{ experiment_name: 'run-1' }, 'experiment_name', 'experimentName'],
      [{ status: outcomeStatuses }, 'status', 'statuses'],
      [{ sink: [] }, 'sink', 'sinks'],
      [{ onerror: 'emit' }, 'onerror', 'onError'],
      [{ lockTimeout: 5000 }, 'lockTimeout', 'lockTimeoutMs'],
      [{ hmackey: 'k' }, 'hmackey', 'hmacKey'],
      [{ retnetion: {} }, 'retnetion', 'retention'], // two letters swapped
    ];
    for (const [options, name, meant] of misspelled) {
      const attempt = () => new AuditLogger({ rootLogDir: dir, format: 'jsonl', ...options } as AuditLoggerOptions);
      expect(attempt, name).to.throw(InvalidOptionError, `Invalid option "${name}": is not an option; did you mean "${meant}"?`);
      expect(existsSync(dir), name).to.equal(false);
    }
    expect(() => new AuditLogger(null as unknown as AuditLoggerOptions)).to.throw(InvalidOptionError, 'Invalid option "options": must be an object, got null');

    // A subclass keeps its own options in the same object: names that resemble none of the logger's pass.
    class TeamLogger extends AuditLogger {
      readonly team: string;
      constructor(options: AuditLoggerOptions & { team: string; action: string }) {
        super(options);
        this.team = options.team;
      }
    }
    const logger = new TeamLogger({ format: 'none', team: 'vision', action: 'train' });
    expect(logger.team).to.equal('vision');
    // A config class keeping `_format` behind a `format` getter: the getter is the option, `_format` no misspelling.
    class Config {
      private readonly _format = 'none' as const;
      get format(): 'none' {
        return this._format;
      }
    }
    const configured = new AuditLogger(new Config());
    return Promise.all([logger.close(), configured.close()]);
  });

  it('a plugin given at construction is checked too: its scheme, its lists, and before anything is created', () => {
    const dir = join(tempDir(), 'never-created');
    const bad: [unknown, RegExp][] = [
      [{ name: 'p', statuses: ['success', 'failed'] }, /Invalid option "plugin "p".statuses": must be a status scheme/],
      [{ name: 'p', enrichers: ['git'] }, /Invalid option "plugin "p".enrichers": must be a list of functions/],
      [{ name: 'p', sinks: new MemorySink() }, /Invalid option "plugin "p".sinks": must be a list of sinks/],
      [{ statuses: outcomeStatuses }, /Invalid option "plugins": each plugin needs a non-empty "name"/],
      [null, /Invalid option "plugins": each plugin must be an object, got null/],
    ];
    for (const [plugin, message] of bad) {
      expect(() => new AuditLogger({ rootLogDir: dir, format: 'jsonl', plugins: [plugin as never] }), message.source).to.throw(InvalidOptionError, message);
    }
    expect(() => new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: new MemorySink() as never })).to.throw(InvalidOptionError, /"sinks": must be a list of sinks/);
    expect(existsSync(dir)).to.equal(false);
  });

  it('use(plugin) checks the whole plugin first: a refused one leaves the scheme, the sinks and the enrichers as they were', async () => {
    const logger = new AuditLogger({ format: 'none' });
    const before = new MemorySink({ name: 'before' });
    logger.addSink(before);
    const good = new MemorySink({ name: 'good' });
    const bad = new MemorySink({ name: 'bad', filter: { statuses: ['FAILURE'] } }); // FAILURE is not an outcome status
    let enriched = 0;
    expect(() => logger.use({ name: 'half', statuses: outcomeStatuses, sinks: [good, bad], enrichers: [() => void enriched++] })).to.throw(InvalidOptionError, /sink "bad".filter.statuses/);
    expect(logger.statuses.name).to.equal('pipeline');
    await logger.logEvent('after', {}, 'INFO');
    await logger.close();
    expect(good.events).to.deep.equal([]);
    expect(before.events.map((e) => e.action_type)).to.deep.equal(['after']);
    expect(enriched).to.equal(0);
  });

  it('use(plugin) switching the scheme checks the batch sinks too, and a refused plugin leaves their filters and the scheme as they were', async () => {
    const dir = tempDir();
    const first = new MemoryBatchSink({ name: 'first', filter: { minSeverity: 'WARNING' } });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [first] });
    const second = new MemoryBatchSink({ name: 'second', filter: { statuses: ['failed'] } });
    // 'failed' is an outcome status, but the first sink's WARNING is not: the switch is refused, naming that sink.
    expect(() => logger.use({ name: 'p', statuses: outcomeStatuses, sinks: [second] })).to.throw(InvalidOptionError, /sink "first".filter.minSeverity/);
    expect(logger.statuses.name).to.equal('pipeline');
    await logger.logEvent('kept', {}, 'WARNING');
    await logger.logEvent('filtered', {}, 'INFO');
    await logger.flush({ timeoutMs: 5_000 });
    await logger.close();
    expect(first.events.map((e) => e.action_type)).to.deep.equal(['kept']);
    expect(second.events).to.deep.equal([]);
  });

  it('use(plugin) whose second sink fails to open closes the first again and puts the scheme back', async () => {
    const logger = new AuditLogger({ format: 'none' });
    const calls: string[] = [];
    const opened = { name: 'one', open: () => void calls.push('open one'), write: () => void calls.push('write one'), close: () => void calls.push('close one') };
    const failing = {
      name: 'two',
      open: () => {
        throw new InvalidOptionError('endpoint', 'unreachable');
      },
      write: () => undefined,
    };
    expect(() => logger.use({ name: 'q', statuses: outcomeStatuses, sinks: [opened, failing] })).to.throw(/unreachable/);
    await new Promise((r) => setImmediate(r));
    expect(logger.statuses.name).to.equal('pipeline');
    await logger.logEvent('after', {}, 'INFO');
    await logger.close();
    expect(calls).to.deep.equal(['open one', 'close one']);
  });

  it('plugins with different schemes at construction: the last one\'s is used, and sinks are checked against it alone', async () => {
    const sink = new MemorySink({ filter: { statuses: ['FAILURE'] } });
    const logger = new AuditLogger({ format: 'none', sinks: [sink], plugins: [{ name: 'p1', statuses: outcomeStatuses }, { name: 'p2', statuses: pipelineStatuses }] });
    expect(logger.statuses.name).to.equal('pipeline');
    await logger.logEvent('x', {}, 'FAILURE');
    await logger.close();
    expect(sink.events).to.have.length(1);
  });

  it('a plugin whose statuses are not a scheme is refused, naming the plugin', () => {
    const logger = new AuditLogger({ format: 'none' });
    expect(() => logger.use({ name: 'outcomes', statuses: ['success', 'failed'] as unknown as typeof outcomeStatuses })).to.throw(
      InvalidOptionError,
      /Invalid option "plugin "outcomes".statuses": must be a status scheme/,
    );
  });

  it('the actor option is recorded as an event\'s own actor is: cut to maxStringLength and with lone surrogates replaced, so every format verifies', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'], actor: 'svc-\ud800' + 'x'.repeat(200), limits: { maxStringLength: 64 } });
    const event = await logger.logEvent('step');
    await logger.close();
    expect(event.actor!.startsWith('svc-\ufffd')).to.equal(true);
    expect(event.actor).to.match(/…\[truncated \d+ chars\]$/);
    expect(readJsonl(dir)[0]!.actor).to.equal(event.actor);
    for (const format of ['jsonl', 'csv'] as const) {
      const report = await verifyAuditLog(dir, { format });
      expect(report.ok, format).to.equal(true);
    }
  });

  it('a checkpoint key given as a path or PEM is loaded once, at construction, and signs', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', checkpoints: { privateKey: pem, every: 2 } });
    await logger.logEvent('a');
    await logger.logEvent('b');
    await logger.close();
    expect(existsSync(join(dir, 'audit_log.checkpoints.jsonl'))).to.equal(true);
  });

  it('verifyAuditLog refuses a misspelled option name (a key it ignored would verify without it)', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', hmacKey: 'k'.repeat(32) });
    await logger.logEvent('a');
    await logger.close();
    const error = await rejectionOf(verifyAuditLog(dir, { hmackey: 'k'.repeat(32) } as Parameters<typeof verifyAuditLog>[1]));
    expect(error).to.be.instanceOf(InvalidOptionError);
    expect(error.message).to.equal('Invalid option "hmackey": is not an option; did you mean "hmacKey"?');
    expect((await verifyAuditLog(dir, { hmacKey: 'k'.repeat(32) })).ok).to.equal(true);
  });

  it('a verifier accepts an empty HMAC key (a log may have been keyed with one), and warns what it proves', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('a');
    await logger.close();
    const report = await verifyAuditLog(dir, { hmacKey: '' });
    expect(report.keyed).to.equal(true);
    expect(report.warnings.join('\n')).to.include('the HMAC key is empty');
    expect((await verifyAuditLog(dir, { hmacKey: createSecretKey(Buffer.alloc(0)) })).warnings.join('\n')).to.include('the HMAC key is empty');
  });

  it('errorMessage describes any thrown value without throwing itself', () => {
    expect(errorMessage(new Error('boom'))).to.equal('boom');
    expect(errorMessage('text')).to.equal('text');
    expect(errorMessage(Object.create(null))).to.equal('[object Object]');
    expect(errorMessage({ toString: () => { throw new Error('no'); } })).to.equal('[object Object]');
  });

  it('new Redaction() checks its options too', () => {
    expect(() => new Redaction({ allowKeys: [1] as unknown as string[] })).to.throw(InvalidOptionError, /redact.allowKeys/);
  });

  it('close({ timeoutMs: Infinity }) waits without limit; a timeout that is not a number rejects and leaves the logger open', async () => {
    const sink = new MemoryBatchSink({ name: 'slow', answer: async () => (await new Promise((r) => setTimeout(r, 200)), { code: 'ok' as const }) });
    const logger = new AuditLogger({ format: 'none', sinks: [sink] });
    await logger.logEvent('a');
    await logger.logEvent('b');
    const err = await rejectionOf(logger.close({ timeoutMs: Number.NaN }));
    expect(err).to.be.instanceOf(InvalidOptionError);
    expect(err.message).to.include('Invalid option "timeoutMs": NaN is not a number of milliseconds of at least 0');
    expect((await rejectionOf(logger.flush({ timeoutMs: -1 }))).message).to.include('"timeoutMs"');
    await logger.logEvent('c'); // still open
    const result = await logger.close({ timeoutMs: Infinity });
    expect(result.ok).to.equal(true);
    expect(sink.events.map((e) => e.action_type)).to.deep.equal(['a', 'b', 'c']);
  });
});
