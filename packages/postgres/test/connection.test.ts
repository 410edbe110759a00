// Which user (and host, port, database) the sink connects with, against a fake server that records the startup packet and refuses it.
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { userInfo } from 'node:os';
import { PostgresSink, PostgresSinkError, verifyPostgresTable, type PostgresSinkOptions } from '@auditrail/postgres';

/** A server that reads each startup packet, keeps its parameters, and answers FATAL 28000 (as for an unknown role). */
class StartupRecorder {
  readonly startups: Record<string, string>[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private serve(socket: Socket): void {
    let data = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 4 || data.length < data.readInt32BE(0)) return;
      const fields = data.subarray(8, data.readInt32BE(0)).toString('utf8').split('\0');
      const params: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length && fields[i] !== ''; i += 2) params[fields[i]!] = fields[i + 1]!;
      this.startups.push(params);
      const body = Buffer.from(`SFATAL\0VFATAL\0C28000\0Mrole "${params.user ?? ''}" does not exist\0\0`);
      const header = Buffer.alloc(5);
      header.write('E');
      header.writeInt32BE(body.length + 4, 1);
      socket.end(Buffer.concat([header, body]));
    });
  }
}

const LIBPQ_VARIABLES = ['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGSERVICE', 'USER'];

/** Runs `fn` with the libpq variables and USER unset, then `vars` applied; restores them after. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = LIBPQ_VARIABLES.map((name) => [name, process.env[name]] as const);
  for (const name of LIBPQ_VARIABLES) delete process.env[name];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe('PostgresSink connection user (fake server)', () => {
  let server: StartupRecorder;
  const osUser = userInfo().username;
  beforeEach(async () => {
    server = await new StartupRecorder().start();
  });
  afterEach(() => server.stop());

  /** The startup parameters the sink sent and the message of its failure. */
  async function attempt(options: PostgresSinkOptions): Promise<{ startup: Record<string, string>; message: string }> {
    const sink = new PostgresSink({ connectTimeoutMs: 5000, ...options });
    const error = await sink.ensureTable().then(
      () => new Error('expected the fake server to refuse'),
      (err: unknown) => err as Error,
    );
    await sink.shutdown();
    expect(error).to.be.instanceOf(PostgresSinkError);
    expect(server.startups, error.message).to.have.length.of.at.least(1);
    return { startup: server.startups[server.startups.length - 1]!, message: error.message };
  }

  it('with USER empty and no PGUSER, a URI without a user connects as the OS user, and the error names that user', async () => {
    const { startup, message } = await withEnv({ USER: '' }, () => attempt({ connectionString: `postgres://127.0.0.1:${server.port}/test` }));
    expect(startup.user).to.equal(osUser);
    expect(message).to.include(`cannot reach 127.0.0.1:${server.port}/test as "${osUser}"`);
  });

  it('falls back to the OS user as libpq does, not to $USER naming someone else', async () => {
    const { startup, message } = await withEnv({ USER: 'not-the-os-user' }, () => attempt({ connectionString: `postgres://127.0.0.1:${server.port}/test` }));
    expect(startup.user).to.equal(osUser);
    expect(message).to.include(`as "${osUser}"`);
  });

  it('prefers the URI user (or its user parameter) to PGUSER, PGUSER to the OS user, and client.user when the URI names none', async () => {
    const uri = `postgres://127.0.0.1:${server.port}/test`;
    const cases: [Record<string, string>, PostgresSinkOptions, string][] = [
      [{ PGUSER: 'from_env' }, { connectionString: uri }, 'from_env'],
      [{ PGUSER: 'from_env' }, { connectionString: `postgres://alice@127.0.0.1:${server.port}/test` }, 'alice'],
      [{ PGUSER: 'from_env' }, { connectionString: `${uri}?user=carol` }, 'carol'],
      [{ PGUSER: 'from_env' }, { connectionString: `${uri}?application_name=x`, client: { user: 'bob' } }, 'bob'],
      [{ USER: '' }, { client: { host: '127.0.0.1', port: server.port, database: 'test' } }, osUser],
    ];
    for (const [vars, options, user] of cases) {
      const { startup, message } = await withEnv(vars, () => attempt(options));
      expect(startup.user, JSON.stringify(options)).to.equal(user);
      expect(message, JSON.stringify(options)).to.include(`:${server.port}/test as "${user}"`);
    }
  });

  it('honours PGHOST, PGPORT, PGUSER and PGDATABASE without any settings', async () => {
    const vars = { PGHOST: '127.0.0.1', PGPORT: String(server.port), PGUSER: 'env_user', PGDATABASE: 'env_db', USER: '' };
    const { startup, message } = await withEnv(vars, () => attempt({}));
    expect(startup).to.include({ user: 'env_user', database: 'env_db' });
    expect(message).to.include(`cannot reach 127.0.0.1:${server.port}/env_db as "env_user"`);
  });

  it('verifyPostgresTable falls back to the OS user the same way', async () => {
    await withEnv({ USER: '' }, () => verifyPostgresTable({ connection: `postgres://127.0.0.1:${server.port}/test`, table: 'audit_events', queryTimeoutMs: 5000 }).catch(() => undefined));
    expect(server.startups.map((s) => s.user)).to.deep.equal([osUser]);
  });
});
