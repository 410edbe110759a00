// HttpSink presets (OTLP logs, Elasticsearch/OpenSearch _bulk, Splunk HEC, NDJSON, a custom body), options and Retry-After parsing.
import axios from 'axios';
import { expect } from 'chai';
import sinon from 'sinon';
import { AuditLogger, InvalidOptionError, MAX_TIMER_MS, defineStatuses, outcomeStatuses, pipelineStatuses, type AuditEvent } from '@auditrail/core';
import { HttpSink, parseRetryAfter, severityNumber, timeUnixNano, type HttpSinkOptions } from '@auditrail/http';
import { tempDir } from '../../../test/helpers/tmp';
import { TestServer, type Received } from './server';

interface OtlpRecord {
  timeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: { stringValue: string };
  attributes: { key: string; value: Record<string, unknown> }[];
}

describe('HttpSink presets', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await new TestServer().start(0);
  });
  afterEach(() => server.stop());

  async function deliver(options: Partial<HttpSinkOptions>, log: (logger: AuditLogger) => Promise<AuditEvent[]>, statuses = pipelineStatuses): Promise<{ events: AuditEvent[]; requests: Received[]; logger: AuditLogger }> {
    const sink = new HttpSink({ url: `http://127.0.0.1:${server.port}`, ...options, delivery: { maxBatchDelayMs: 5, initialBackoffMs: 5, maxBackoffMs: 20, ...options.delivery } });
    const logger = new AuditLogger({ rootLogDir: tempDir(), format: 'jsonl', fsync: 'never', statuses, sinks: [sink] });
    const events = await log(logger);
    await logger.close();
    return { events, requests: server.requests, logger };
  }

  it('timeUnixNano reads every timestamp form core reads: zoneless is UTC, offsets are applied, microseconds kept', () => {
    const utc = timeUnixNano('2026-05-27T14:30:01.123456Z');
    expect(utc).to.equal((BigInt(Date.UTC(2026, 4, 27, 14, 30, 1)) * 1_000_000n + 123_456_000n).toString());
    expect(timeUnixNano('2026-05-27T16:30:01.123456+02:00')).to.equal(utc);
    expect(timeUnixNano('2026-05-27T14:30:01.123456')).to.equal(utc);
    expect(timeUnixNano('not a time')).to.equal('0');
  });

  it('OTLP/HTTP JSON: one logRecord per event at /v1/logs, severity from the scheme, attributes from the fields', async () => {
    const scheme = pipelineStatuses.extend('CRITICAL');
    const { events, requests } = await deliver(
      { preset: 'otlp', serviceName: 'trainer' },
      async (logger) => [
        await logger.logEvent({ action: 'hp_change', details: { lr: 0.001, layers: [64, 32], nested: { ok: true } }, actor: 'alice' }),
        await logger.logEvent('Drift detected', { score: 0.8 }, 'WARNING'),
        await logger.logEvent({ action: 'training_failed', status: 'CRITICAL', error: 'CUDA out of memory' }),
      ],
      scheme,
    );
    expect(requests[0]!.path).to.equal('/v1/logs');
    expect(requests[0]!.headers['content-type']).to.equal('application/json');
    const body = JSON.parse(requests[0]!.body.toString()) as { resourceLogs: { resource: { attributes: unknown[] }; scopeLogs: { logRecords: OtlpRecord[] }[] }[] };
    expect(body.resourceLogs[0]!.resource.attributes).to.deep.equal([{ key: 'service.name', value: { stringValue: 'trainer' } }]);
    const records = body.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(records).to.have.length(3);
    expect(records.map((r) => [r.severityNumber, r.severityText])).to.deep.equal([[9, 'INFO'], [13, 'WARNING'], [21, 'CRITICAL']]);
    expect(records[0]!.body).to.deep.equal({ stringValue: 'hp_change' });
    expect(records[0]!.timeUnixNano).to.equal(timeUnixNano(events[0]!.timestamp));
    const attrs = Object.fromEntries(records[0]!.attributes.map((a) => [a.key, a.value]));
    expect(attrs['audit.id']).to.deep.equal({ stringValue: events[0]!.id });
    expect(attrs['audit.seq']).to.deep.equal({ intValue: '1' });
    expect(attrs['enduser.id']).to.deep.equal({ stringValue: 'alice' });
    expect(attrs['audit.details']).to.deep.equal({
      kvlistValue: {
        values: [
          { key: 'layers', value: { arrayValue: { values: [{ intValue: '64' }, { intValue: '32' }] } } },
          { key: 'lr', value: { doubleValue: 0.001 } },
          { key: 'nested', value: { kvlistValue: { values: [{ key: 'ok', value: { boolValue: true } }] } } },
        ],
      },
    });
    expect(attrs['host.name']).to.deep.equal({ stringValue: events[0]!.source.host });
    const failed = Object.fromEntries(records[2]!.attributes.map((a) => [a.key, a.value]));
    expect(failed['audit.error']).to.deep.equal({ stringValue: 'CUDA out of memory' });
  });

  it('maps severities by name, or by rank in a custom scheme, and timestamps to nanoseconds exactly', () => {
    expect(['success', 'failed'].map((s) => severityNumber(s, outcomeStatuses))).to.deep.equal([9, 17]);
    const custom = defineStatuses(['green', 'amber', 'red']);
    expect(['green', 'amber', 'red'].map((s) => severityNumber(s, custom))).to.deep.equal([9, 15, 21]);
    expect(timeUnixNano('2026-05-27T14:30:05.456789Z')).to.equal('1779892205456789000');
  });

  it('Elasticsearch/OpenSearch _bulk: NDJSON index actions with the event id as _id; refused items are dead-lettered, the rest delivered', async () => {
    server.answer = (request) => {
      const lines = request.body.toString().trimEnd().split('\n');
      const items = [];
      for (let i = 0; i < lines.length; i += 2) {
        const doc = JSON.parse(lines[i + 1]!) as AuditEvent;
        items.push(doc.details.bad ? { index: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse field [details.bad]' } } } : { index: { status: 201 } });
      }
      return { status: 200, body: JSON.stringify({ errors: items.some((i) => i.index.status >= 300), items }) };
    };
    const { events, requests, logger } = await deliver({ preset: 'elasticsearch', index: 'audit-2026' }, async (l) => [await l.logEvent('a'), await l.logEvent('b', { bad: 'yes' }), await l.logEvent('c')]);
    expect(requests[0]!.path).to.equal('/_bulk');
    expect(requests[0]!.headers['content-type']).to.equal('application/x-ndjson');
    const lines = requests[0]!.body.toString().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((_, i) => i % 2 === 0)).to.deep.equal(events.map((e) => ({ index: { _index: 'audit-2026', _id: e.id } })));
    expect(lines.filter((_, i) => i % 2 === 1)).to.deep.equal(JSON.parse(JSON.stringify(events)));
    expect(logger.stats().http).to.include({ delivered: 2, deadLettered: 1 });
  });

  it('Splunk HEC: /services/collector/event with "Authorization: Splunk <token>" and one event object per line', async () => {
    const { events, requests } = await deliver({ preset: 'splunk', token: 'hec-token-1', index: 'ml_audit' }, async (l) => [await l.logEvent('a'), await l.logEvent('b')]);
    expect(requests[0]!.path).to.equal('/services/collector/event');
    expect(requests[0]!.headers.authorization).to.equal('Splunk hec-token-1');
    const objects = requests[0]!.body.toString().split('\n').map((l) => JSON.parse(l) as { time: number; host: string; index: string; sourcetype: string; event: AuditEvent });
    expect(objects.map((o) => o.event.id)).to.deep.equal(events.map((e) => e.id));
    expect(objects[0]).to.include({ index: 'ml_audit', sourcetype: 'auditrail:event', host: events[0]!.source.host });
    expect(objects[0]!.time).to.be.closeTo(Date.parse(events[0]!.timestamp) / 1000, 0.001);
  });

  it('generic NDJSON, custom headers, and a custom body hook', async () => {
    const ndjson = await deliver({ url: server.url('/in'), format: 'ndjson', headers: { Authorization: 'Bearer abc' } }, async (l) => [await l.logEvent('a'), await l.logEvent('b')]);
    expect(ndjson.requests[0]!.headers.authorization).to.equal('Bearer abc');
    expect(ndjson.requests[0]!.body.toString()).to.equal(ndjson.events.map((e) => JSON.stringify(e) + '\n').join(''));
    server.requests.length = 0;
    const custom = await deliver({ url: server.url('/custom'), body: (batch) => ({ data: batch.map((e) => e.action_type).join('|'), contentType: 'text/plain' }) }, async (l) => [await l.logEvent('x'), await l.logEvent('y')]);
    expect(custom.requests[0]!.body.toString()).to.equal('x|y');
    expect(custom.requests[0]!.headers['content-type']).to.equal('text/plain');
  });

  it('fails fast on bad options with a message naming the option', () => {
    const bad: [Partial<HttpSinkOptions>, string][] = [
      [{}, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: 'ftp://example.com' }, 'url'],
      [{ url: 'http://x', preset: 'loki' as 'json' }, 'preset'],
      [{ url: 'http://x', format: 'xml' as 'json' }, 'format'],
      [{ url: 'http://x', preset: 'otlp', format: 'ndjson' }, 'format'],
      [{ url: 'http://x', gzip: 'yes' as unknown as boolean }, 'gzip'],
      [{ url: 'http://x', timeoutMs: 0 }, 'timeoutMs'],
      [{ url: 'http://x', headers: { 'X-Bad': 'a\r\nInjected: 1' } }, 'headers.X-Bad'],
      [{ url: 'http://x', preset: 'splunk' }, 'token'],
      [{ url: 'http://x', body: 'not a function' as never }, 'body'],
      [{ url: 'http://x', name: '' }, 'name'],
      [{ url: 'http://x', retryStatuses: [503, 200] }, 'retryStatuses'],
    ];
    for (const [options, option] of bad) {
      expect(() => new HttpSink(options as HttpSinkOptions), JSON.stringify(options)).to.throw(InvalidOptionError, `"${option}"`);
    }
  });

  it('refuses a misspelled option name, naming the option meant, before creating a client; other unknown names are left alone', () => {
    const clients = sinon.spy(axios, 'create');
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const misspelled: [Record<string, unknown>, string, string][] = [
        [{ timeout: 60_000 }, 'timeout', 'timeoutMs'], // would have left the 10 s default
        [{ header: { Authorization: 'Bearer s3cret' } }, 'header', 'headers'], // would have sent no credentials
        [{ keepalive: false }, 'keepalive', 'keepAlive'],
      ];
      for (const [options, name, meant] of misspelled) {
        expect(() => new HttpSink({ url, ...options } as HttpSinkOptions), name).to.throw(InvalidOptionError, `Invalid option "${name}": is not an option; did you mean "${meant}"?`);
      }
      // Checked first: a misspelling is named even next to an option that is bad in another way.
      expect(() => new HttpSink({ url: 'not a url', timeout: 5 } as HttpSinkOptions)).to.throw(InvalidOptionError, '"timeout"');
      expect(clients.callCount, 'no client created').to.equal(0);
      const sink = new HttpSink({ url, team: 'ml-platform' } as HttpSinkOptions);
      expect(sink.url).to.equal(`${url}/`);
      expect(clients.callCount).to.equal(1);
      expect(server.requests, 'nothing sent').to.deep.equal([]);
      return sink.shutdown();
    } finally {
      clients.restore();
    }
  });

  it('refuses a timeoutMs a Node timer cannot hold, and keeps the derived export timeout within MAX_TIMER_MS', () => {
    for (const timeoutMs of [3e9, MAX_TIMER_MS + 1, Infinity, NaN, -1, 0, '500' as unknown as number]) {
      expect(() => new HttpSink({ url: 'http://x', timeoutMs }), String(timeoutMs)).to.throw(InvalidOptionError, '"timeoutMs"');
    }
    expect(new HttpSink({ url: 'http://x', timeoutMs: 2000 }).delivery.exportTimeoutMs).to.equal(3000);
    expect(new HttpSink({ url: 'http://x', timeoutMs: MAX_TIMER_MS }).delivery.exportTimeoutMs).to.equal(MAX_TIMER_MS);
    expect(new HttpSink({ url: 'http://x', timeoutMs: MAX_TIMER_MS - 500 }).delivery.exportTimeoutMs).to.equal(MAX_TIMER_MS);
  });

  it('refuses a token holding CR, LF or other control characters, or a leading or trailing space (axios would strip them, and the endpoint refuse the token)', () => {
    for (const token of ['abc\r\nX-Injected: 1', 'abc\nX', 'abc\rX', 'a\tb', 'a\u0000b', 'a\u0001b', 'a\u007fb', 'a\u20acb', 'abc ', ' abc', ' ', 'abc\t']) {
      expect(() => new HttpSink({ url: 'http://x', preset: 'splunk', token }), JSON.stringify(token)).to.throw(InvalidOptionError, '"token"');
    }
    expect(() => new HttpSink({ url: 'http://x', preset: 'splunk', token: 'abc ' })).to.throw(InvalidOptionError, /begin or end with a space or a tab: axios trims them/);
  });

  it('refuses header values axios would alter (control characters, characters above U+00FF, a leading or trailing space or tab), and a name with control characters', () => {
    for (const value of ['a\u0001b', 'a\u007fb', 'a\u001bb', 'a\u20acb', '\tpadded value\t', ' lead', 'trail ', 'trail\t', '\tlead', ' ', '\t']) {
      expect(() => new HttpSink({ url: 'http://x', headers: { 'X-Key': value } }), JSON.stringify(value)).to.throw(InvalidOptionError, '"headers.X-Key"');
    }
    expect(() => new HttpSink({ url: 'http://x', headers: { 'X-Key': '\tpadded value\t' } })).to.throw(InvalidOptionError, /begin or end with a space or a tab: axios trims them/);
    expect(() => new HttpSink({ url: 'http://x', name: 'audit\nFAKE LINE' })).to.throw(InvalidOptionError, '"name"');
  });

  it('sends a valid token and header values (tab and Latin-1 included) exactly as given, and refuses every value it could not send so', async () => {
    const { requests } = await deliver({ preset: 'splunk', token: '0f1e2d3c-abcd-4ef0-9876-0123456789ab', headers: { 'X-Note': 'caf\u00e9\tok', 'X-Inner': 'a \t b' } }, async (l) => [await l.logEvent('a')]);
    expect(requests[0]!.headers.authorization).to.equal('Splunk 0f1e2d3c-abcd-4ef0-9876-0123456789ab');
    expect(requests[0]!.headers['x-note']).to.equal('caf\u00e9\tok');
    expect(requests[0]!.headers['x-inner']).to.equal('a \t b');
    // Whatever the sink accepts must arrive unaltered: axios trims spaces and tabs at both ends.
    const values = ['\tpadded value\t', ' lead', 'trail ', 'trail\t', 'inner  spaces', 'x'];
    const accepted = values.filter((value) => {
      try {
        new HttpSink({ url: 'http://x', headers: { 'X-Value': value } });
        return true;
      } catch (err) {
        expect(err, JSON.stringify(value)).to.be.instanceOf(InvalidOptionError);
        return false;
      }
    });
    const headers = Object.fromEntries(accepted.map((value, i) => [`X-Value-${i}`, value]));
    const tokens = ['tok en', 'token ', ' token'].filter((token) => {
      try {
        new HttpSink({ url: 'http://x', preset: 'splunk', token });
        return true;
      } catch (err) {
        expect(err, JSON.stringify(token)).to.be.instanceOf(InvalidOptionError);
        return false;
      }
    });
    for (const token of tokens) {
      server.requests.length = 0;
      const { requests: sent } = await deliver({ preset: 'splunk', token, headers }, async (l) => [await l.logEvent('a')]);
      expect(sent[0]!.headers.authorization, JSON.stringify(token)).to.equal(`Splunk ${token}`);
      accepted.forEach((value, i) => expect(sent[0]!.headers[`x-value-${i}`], JSON.stringify(value)).to.equal(value));
    }
    expect(accepted).to.deep.equal(['inner  spaces', 'x']);
    expect(tokens).to.deep.equal(['tok en']);
  });

  it('parses Retry-After as delay-seconds or an HTTP date, and ignores anything else', () => {
    const now = Date.parse('2026-05-27T14:30:00Z');
    expect(parseRetryAfter('120', now)).to.equal(120_000);
    expect(parseRetryAfter('Wed, 27 May 2026 14:30:30 GMT', now)).to.equal(30_000);
    expect(parseRetryAfter('Wed, 27 May 2026 14:29:00 GMT', now)).to.equal(0);
    expect(parseRetryAfter('1.5', now)).to.equal(undefined);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter(undefined, now)).to.equal(undefined);
  });
});
