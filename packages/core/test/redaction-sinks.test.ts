// No secret byte reaches a Postgres row or an HTTP request body; the table written by the real sink verifies as intact.
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { AuditLogger } from '@auditrail/core';
import { HttpSink } from '@auditrail/http';
import { PostgresSink, verifyPostgresTable } from '@auditrail/postgres';
import { tempDir } from '../../../test/helpers/tmp';

const SECRETS = ['pg-pw-4417', 'otlp-token-9981', 'before-secret-x1', 'after-secret-x2', 'url-pw-5150'];
const PG = { host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres', database: process.env.PGDATABASE ?? 'test' };

describe('redaction reaches remote sinks too', () => {
  let server: Server;
  let bodies: string[];
  let url: string;
  const table = `redaction_test_${process.pid}_${Date.now()}`;
  const client = new Client({ ...PG, connectionTimeoutMillis: 10_000 });

  before(async () => {
    bodies = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await client.connect();
  });

  after(async () => {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.end();
    await new Promise((resolve) => server.close(resolve));
  });

  it('no secret in a Postgres row or in an HTTP body (generic JSON and OTLP), and the table verifies', async () => {
    const logger = new AuditLogger({
      rootLogDir: tempDir(),
      format: 'jsonl',
      sinks: [new PostgresSink({ client: PG, table }), new HttpSink({ url, name: 'json' }), new HttpSink({ url, preset: 'otlp', name: 'otlp' })],
    });
    await logger.logEvent('db_connect', { db: { user: 'app', password: 'pg-pw-4417' }, exporter: { Authorization: 'Bearer otlp-token-9981' } });
    await logger.logEvent('hp_change', { changed_params: { api_key: { before: 'before-secret-x1', after: 'after-secret-x2' } } });
    await logger.logEvent({ action: 'sync_failed', status: 'FAILURE', error: 'GET https://bot:url-pw-5150@registry.example/v2 failed' });
    await logger.flush();
    await logger.close();
    const rows = (await client.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t ORDER BY seq`)).rows.map((r) => r.row);
    expect(rows).to.have.length(3);
    expect(bodies.length).to.be.greaterThan(1);
    for (const secret of SECRETS) {
      for (const row of rows) expect(row, `${secret} in a row`).not.to.include(secret);
      for (const body of bodies) expect(body, `${secret} in an HTTP body`).not.to.include(secret);
    }
    expect(rows.join('\n')).to.include('[REDACTED]');
    const report = await verifyPostgresTable({ connection: client, table });
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.logs[0]!.events).to.equal(3);
  });
});
