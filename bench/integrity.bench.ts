// Issue 4: what the trust features cost on the hot path (no sealing, SHA-256 chain, HMAC, redaction) and verify throughput.
import { AuditLogger, verifyAuditLog, type AuditLoggerOptions } from '@auditrail/core';
import { logEventRound, pinoRound, tagAddDetails } from './common';
import { withoutSealing } from './unsealed';
import { benchDir, fmt, interleaved, progress, removeDir, row, secondsSince, type BenchScenario, type BenchSection } from './lib';

const EVENTS = 50_000;
const VERIFY_EVENTS = 1_000_000;
const UNSEALED = 'logEvent → JSONL, no sealing (no canonical form, no hash)';
const SHA = 'logEvent → JSONL, SHA-256 chain, redaction off';
const HMAC = 'logEvent → JSONL, HMAC-SHA256 chain, redaction off';
const REDACT = 'logEvent → JSONL, SHA-256 chain + redaction (the default)';
const FULL = 'logEvent → JSONL, HMAC chain + redaction';
const PINO = 'pino, sync destination';
const KEY = '0123456789abcdef0123456789abcdef';

/** A logEvent round with sealing swapped out (bench/unsealed.ts): the floor the chain is measured against. */
function unsealedRound(): Promise<number> {
  return withoutSealing(() => logEventRound({ events: EVENTS, options: { format: 'jsonl', fsync: 'never', redact: false } }));
}

function round(options: AuditLoggerOptions): () => Promise<number> {
  return () => logEventRound({ events: EVENTS, options: { format: 'jsonl', fsync: 'never', ...options } });
}

async function hotPath(): Promise<BenchSection> {
  progress('logEvent → JSONL: no sealing, SHA-256, HMAC, redaction, both; pino sync');
  const rows = await interleaved([
    { name: UNSEALED, round: unsealedRound },
    { name: SHA, round: round({ redact: false }) },
    { name: HMAC, round: round({ redact: false, hmacKey: KEY }) },
    { name: REDACT, round: round({}) },
    { name: FULL, round: round({ hmacKey: KEY }) },
    { name: PINO, round: () => pinoRound(EVENTS) },
  ]);
  const floor = row(rows, UNSEALED).opsPerSec;
  const full = row(rows, FULL).opsPerSec;
  const pino = row(rows, PINO).opsPerSec;
  const cost = 1 - full / floor;
  return {
    title: 'The cost of the chain and of redaction on logEvent',
    reference: UNSEALED,
    rows,
    targets: [
      { description: 'HMAC chain + redaction cost at most 25% of unsealed throughput', met: cost <= 0.25, detail: `${fmt(full)} vs ${fmt(floor)} events/s: ${(cost * 100).toFixed(1)}% slower` },
      { description: 'logEvent with chain + redaction at least as fast as pino sync', met: full >= pino, detail: `${fmt(full)} vs ${fmt(pino)} events/s, ${(full / pino).toFixed(2)}×` },
    ],
    notes: [
      `Each round logs ${fmt(EVENTS)} first-seed tag_add events (awaiting each logEvent) into a fresh JSONL file with fsync 'never'.`,
      `${UNSEALED}: the same logger with the compiled sealEvent swapped for one that only assembles the JSON line without prev_hash and hash (bench/unsealed.ts): no RFC 8785 canonical text, no digest.`,
      'SHA-256 / HMAC: the canonical text is assembled from the same serialised parts as the line (no second serialisation) and hashed once; HMAC is built from two one-shot SHA-256 calls.',
      'Redaction: secret keys are checked inside the one copy walk of details (a cached lookup per key); string values pass a one-regex trigger before any pattern runs.',
    ],
  };
}

async function verifyThroughput(): Promise<BenchSection> {
  progress(`verify: writing a ${fmt(VERIFY_EVENTS)}-event log`);
  const dir = benchDir();
  const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', hmacKey: KEY });
  for (let i = 1; i <= VERIFY_EVENTS; i++) {
    await logger.logEvent('tag_add', tagAddDetails(), 'INFO');
    if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await logger.close();
  progress('verify: reading it back');
  const start = process.hrtime.bigint();
  const report = await verifyAuditLog(dir, { hmacKey: KEY });
  const seconds = secondsSince(start);
  if (!report.ok) throw new Error(`the bench log does not verify: ${report.problem?.message ?? ''}`);
  const rows = [{ name: 'verifyAuditLog, HMAC chain', opsPerSec: report.logs[0]!.events / seconds, note: `${fmt(report.logs[0]!.events)} events in ${seconds.toFixed(1)} s` }];
  removeDir(dir);
  return {
    title: `verify on a ${fmt(VERIFY_EVENTS)}-event log`,
    rows,
    notes: ['JSONL read line by line, each event parsed, canonicalised and hashed with the key, links and seq checked.'],
  };
}

const scenario: BenchScenario = async () => [await hotPath(), await verifyThroughput()];
export default scenario;
