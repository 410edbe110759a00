// auditInterceptor with a real grpc-js server and client on 127.0.0.1, from a .proto loaded with @grpc/proto-loader.
import { expect } from 'chai';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { AuditLogger, InvalidOptionError, MemorySink, outcomeStatuses, type AuditEvent } from '@auditrail/core';
import { auditInterceptor, type GrpcAuditOptions } from '@auditrail/grpc';
import { tempDir } from '../../../test/helpers/tmp';
import { readFileSync } from 'node:fs';

interface CommandRequest {
  command: string;
  hyper_parameters?: Record<string, number>;
  note?: string;
}
interface Reply {
  ok: boolean;
  message: string;
  count: number;
}
type Unary<Req> = (request: Req, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, reply: Reply) => void) => grpc.ClientUnaryCall;
interface ExperimentClient extends grpc.Client {
  ExperimentCommand: Unary<CommandRequest>;
  RestoreCheckpoint: Unary<{ checkpoint_id: string }>;
  GetStatus: Unary<Record<string, never>>;
  ApplyDataQuery(request: { query_text: string; limit: number }, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<{ id: string; origin: string }>;
  EditDataSample(metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, reply: Reply) => void): grpc.ClientWritableStream<{ sample_id: string; tag: string }>;
  CommandStream(metadata: grpc.Metadata): grpc.ClientDuplexStream<CommandRequest, Reply>;
}

