// auditMiddleware with real HTTP requests against an Express app on 127.0.0.1, port 0.
import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AuditLogger, InvalidOptionError, MemorySink, outcomeStatuses, pipelineStatuses } from '@auditrail/core';
import { auditErrors, auditMiddleware, type ExpressAuditOptions } from '@auditrail/express';

interface Running {
  base: string;
  server: Server;
  memory: MemorySink;
  logger: AuditLogger;
}

/** The control plane: a router of experiment routes, behind a toy auth middleware that sets req.user. */
function buildApp(options: Omit<ExpressAuditOptions, 'logger'>, logger: AuditLogger): express.Express {
  const app = express();
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const auth = req.get('authorization');
    if (auth?.startsWith('Bearer ')) (req as Request & { user?: unknown }).user = { id: auth.slice(7), role: 'researcher' };
    next();
  });
  app.use(express.json());
  app.use(auditMiddleware({ logger, ...options }));
  const experiments = express.Router();
  let paused = false;
  experiments.post('/:id/hp', (req, res) => {
    res.json({ ok: true, changed: req.body as unknown });
  });
  experiments.post('/:id/pause', (_req, res) => {
    if (paused) return void res.status(409).json({ error: 'already paused' });
    paused = true;
    res.json({ ok: true });
  });
  experiments.delete('/:id/samples', (_req, res) => {
    res.status(204).end();
  });
  experiments.get('/:id', (req, res) => {
    res.json({ id: req.params.id, paused });
  });
  experiments.post('/:id/slow', (_req, res) => {
    setTimeout(() => {
      if (!res.destroyed) res.json({ ok: true });
    }, 300);
  });
  experiments.post('/:id/restore', async (req) => {
    await new Promise((r) => setTimeout(r, 1));
    throw new RangeError(`checkpoint ${String((req.body as { id?: unknown }).id)} not found`);
  });
  app.use('/experiments', experiments);
  app.use(auditErrors());
  app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: 'internal' });
  });
  return app;
}

async function start(options: Omit<ExpressAuditOptions, 'logger'> = {}, logger = new AuditLogger({ format: 'none', statuses: outcomeStatuses })): Promise<Running> {
  const memory = new MemorySink();
  logger.addSink(memory);
  const server = buildApp(options, logger).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, memory, logger };
}

async function stop(running: Running): Promise<void> {
  running.server.closeAllConnections();
  await new Promise<void>((resolve) => running.server.close(() => resolve()));
  await running!.logger.close();
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).to.equal(true);
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<globalThis.Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
}

