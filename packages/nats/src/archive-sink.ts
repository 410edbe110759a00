// ArchiveSink: the `collect --to DIR` target. Writes collected events as they are (already sealed by
// their producers) into one JSONL file per chain, `{dir}/{source.log}/audit_log.jsonl`, skipping ids it holds.
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AuditWriteError, InvalidOptionError, type AuditEvent, type BatchSink, type ExportResult } from '@auditrail/core';

interface ChainFile {
  fd: number;
  ids: Set<string>;
}

/** Appends collected events per chain, once each; one writer per directory. */
export class ArchiveSink implements BatchSink {
  readonly name = 'archive';
  private readonly chains = new Map<string, ChainFile>();

  /** Creates nothing yet (the directory is made with the first chain): a command refused for another option leaves no trace. */
  constructor(readonly dir: string) {
    if (typeof dir !== 'string' || dir === '') throw new InvalidOptionError('dir', 'must be a directory path');
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new InvalidOptionError('dir', `${dir} exists and is not a directory`);
  }

  async export(batch: readonly AuditEvent[], _signal?: AbortSignal): Promise<ExportResult> {
    const touched = new Set<ChainFile>();
    try {
      for (const event of batch) {
        const chain = this.chain(typeof event.source?.log === 'string' ? event.source.log : 'unknown');
        if (chain.ids.has(event.id)) continue;
        writeSync(chain.fd, JSON.stringify(event) + '\n');
        chain.ids.add(event.id);
        touched.add(chain);
      }
      for (const chain of touched) fsyncSync(chain.fd); // acknowledged upstream only once on disk
      return { code: 'ok' };
    } catch (err) {
      return { code: 'retryable', error: new AuditWriteError(this.dir, err) };
    }
  }

  async shutdown(): Promise<void> {
    for (const chain of this.chains.values()) closeSync(chain.fd);
    this.chains.clear();
  }

  private chain(log: string): ChainFile {
    let chain = this.chains.get(log);
    if (chain) return chain;
    const safe = log.replace(/[^A-Za-z0-9_\-]/g, '_');
    const dir = join(this.dir, safe);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, 'audit_log.jsonl');
    const ids = new Set<string>();
    if (existsSync(path)) {
      let text = readFileSync(path, 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) {
        // A crash tore the last line: move the fragment aside (the event is redelivered and written whole).
        appendFileSync(path + '.torn', text.slice(end) + '\n', { mode: 0o600 });
        truncateSync(path, Buffer.byteLength(text.slice(0, end)));
        text = text.slice(0, end);
      }
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        try {
          ids.add((JSON.parse(line) as AuditEvent).id);
        } catch {
          // a line that is not an event (written by someone else): kept, not counted
        }
      }
    }
    chain = { fd: openSync(path, 'a', 0o600), ids };
    this.chains.set(log, chain);
    return chain;
  }
}
