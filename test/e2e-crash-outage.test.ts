// End to end (issue 3): a child logs 20,000 events to Postgres and HTTP; it is SIGKILLed mid-run and restarted while
// the HTTP endpoint refuses connections and the Postgres connections are terminated. Postgres ends with exactly the
// acknowledged events, once each; the HTTP server has received each at least once.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { DEAD_LETTER_FILE, readEvents, type AuditEvent } from '@auditrail/core';
import type { Client } from 'pg';
import { adminClient, counts, Scratch, stored, terminate, uniqueName } from '../packages/postgres/test/helpers';
import { TcpProxy } from '../packages/postgres/test/tcp-proxy';
import { spawnTs } from './helpers/node';
import { tempDir } from './helpers/tmp';

const FIXTURE = join(__dirname, 'fixtures', 'e2e-remote-logger.ts');
const TOTAL = 20_000;

/** A child of the fixture, with what it reported so far. */
class LoggerChild {
  readonly process: ChildProcess;
  lastAck = 0;
  flushed: { ok: boolean } | undefined;
  private output = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(args: string[]) {
    this.process = spawnTs(FIXTURE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    this.process.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    this.process.stdout!.on('data', (d: Buffer) => this.read(d.toString()));
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(({ code }) => {
      if (code !== 0 && code !== null) this.output += `\nstderr: ${stderr}`;
      for (const w of this.waiters.splice(0)) w.resolve();
    });
  }

  /** Resolves once the child acknowledged `seq` (or exited). */
  acked(seq: number): Promise<void> {
    return this.until(() => this.lastAck >= seq);
  }

  /** Exit code and signal. */
  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  /** What the child printed that was not an ack (for failure messages). */
  get log(): string {
    return this.output;
  }

  private until(test: () => boolean): Promise<void> {
    if (test() || this.process.exitCode !== null || this.process.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  private pending = '';
  private read(chunk: string): void {
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('ack ')) this.lastAck = Math.max(this.lastAck, Number(line.slice(4)));
      else if (line.startsWith('flushed ')) this.flushed = JSON.parse(line.slice(8)) as { ok: boolean };
      else this.output += line + '\n';
    }
    for (const w of [...this.waiters]) {
      if (!w.test()) continue;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }
}

/** An HTTP endpoint that counts the events it receives, by id. */
async function eventServer(): Promise<{ server: Server; port: number; received: Map<string, number> }> {
  const received = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      for (const event of JSON.parse(Buffer.concat(chunks).toString()) as AuditEvent[]) received.set(event.id, (received.get(event.id) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, received };
}

describe('end to end: crash and outages with Postgres and HTTP sinks', function () {
  this.timeout(180_000);
  let admin: Client;
  const scratch = new Scratch();
  const children: LoggerChild[] = [];

  before(async () => (admin = await adminClient()));
  after(async () => {
    for (const child of children) child.process.kill('SIGKILL');
    await scratch.dropAll(admin);
    await admin.end();
  });

  it('keeps exactly the acknowledged events in Postgres, once each, and every event reaches HTTP at least once', async () => {
    const dir = tempDir('auditrail-e2e-');
    const table = scratch.table('e2e');
    const app = uniqueName('e2e_app');
    const http = await eventServer();
    const proxy = new TcpProxy('127.0.0.1', http.port);
    await proxy.start();
    const args = [dir, table, app, `http://127.0.0.1:${proxy.port}/events`, String(TOTAL)];
    let killing = false;
    let killed = 0;
    const killer = async () => {
      while (killing) {
        killed += await terminate(admin, app);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      // Run 1: outages start a quarter of the way in; SIGKILL at about half.
      const first = new LoggerChild(args);
      children.push(first);
      await first.acked(TOTAL / 4);
      await proxy.stop();
      killing = true;
      const killing1 = killer();
      await first.acked(TOTAL / 2);
      first.process.kill('SIGKILL');
      const firstExit = await first.exit();
      expect(firstExit.signal, first.log).to.equal('SIGKILL');
      expect(first.lastAck, 'killed mid-run').to.be.within(TOTAL / 2, TOTAL - 1);
      const httpAtKill = http.received.size;
      const pgAtKill = (await counts(admin, table)).rows;
      // Both sides were behind when the child died: the restart has to resume from the cursors.
      expect(httpAtKill, 'HTTP was down').to.be.below(first.lastAck);
      console.log(`      at the kill: ${first.lastAck} acknowledged, ${pgAtKill} in Postgres, ${httpAtKill} over HTTP`);

      // Run 2 starts while both sides are still down; they come back a little later.
      const second = new LoggerChild(args);
      children.push(second);
      await second.acked(first.lastAck + 2000);
      killing = false;
      await killing1;
      await proxy.start();
      const secondExit = await second.exit();
      expect(secondExit, second.log).to.deep.equal({ code: 0, signal: null });
      expect(second.flushed?.ok, second.log).to.equal(true);
      expect(second.lastAck).to.equal(TOTAL);
      expect(killed, 'Postgres connections were terminated').to.be.greaterThan(0);

      // The journal holds the events both runs acknowledged (plus at most the one written as the kill landed).
      const journal: AuditEvent[] = [];
      for await (const event of readEvents(join(dir, 'audit_log.jsonl'))) journal.push(event);
      expect(journal.map((e) => e.seq)).to.deep.equal(Array.from({ length: TOTAL }, (_, i) => i + 1));

      // Postgres: exactly those events, once each, as written.
      expect(await counts(admin, table)).to.deep.equal({ rows: TOTAL, ids: TOTAL });
      expect(await stored(admin, table)).to.deep.equal(journal);

      // HTTP: each at least once (retries after a lost answer or the crash may repeat some), nothing unknown.
      const missing = journal.filter((e) => !http.received.has(e.id));
      expect(missing.length, 'events never received over HTTP').to.equal(0);
      expect(http.received.size).to.equal(TOTAL);
      const repeats = [...http.received.values()].filter((n) => n > 1).length;
      console.log(`      ${killed} Postgres connections terminated; ${repeats} events received twice over HTTP`);
      expect(existsSync(join(dir, DEAD_LETTER_FILE)), 'nothing dead-lettered').to.equal(false);
    } finally {
      killing = false;
      await proxy.stop();
      await new Promise((resolve) => http.server.close(resolve));
    }
  });

});