describe('auditMiddleware (Express)', () => {
  let running: Running | undefined;
  afterEach(async () => {
    if (running) await stop(running);
    running = undefined;
  });

  it('records one event per changing request: route pattern, status code, duration and actor from the header', async () => {
    running = await start({ action: { 'POST /experiments/:id/hp': 'hp_change' }, details: (req) => ({ experiment: req.params.id, changed_params: req.body as unknown }) });
    const res = await post(`${running!.base}/experiments/exp-1/hp?token=s3cret`, { learning_rate: 0.001 }, { 'x-actor': 'alice' });
    expect(res.status).to.equal(200);
    await until(() => running!.memory.events.length === 1);
    const [event] = running!.memory.events;
    expect(event).to.deep.include({ action_type: 'hp_change', status: 'success', actor: 'alice', error: null });
    expect(event!.details).to.deep.include({
      method: 'POST',
      route: '/experiments/:id/hp',
      path: '/experiments/exp-1/hp',
      status_code: 200,
      experiment: 'exp-1',
      changed_params: { learning_rate: 0.001 },
    });
    expect(event!.details.duration_ms).to.be.a('number');
    expect(JSON.stringify(event)).not.to.include('s3cret'); // the query string is not recorded
  });

  it('records failures (4xx, and 404 with no route) and skips reads by default', async () => {
    running = await start();
    await post(`${running!.base}/experiments/exp-1/pause`, {}, { authorization: 'Bearer bob' });
    await post(`${running!.base}/experiments/exp-1/pause`, {}, { authorization: 'Bearer bob' });
    await fetch(`${running!.base}/experiments/exp-1`);
    await fetch(`${running!.base}/experiments/exp-1/samples`, { method: 'DELETE' });
    await post(`${running!.base}/nowhere`, {});
    await until(() => running!.memory.events.length === 4);
    expect(running!.memory.events.map((e) => [e.action_type, e.status, e.details.status_code, e.actor, e.error])).to.deep.equal([
      ['POST /experiments/:id/pause', 'success', 200, 'bob', null],
      ['POST /experiments/:id/pause', 'failed', 409, 'bob', 'HTTP 409 Conflict'],
      ['DELETE /experiments/:id/samples', 'success', 204, null, null],
      ['POST /nowhere', 'failed', 404, null, 'HTTP 404 Not Found'],
    ]);
    expect(running!.memory.events[3]!.details.route).to.equal(null);
  });

  it('records a request to a long unmatched path under the path cut to 256 characters, the whole path in details (a client cannot make its request go unrecorded)', async () => {
    running = await start();
    const path = `/nowhere/${'x'.repeat(400)}`;
    await post(`${running!.base}${path}`, {});
    await until(() => running!.memory.events.length === 1);
    const [event] = running!.memory.events;
    expect(event!.action_type).to.have.length(256);
    expect(event!.action_type).to.equal(`POST ${path}`.slice(0, 255) + '…');
    expect(event!.details).to.deep.include({ path, status_code: 404, route: null });
  });

  it('records the error a route threw when auditErrors() is mounted after the routes', async () => {
    running = await start({ action: { 'POST /experiments/:id/restore': 'checkpoint_restore' } });
    const res = await post(`${running!.base}/experiments/exp-1/restore`, { id: 'ckpt_404' }, { 'x-actor': 'alice' });
    expect(res.status).to.equal(500);
    expect(await res.json()).to.deep.equal({ error: 'internal' }); // the error went on to the app's own handler
    await until(() => running!.memory.events.length === 1);
    expect(running!.memory.events[0]).to.deep.include({ action_type: 'checkpoint_restore', status: 'failed', error: 'RangeError: checkpoint ckpt_404 not found', actor: 'alice' });
    expect(running!.memory.events[0]!.details.status_code).to.equal(500);
  });

  it('names actions with a function, which may leave a request unrecorded, and audits reads when asked', async () => {
    running = await start({
      include: () => true,
      action: (req) => (req.method === 'GET' ? 'experiment_view' : req.path.endsWith('/pause') ? 'pause' : undefined),
      statuses: {},
    });
    await fetch(`${running!.base}/experiments/exp-9`);
    await post(`${running!.base}/experiments/exp-9/hp`, { batch_size: 64 });
    await post(`${running!.base}/experiments/exp-9/pause`, {});
    await until(() => running!.memory.events.length === 2);
    expect(running!.memory.events.map((e) => e.action_type)).to.deep.equal(['experiment_view', 'pause']);
  });

  it('records a request whose client disconnects as failed and aborted', async () => {
    running = await start({ action: { 'POST /experiments/:id/slow': 'evaluation_start' } });
    const controller = new AbortController();
    const aborted = fetch(`${running!.base}/experiments/exp-2/slow`, { method: 'POST', signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 50);
    await aborted;
    await until(() => running!.memory.events.some((e) => e.details.aborted === true));
    const event = running!.memory.events.find((e) => e.details.aborted === true)!;
    expect(event).to.deep.include({ action_type: 'evaluation_start', status: 'failed', error: 'client disconnected before the response was complete' });
    expect(event.details.path).to.equal('/experiments/exp-2/slow');
  });

  it('uses the scheme of the logger and the statuses given', async () => {
    running = await start({ statuses: { failure: 'WARNING' } }, new AuditLogger({ format: 'none', statuses: pipelineStatuses }));
    await post(`${running!.base}/experiments/e/pause`, {});
    await post(`${running!.base}/experiments/e/pause`, {});
    await until(() => running!.memory.events.length === 2);
    expect(running!.memory.events.map((e) => e.status)).to.deep.equal(['INFO', 'WARNING']);
  });

  it('reports an event it could not record to onError, never to the client', async () => {
    const errors: unknown[] = [];
    running = await start({ onError: (err) => errors.push(err) });
    await running!.logger.close();
    const res = await post(`${running!.base}/experiments/e/pause`, {});
    expect(res.status).to.equal(200);
    await until(() => errors.length === 1);
    expect((errors[0] as Error).message).to.match(/closed/);
  });

  it('refuses bad options, naming them', () => {
    const logger = new AuditLogger({ format: 'none' });
    expect(() => auditMiddleware({} as never)).to.throw(/"logger"/);
    expect(() => auditMiddleware({ logger, action: 'hp_change' as never })).to.throw(/"action"/);
    expect(() => auditMiddleware({ logger, include: true as never })).to.throw(/"include"/);
  });

  it('refuses a misspelled option name, in the options or in statuses, naming the option meant; other unknown names are left alone', () => {
    const logger = new AuditLogger({ format: 'none', statuses: outcomeStatuses });
    const misspelled: [Record<string, unknown>, string, string][] = [
      [{ actor_header: 'x-user' }, 'actor_header', 'actorHeader'], // would have read the actor from x-actor instead
      [{ detail: () => ({ run: 1 }) }, 'detail', 'details'], // would have recorded no details
      [{ status: { failure: 'failed' } }, 'status', 'statuses'],
      [{ statuses: { succes: 'success' } }, 'statuses.succes', 'success'],
    ];
    for (const [options, name, meant] of misspelled) {
      expect(() => auditMiddleware({ logger, ...options } as ExpressAuditOptions), name).to.throw(InvalidOptionError, `Invalid option "${name}": is not an option; did you mean "${meant}"?`);
    }
    // Checked first: a misspelling is named even next to an option that is bad in another way.
    expect(() => auditMiddleware({ logger, include: true, detail: () => ({}) } as never)).to.throw(InvalidOptionError, '"detail"');
    expect(() => auditMiddleware({ logger, team: 'ml-platform' } as ExpressAuditOptions)).not.to.throw();
  });

  it('refuses action map values the logger would refuse, naming the route (the event would be lost)', () => {
    const logger = new AuditLogger({ format: 'none' });
    for (const name of ['', '  ', 42, null, 'hp change\n', 'x'.repeat(257)]) {
      expect(() => auditMiddleware({ logger, action: { 'POST /experiments/:id/hp': name as never } }), JSON.stringify(name))
        .to.throw(InvalidOptionError)
        .with.property('option', 'action.POST /experiments/:id/hp');
    }
    expect(() => auditMiddleware({ logger, action: ['hp_change'] as never })).to.throw(InvalidOptionError).with.property('option', 'action');
    expect(() => auditMiddleware({ logger, statuses: 'failed' as never })).to.throw(InvalidOptionError).with.property('option', 'statuses');
    expect(() => auditMiddleware({ logger, action: { 'POST /experiments/:id/hp': 'hp_change' } })).not.to.throw();
  });

  it('keeps the default rule when failed() throws, recording failed_error, and the host keeps running', async () => {
    running = await start({
      failed: (code) => {
        if (code === 409) throw new Error('no rule for 409');
        return code >= 500;
      },
    });
    await post(`${running!.base}/experiments/e/pause`, {});
    await post(`${running!.base}/experiments/e/pause`, {}); // 409
    await until(() => running!.memory.events.length === 2);
    expect(running!.memory.events.map((e) => [e.status, e.details.status_code, e.details.failed_error])).to.deep.equal([
      ['success', 200, undefined],
      ['failed', 409, 'no rule for 409'],
    ]);
  });

  it('reports an onError that throws, or rejects, as a process warning instead of crashing the host', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      for (const onError of [
        () => {
          throw new Error('pager down');
        },
        () => Promise.reject(new Error('pager down')),
      ]) {
        running = await start({ onError });
        await running!.logger.close();
        const res = await post(`${running!.base}/experiments/e/pause`, {});
        expect(res.status).to.equal(200);
        await until(() => warnings.length === 1);
        expect(warnings.pop()).to.match(/HTTP audit event was not recorded: AuditLogger is closed.*; onError (threw|rejected): pager down/);
        await stop(running!);
        running = undefined;
      }
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('warns, without an onError, with the type, code and message shape the gRPC interceptor uses, naming the request', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      running = await start();
      await running!.logger.close();
      const res = await post(`${running!.base}/experiments/e/pause?token=s3cret`, {});
      expect(res.status).to.equal(200);
      await until(() => warnings.some((w) => w.name === 'AuditrailWarning'));
      const warning = warnings.find((w) => w.name === 'AuditrailWarning')!;
      expect(warning).to.include({ code: 'EVENT_NOT_RECORDED' });
      expect(warning.message).to.equal('auditrail: an HTTP audit event was not recorded: AuditLogger is closed: no more events are accepted (request POST /experiments/e/pause)');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('refuses callbacks that are not functions, saying what was given', () => {
    const logger = new AuditLogger({ format: 'none' });
    for (const key of ['include', 'actor', 'details', 'failed', 'onError'] as const) {
      expect(() => auditMiddleware({ logger, [key]: 'log' as never }), key)
        .to.throw(InvalidOptionError, `Invalid option "${key}": must be a function, got "log"`)
        .with.property('option', key);
    }
    expect(() => auditMiddleware({ logger, statuses: ['failed'] as never })).to.throw(InvalidOptionError, /"statuses": an array is not an object/);
  });

  it('records a request whose action function returns a bad name, or whose include() throws, with the reason', async () => {
    running = await start({
      include: (req) => {
        if (req.method === 'GET') throw new Error('include broke');
        return true;
      },
      action: (req) => (req.method === 'GET' ? 'experiment_view' : ''),
      actor: () => ({ id: 'alice' }) as never,
    });
    await fetch(`${running!.base}/experiments/exp-9`);
    await post(`${running!.base}/experiments/exp-9/pause`, {});
    await until(() => running!.memory.events.length === 2);
    const events = [...running!.memory.events].sort((a, b) => String(a.details.method).localeCompare(String(b.details.method)));
    expect(events.map((e) => [e.action_type, e.details.include_error, e.details.action_error, e.actor, e.details.actor_error])).to.deep.equal([
      ['experiment_view', 'include broke', undefined, null, 'actor() returned an object, not a string'],
      ['POST /experiments/:id/pause', undefined, 'action() returned a bad action name: must be a non-empty string, got an empty one', null, 'actor() returned an object, not a string'],
    ]);
  });
});