const definition = protoLoader.loadSync(join(__dirname, 'fixtures', 'experiment.proto'), { keepCase: true, longs: String, defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as { weightslab: { ExperimentService: grpc.ServiceClientConstructor } };
const Service = loaded.weightslab.ExperimentService;

/** The trainer the control plane drives. */
class Trainer {
  hp: Record<string, number> = { learning_rate: 0.01, batch_size: 32 };
  paused = false;
}

function implementation(trainer: Trainer): grpc.UntypedServiceImplementation {
  const reply = (message: string, count = 0): Reply => ({ ok: true, message, count });
  return {
    ExperimentCommand(call: grpc.ServerUnaryCall<CommandRequest, Reply>, callback: grpc.sendUnaryData<Reply>) {
      const { command, hyper_parameters } = call.request;
      if (command === 'pause') trainer.paused = true;
      else if (command === 'resume') trainer.paused = false;
      else if (command === 'set_hp') Object.assign(trainer.hp, hyper_parameters);
      else if (command === 'crash') throw new Error('handler blew up');
      else if (command !== 'status') return callback({ code: grpc.status.INVALID_ARGUMENT, details: `unknown command ${command}` });
      callback(null, reply(command));
    },
    RestoreCheckpoint(call: grpc.ServerUnaryCall<{ checkpoint_id: string }, Reply>, callback: grpc.sendUnaryData<Reply>) {
      const id = call.request.checkpoint_id;
      setImmediate(() => (id === 'ckpt_001' ? callback(null, reply('restored')) : callback({ code: grpc.status.NOT_FOUND, details: `checkpoint ${id} not found` })));
    },
    ApplyDataQuery(call: grpc.ServerWritableStream<{ query_text: string; limit: number }, unknown>) {
      let sent = 0;
      const timer = setInterval(() => {
        if (call.cancelled) return clearInterval(timer);
        if (call.request.limit > 0 && sent === call.request.limit) {
          clearInterval(timer);
          return call.end();
        }
        call.write({ id: `s${++sent}`, origin: sent % 2 ? 'train' : 'val' });
      }, 2);
    },
    EditDataSample(call: grpc.ServerReadableStream<{ sample_id: string; tag: string }, Reply>, callback: grpc.sendUnaryData<Reply>) {
      let count = 0;
      call.on('data', () => count++);
      call.on('end', () => callback(null, reply('tagged', count)));
    },
    CommandStream(call: grpc.ServerDuplexStream<CommandRequest, Reply>) {
      call.on('data', (request: CommandRequest) => call.write(reply(request.command)));
      call.on('end', () => call.end());
    },
    GetStatus(_call: grpc.ServerUnaryCall<unknown, Reply>, callback: grpc.sendUnaryData<Reply>) {
      callback(null, reply(trainer.paused ? 'paused' : 'running'));
    },
  };
}

const COMMAND_ACTIONS: Record<string, string | undefined> = { pause: 'pause', resume: 'resume', set_hp: 'hp_change', note: 'note_write', crash: 'experiment_command', bogus: 'experiment_command' };

function auditOptions(logger: AuditLogger, trainer: Trainer): GrpcAuditOptions {
  return {
    logger,
    methods: {
      ExperimentCommand: {
        action: ({ request }) => COMMAND_ACTIONS[(request as CommandRequest).command], // 'status' → undefined: not recorded
        details: ({ request }) => ((request as CommandRequest).command === 'set_hp' ? { changed_params: (request as CommandRequest).hyper_parameters } : undefined),
        before: () => ({ ...trainer.hp, paused: trainer.paused }),
        after: () => ({ ...trainer.hp, paused: trainer.paused }),
      },
      '/weightslab.ExperimentService/RestoreCheckpoint': { action: 'checkpoint_restore', details: ({ request }) => ({ checkpoint_id: (request as { checkpoint_id: string }).checkpoint_id }) },
      ApplyDataQuery: { action: 'query_execute', details: ({ request }) => ({ query_text: (request as { query_text: string }).query_text }) },
      EditDataSample: 'tag_add',
      CommandStream: 'command_stream',
      GetStatus: false,
    },
  };
}

async function start(options: GrpcAuditOptions, trainer: Trainer): Promise<{ server: grpc.Server; client: ExperimentClient }> {
  const server = new grpc.Server({ interceptors: [auditInterceptor(options)] });
  server.addService(Service.service, implementation(trainer));
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const client = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as ExperimentClient;
  return { server, client };
}

function unary<Req>(method: Unary<Req>, client: ExperimentClient, request: Req, actor?: string): Promise<Reply> {
  const metadata = new grpc.Metadata();
  if (actor) metadata.set('x-actor', actor);
  return new Promise((resolve, reject) => method.call(client, request, metadata, (err, reply) => (err ? reject(err) : resolve(reply))));
}

/** Starts the ApplyDataQuery server stream and cancels it at its first reply; resolves once the client saw it end. */
function cancelAfterFirstReply(client: ExperimentClient): Promise<void> {
  return new Promise((resolve) => {
    const stream = client.ApplyDataQuery({ query_text: 'all', limit: 0 }, new grpc.Metadata());
    stream.once('data', () => stream.cancel());
    stream.on('error', () => resolve());
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).to.equal(true);
}

describe('auditInterceptor (grpc-js server)', () => {
  let dir: string;
  let logger: AuditLogger;
  let memory: MemorySink;
  let trainer: Trainer;
  let server: grpc.Server;
  let client: ExperimentClient;

  beforeEach(async () => {
    dir = tempDir();
    memory = new MemorySink();
    logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', statuses: outcomeStatuses, sinks: [memory] });
    trainer = new Trainer();
    ({ server, client } = await start(auditOptions(logger, trainer), trainer));
  });

  afterEach(async () => {
    client.close();
    server.forceShutdown();
    await logger.close();
  });

  function fileEvents(): AuditEvent[] {
    return readFileSync(join(dir, 'audit_log.jsonl'), 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
  }

  it('records a unary call with method, code, duration, peer, actor and the before/after values, before the client has the reply', async () => {
    await unary(client.ExperimentCommand, client, { command: 'set_hp', hyper_parameters: { learning_rate: 0.001 } }, 'alice');
    const [event] = fileEvents(); // on disk already: the status waited for the record
    expect(event).to.deep.include({ action_type: 'hp_change', status: 'success', error: null, actor: 'alice' });
    const details = event!.details as Record<string, unknown>;
    expect(details).to.deep.include({
      method: '/weightslab.ExperimentService/ExperimentCommand',
      grpc_code: 0,
      grpc_status: 'OK',
      kind: 'unary',
      messages_in: 1,
      messages_out: 1,
      changed_params: { learning_rate: 0.001 },
      changed: ['learning_rate'],
      before: { learning_rate: 0.01 },
      after: { learning_rate: 0.001 },
    });
    expect(details.duration_ms).to.be.a('number');
    expect(details.peer).to.be.a('string').and.include('127.0.0.1');
  });

  it('maps ExperimentCommand to pause or resume from the request, and leaves read-only calls unrecorded', async () => {
    await unary(client.ExperimentCommand, client, { command: 'pause' }, 'bob');
    await unary(client.GetStatus, client, {});
    await unary(client.ExperimentCommand, client, { command: 'status' });
    await unary(client.ExperimentCommand, client, { command: 'resume' }, 'bob');
    expect(fileEvents().map((e) => [e.action_type, e.actor, e.details.changed])).to.deep.equal([
      ['pause', 'bob', ['paused']],
      ['resume', 'bob', ['paused']],
    ]);
  });

  it('records a unary error with its code and message, and the client still gets the error', async () => {
    const err = (await unary(client.RestoreCheckpoint, client, { checkpoint_id: 'ckpt_404' }).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).to.equal(grpc.status.NOT_FOUND);
    const [event] = fileEvents();
    expect(event).to.deep.include({ action_type: 'checkpoint_restore', status: 'failed', error: 'NOT_FOUND: checkpoint ckpt_404 not found', actor: null });
    expect(event!.details).to.deep.include({ checkpoint_id: 'ckpt_404', grpc_code: 5, grpc_status: 'NOT_FOUND' });
  });

  it('records a handler that throws as UNKNOWN, and an invalid argument as failed', async () => {
    const crash = (await unary(client.ExperimentCommand, client, { command: 'crash' }).catch((e: unknown) => e)) as grpc.ServiceError;
    const bogus = (await unary(client.ExperimentCommand, client, { command: 'bogus' }).catch((e: unknown) => e)) as grpc.ServiceError;
    expect([crash.code, bogus.code]).to.deep.equal([grpc.status.UNKNOWN, grpc.status.INVALID_ARGUMENT]);
    expect(fileEvents().map((e) => [e.status, e.details.grpc_status, e.error])).to.deep.equal([
      ['failed', 'UNKNOWN', 'UNKNOWN: Unknown error'], // grpc-js hides a thrown error's message from the status
      ['failed', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT: unknown command bogus'],
    ]);
  });

  it('records a server-streaming call once, when it ends, with the messages sent', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-actor', 'carol');
    const samples: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.ApplyDataQuery({ query_text: 'loss > 2', limit: 3 }, metadata);
      stream.on('data', (s) => samples.push(s));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    expect(samples).to.have.length(3);
    await until(() => memory.events.length === 1);
    expect(memory.events[0]).to.deep.include({ action_type: 'query_execute', status: 'success', actor: 'carol' });
    expect(memory.events[0]!.details).to.deep.include({ kind: 'server_stream', messages_out: 3, query_text: 'loss > 2', grpc_status: 'OK' });
  });

  it('records a server stream the client cancels as CANCELLED', async () => {
    await cancelAfterFirstReply(client);
    await until(() => memory.events.length === 1);
    expect(memory.events[0]).to.deep.include({ action_type: 'query_execute', status: 'failed' });
    expect(memory.events[0]!.details).to.include({ grpc_status: 'CANCELLED', kind: 'server_stream' });
  });

  it('records a client-streaming call with the messages received', async () => {
    const reply = await new Promise<Reply>((resolve, reject) => {
      const stream = client.EditDataSample(new grpc.Metadata(), (err, r) => (err ? reject(err) : resolve(r)));
      for (const id of ['s1', 's2', 's3', 's4']) stream.write({ sample_id: id, tag: 'defect' });
      stream.end();
    });
    expect(reply.count).to.equal(4);
    const [event] = fileEvents();
    expect(event).to.deep.include({ action_type: 'tag_add', status: 'success' });
    expect(event!.details).to.include({ kind: 'client_stream', messages_in: 4, messages_out: 1 });
  });
  it('records a bidirectional stream once, with the messages each way', async () => {
    const replies: Reply[] = [];
    await new Promise<void>((resolve, reject) => {
      const metadata = new grpc.Metadata();
      metadata.set('x-actor', 'erin');
      const stream = client.CommandStream(metadata);
      stream.on('data', (r: Reply) => replies.push(r));
      stream.on('error', reject);
      stream.on('end', resolve);
      for (const command of ['pause', 'resume', 'pause']) stream.write({ command });
      stream.end();
    });
    expect(replies.map((r) => r.message)).to.deep.equal(['pause', 'resume', 'pause']);
    await until(() => memory.events.length === 1);
    expect(memory.events[0]).to.deep.include({ action_type: 'command_stream', status: 'success', actor: 'erin' });
    expect(memory.events[0]!.details).to.include({ kind: 'bidi', messages_in: 3, messages_out: 3, grpc_status: 'OK' });
  });

  it('records a call that runs past its deadline as DEADLINE_EXCEEDED', async () => {
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const stream = client.ApplyDataQuery({ query_text: 'all', limit: 0 }, new grpc.Metadata(), { deadline: Date.now() + 100 });
      stream.on('data', () => undefined);
      stream.on('error', resolve);
    });
    expect(err.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
    await until(() => memory.events.length === 1);
    expect(memory.events[0]).to.deep.include({ status: 'failed', error: 'DEADLINE_EXCEEDED: Deadline exceeded' });
  });
});

describe('auditInterceptor options', () => {
  it('fails a successful call with INTERNAL when its event cannot be recorded', async () => {
    const logger = new AuditLogger({ format: 'none', statuses: outcomeStatuses });
    const trainer = new Trainer();
    const { server, client } = await start(auditOptions(logger, trainer), trainer);
    await logger.close();
    try {
      const err = (await unary(client.ExperimentCommand, client, { command: 'pause' }).catch((e: unknown) => e)) as grpc.ServiceError;
      expect(err.code).to.equal(grpc.status.INTERNAL);
      expect(err.details).to.match(/audit event was not recorded: AuditLogger is closed/);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('records the request when asked, reads the actor from a chosen key, and skips unlisted methods on request', async () => {
    const memory = new MemorySink();
    const logger = new AuditLogger({ format: 'none', statuses: outcomeStatuses, sinks: [memory] });
    const trainer = new Trainer();
    const { server, client } = await start({ logger, methods: { RestoreCheckpoint: 'checkpoint_restore' }, otherMethods: 'skip', recordRequest: true, actorKey: 'user-id' }, trainer);
    try {
      const metadata = new grpc.Metadata();
      metadata.set('user-id', 'dave');
      await new Promise((resolve, reject) => client.RestoreCheckpoint({ checkpoint_id: 'ckpt_001' }, metadata, (err, r) => (err ? reject(err) : resolve(r))));
      await unary(client.ExperimentCommand, client, { command: 'pause' });
      expect(memory.events.map((e) => [e.action_type, e.actor])).to.deep.equal([['checkpoint_restore', 'dave']]);
      expect(memory.events[0]!.details.request).to.deep.equal({ checkpoint_id: 'ckpt_001' });
    } finally {
      client.close();
      server.forceShutdown();
      await logger.close();
    }
  });

  it('hands the unrecorded event of a cancelled call to onError', async () => {
    const logger = new AuditLogger({ format: 'none', statuses: outcomeStatuses });
    const trainer = new Trainer();
    const failures: [unknown, string][] = [];
    const { server, client } = await start({ ...auditOptions(logger, trainer), onError: (err, call) => failures.push([err, call.method]) }, trainer);
    try {
      await logger.close();
      await cancelAfterFirstReply(client);
      await until(() => failures.length === 1);
      expect(failures[0]![1]).to.equal('ApplyDataQuery');
      expect((failures[0]![0] as Error).message).to.match(/closed/);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('refuses bad options, naming them', () => {
    const logger = new AuditLogger({ format: 'none' });
    expect(() => auditInterceptor({} as never)).to.throw(/"logger"/);
    expect(() => auditInterceptor({ logger, otherMethods: 'all' as never })).to.throw(/"otherMethods"/);
    expect(() => auditInterceptor({ logger, actorKey: 'X-Actor' })).to.throw(/"actorKey"/);
    expect(() => auditInterceptor({ logger, methods: { Pause: 3 as never } })).to.throw(/"methods.Pause"/);
    expect(() => auditInterceptor({ logger, onError: 'log' as never })).to.throw(/"onError"/);
  });

  it('refuses a misspelled option name, in the options, statuses or a method setting, naming the option meant; other unknown names are left alone', () => {
    const logger = new AuditLogger({ format: 'none', statuses: outcomeStatuses });
    const misspelled: [Record<string, unknown>, string, string][] = [
      [{ record_request: true }, 'record_request', 'recordRequest'], // would have left the request out of every event
      [{ otherMethod: 'skip' }, 'otherMethod', 'otherMethods'], // would have recorded every unlisted method
      [{ statuses: { failur: 'failed' } }, 'statuses.failur', 'failure'],
      [{ methods: { Pause: { action: 'pause', snapshot: 'full' } } }, 'methods.Pause.snapshot', 'snapshots'], // would have recorded a diff
    ];
    for (const [options, name, meant] of misspelled) {
      expect(() => auditInterceptor({ logger, ...options } as GrpcAuditOptions), name).to.throw(InvalidOptionError, `Invalid option "${name}": is not an option; did you mean "${meant}"?`);
    }
    // Checked first: a misspelling is named even next to an option that is bad in another way.
    expect(() => auditInterceptor({ logger, actorKey: 'X-Actor', record_request: true } as never)).to.throw(InvalidOptionError, '"record_request"');
    expect(() => auditInterceptor({ logger, team: 'ml-platform', methods: { Pause: { action: 'pause', owner: 'alice' } } } as GrpcAuditOptions)).not.to.throw();
  });

  it('refuses a method whose action the logger would refuse, in either form (the call would end INTERNAL, unrecorded)', () => {
    const logger = new AuditLogger({ format: 'none' });
    const refused: [unknown, string][] = [
      [{ action: '' }, 'methods.Pause.action'],
      [{ action: 42 }, 'methods.Pause.action'],
      [{ action: '  ' }, 'methods.Pause.action'],
      ['set lr\n', 'methods.Pause'],
      ['x'.repeat(257), 'methods.Pause'],
      [{ action: 'pause\u0000' }, 'methods.Pause.action'],
    ];
    for (const [entry, option] of refused) {
      expect(() => auditInterceptor({ logger, methods: { Pause: entry as never } }), JSON.stringify(entry)).to.throw(InvalidOptionError).with.property('option', option);
    }
    expect(() => auditInterceptor({ logger, methods: { Pause: 'set lr\n' } })).to.throw(/"methods\.Pause": "set lr\\n" contains control characters/);
    expect(() => auditInterceptor({ logger, methods: { Pause: 'x'.repeat(256), Resume: { action: () => 'resume' } } })).not.to.throw();
  });

  it('refuses method settings that are not functions, snapshots other than diff or full, and other mistyped options', () => {
    const logger = new AuditLogger({ format: 'none' });
    for (const key of ['details', 'before', 'after'] as const) {
      expect(() => auditInterceptor({ logger, methods: { Pause: { [key]: { lr: 1 } } as never } })).to.throw(InvalidOptionError).with.property('option', `methods.Pause.${key}`);
    }
    expect(() => auditInterceptor({ logger, methods: { Pause: { snapshots: 'whole' as never } } })).to.throw(InvalidOptionError).with.property('option', 'methods.Pause.snapshots');
    expect(() => auditInterceptor({ logger, methods: 'Pause' as never })).to.throw(InvalidOptionError).with.property('option', 'methods');
    expect(() => auditInterceptor({ logger, recordRequest: 'false' as never })).to.throw(InvalidOptionError).with.property('option', 'recordRequest');
    expect(() => auditInterceptor({ logger, statuses: 'failed' as never })).to.throw(InvalidOptionError).with.property('option', 'statuses');
    expect(() => auditInterceptor({ logger, methods: { Pause: { snapshots: 'full', before: () => 1 } }, recordRequest: false })).not.to.throw();
  });

  it('reports an onError that throws, or rejects, as a process warning instead of crashing the host', async () => {
    for (const onError of [
      () => {
        throw new Error('pager down');
      },
      () => Promise.reject(new Error('pager down')),
    ]) {
      const logger = new AuditLogger({ format: 'none', statuses: outcomeStatuses });
      const trainer = new Trainer();
      const warnings: string[] = [];
      const onWarning = (w: Error): void => void warnings.push(w.message);
      process.on('warning', onWarning);
      const { server, client } = await start({ ...auditOptions(logger, trainer), onError }, trainer);
      try {
        await logger.close();
        await cancelAfterFirstReply(client);
        await until(() => warnings.some((w) => w.includes('ApplyDataQuery')));
        expect(warnings.find((w) => w.includes('ApplyDataQuery'))).to.match(/was not recorded: AuditLogger is closed.*; onError (threw|rejected): pager down/);
      } finally {
        process.off('warning', onWarning);
        client.close();
        server.forceShutdown();
      }
    }
  });

  it('warns, without an onError, with the type, code and message shape the Express middleware uses, naming the call', async () => {
    const logger = new AuditLogger({ format: 'none', statuses: outcomeStatuses });
    const trainer = new Trainer();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const { server, client } = await start(auditOptions(logger, trainer), trainer);
    try {
      await logger.close();
      await cancelAfterFirstReply(client);
      await until(() => warnings.some((w) => w.message.includes('ApplyDataQuery')));
      const warning = warnings.find((w) => w.message.includes('ApplyDataQuery'))!;
      expect(warning).to.include({ name: 'AuditrailWarning', code: 'EVENT_NOT_RECORDED' });
      expect(warning.message).to.equal('auditrail: a gRPC audit event was not recorded: AuditLogger is closed: no more events are accepted (cancelled call /weightslab.ExperimentService/ApplyDataQuery)');
    } finally {
      process.off('warning', onWarning);
      client.close();
      server.forceShutdown();
    }
  });

  it('says what was given when it refuses a choice or a callback', () => {
    const logger = new AuditLogger({ format: 'none' });
    expect(() => auditInterceptor({ logger, otherMethods: 'all' as never })).to.throw(InvalidOptionError, 'Invalid option "otherMethods": "all" is not one of "record", "skip"');
    expect(() => auditInterceptor({ logger, methods: { Pause: { snapshots: 'whole' as never } } })).to.throw(InvalidOptionError, 'Invalid option "methods.Pause.snapshots": "whole" is not one of "diff", "full"');
    expect(() => auditInterceptor({ logger, methods: { Pause: { before: { lr: 1 } as never } } })).to.throw(InvalidOptionError, 'Invalid option "methods.Pause.before": must be a function, got an object');
    for (const key of ['actor', 'onError'] as const) {
      expect(() => auditInterceptor({ logger, [key]: 'log' as never }), key).to.throw(InvalidOptionError, `Invalid option "${key}": must be a function, got "log"`);
    }
    expect(() => auditInterceptor({ logger, actorKey: 7 as never })).to.throw(InvalidOptionError, 'Invalid option "actorKey": 7 is not a lower-case text metadata key');
  });

  it('records a call whose action function throws or returns a bad name under the method name, with action_error', async () => {
    const memory = new MemorySink();
    const logger = new AuditLogger({ format: 'none', statuses: outcomeStatuses, sinks: [memory] });
    const trainer = new Trainer();
    const action = ({ request }: { request: unknown }): string | undefined => {
      const { command } = request as CommandRequest;
      if (command === 'pause') throw new Error('no mapping');
      return command === 'resume' ? 'resume\n' : undefined;
    };
    const { server, client } = await start({ logger, methods: { ExperimentCommand: { action } }, actor: () => 7 as never }, trainer);
    try {
      await unary(client.ExperimentCommand, client, { command: 'pause' });
      await unary(client.ExperimentCommand, client, { command: 'resume' });
      await unary(client.ExperimentCommand, client, { command: 'status' }); // undefined: unrecorded, as documented
      expect(memory.events.map((e) => [e.action_type, e.status, e.details.action_error, e.actor, e.details.actor_error])).to.deep.equal([
        ['ExperimentCommand', 'success', 'no mapping', null, 'actor() returned 7, not a string'],
        ['ExperimentCommand', 'success', 'action() returned a bad action name: "resume\\n" contains control characters', null, 'actor() returned 7, not a string'],
      ]);
    } finally {
      client.close();
      server.forceShutdown();
      await logger.close();
    }
  });
});
