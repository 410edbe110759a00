// A real HTTP server on 127.0.0.1 for the sink's tests: records every request (gzip decoded) and answers as scripted.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One request as the server received it. */
export interface Received {
  /** Request path. */
  path: string;
  /** Headers, lower-cased names. */
  headers: IncomingHttpHeaders;
  /** Body after gzip decoding. */
  body: Buffer;
  /** Bytes on the wire. */
  wireBytes: number;
  /** Status answered, if any (none for a hang or a reset). */
  status?: number;
}

/** How the server answers: a response, 'hang' (never answer), or 'reset' (drop the connection). */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hang' | 'reset';

/** A scripted HTTP server; `answer` may be swapped at any time. */
export class TestServer {
  readonly requests: Received[] = [];
  answer: (request: Received, n: number) => Answer = () => ({ status: 200, body: '{}' });
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  /** Listens on 127.0.0.1 (port 0 picks a free one; a given port restarts on it). */
  async start(port = this.port): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        const received: Received = { path: req.url ?? '/', headers: req.headers, body, wireBytes: raw.length };
        this.requests.push(received);
        const answer = this.answer(received, this.requests.length);
        if (answer === 'hang') return;
        if (answer === 'reset') {
          req.socket.destroy();
          return;
        }
        received.status = answer.status;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '');
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  /** Stops listening and cuts every open connection (hanging ones included): the port refuses connections. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** URL of a path on this server. */
  url(path = '/ingest'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Events received in JSON array bodies, in arrival order (only those answered 2xx with `acceptedOnly`). */
  jsonEvents(acceptedOnly = false): { id: string; seq: number; [key: string]: unknown }[] {
    const requests = acceptedOnly ? this.requests.filter((r) => r.status !== undefined && r.status < 300) : this.requests;
    return requests.flatMap((r) => {
      try {
        const value: unknown = JSON.parse(r.body.toString('utf8'));
        return Array.isArray(value) ? (value as { id: string; seq: number }[]) : [];
      } catch {
        return [];
      }
    });
  }
}
