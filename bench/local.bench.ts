// Issue 2: logEvent into the local files against a raw writeSync floor, pino and winston; the JSON array; group commit.
import { jsonlLines, logEventMeasured as logEventRound, pinoMeasured as pinoRound, writeSyncRound } from './common';
import { fmt, interleaved, progress, row, type BenchScenario, type BenchSection } from './lib';
import { winstonRound } from './winston-round';

/** Events per timed round of the fast contenders. */
const EVENTS = 20_000;
/** Rounds of the first table: short rounds, many of them, so that the median shrugs off a busy neighbour. */
const ROUNDS = 7;
const FLOOR = 'fs.writeSync floor (same bytes)';
const JSONL = "logEvent → JSONL, fsync 'never'";
const PINO = 'pino, sync destination';

async function throughput(): Promise<BenchSection> {
  progress('logEvent → JSONL / CSV against the floor, pino and winston');
  let lines: Buffer[] = [];
  await logEventRound({ events: EVENTS, options: { format: 'jsonl', fsync: 'never' }, inspect: (dir) => (lines = jsonlLines(dir)) });
  const rows = await interleaved([
    {
      name: FLOOR,
      note: 'pre-encoded lines of a real JSONL log, one writeSync each',
      round: () => writeSyncRound(lines, EVENTS),
    },
    {
      name: JSONL,
      round: () => logEventRound({ events: EVENTS, options: { format: 'jsonl', fsync: 'never' }, inspect: (dir) => (lines = jsonlLines(dir)) }),
    },
    { name: "logEvent → JSONL, fsync 'interval' (default)", round: () => logEventRound({ events: EVENTS, options: { format: 'jsonl' } }) },
    { name: PINO, round: () => pinoRound(EVENTS) },
    { name: 'winston File transport', note: 'until every line is in the file', round: () => winstonRound(EVENTS / 2) },
    { name: "logEvent → CSV, fsync 'never'", round: () => logEventRound({ events: EVENTS, options: { format: 'csv', fsync: 'never' } }) },
    {
      name: "logEvent → JSONL, one event per event-loop turn",
      note: 'one lease of the directory lock serves the events of about a millisecond',
      round: () => logEventRound({ events: EVENTS / 5, options: { format: 'jsonl', fsync: 'never' }, yieldEachEvent: true }),
    },
    { name: 'pino, sync destination, one event per event-loop turn', note: 'the peer, yielding as the row above does', round: () => pinoRound(EVENTS / 5, true) },
  ], ROUNDS);
  const ours = row(rows, JSONL).opsPerSec;
  const pino = row(rows, PINO).opsPerSec;
  const oursCpu = row(rows, JSONL).cpuOpsPerSec ?? NaN;
  const pinoCpu = row(rows, PINO).cpuOpsPerSec ?? NaN;
  return {
    title: 'logEvent into local files (the first seed’s tag_add event)',
    reference: FLOOR,
    rows,
    targets: [{ description: 'logEvent into JSONL at least as fast as pino sync', met: ours >= pino, detail: `${fmt(ours)} vs ${fmt(pino)} events/s, ${(ours / pino).toFixed(2)}×; per CPU-second ${fmt(oursCpu)} vs ${fmt(pinoCpu)}, ${(oursCpu / pinoCpu).toFixed(2)}×` }],
    notes: [
      `Each round logs ${fmt(EVENTS)} events (winston ${fmt(EVENTS / 2)}, the per-turn rows ${fmt(EVENTS / 5)}), awaiting every logEvent, and yields to the event loop every 1,000 events as a program doing other work would; every contender gets a fresh file in the OS temp dir.`,
      `${FLOOR}: the bytes our JSONL sink wrote in this run, already encoded, written with one fs.writeSync each to a file opened for appending: the system call alone, nothing to build.`,
      `${JSONL}: the whole path of \`await logger.logEvent('tag_add', details, 'success')\`: validation, the JSON-safe copy of details with redaction (on by default), id, timestamp, seq, SHA-256 hash chain over the RFC 8785 canonical form, one write(2) of the line before the promise resolves. The table below (Where the time of one logEvent goes) splits it into pieces.`,
      "fsync 'interval' (the default) adds an fdatasync every second off the event loop's thread.",
      `${PINO}: \`pino.destination({ sync: true })\`, logging \`{ action_type, status, details, error }\` with pino's default level, time, pid and hostname: one writeSync per line, no hash, no copy.`,
      'winston File transport: json format with a timestamp; the clock stops when every line is in the file (its finish event, then polling the file), since its writes are asynchronous.',
      "CSV: the seed's columns plus the integrity columns, RFC 4180 quoting, formula cells neutralised.",
      'One event per event-loop turn: a program that logs one event and then yields (a server handling one request per turn). The directory lock is a lease of about a millisecond, which the events of the following turns share: each lease links the holder file as the lock file, checks that the file at the path is still its own and has not grown (one stat), and ends with a stat of the wait file, a stat of the lock and an unlink.',
    ],
  };
}

async function jsonArray(): Promise<BenchSection> {
  progress('JSON array (oldest-first at 10,000 and 100,000 events, newest-first at 500) against JSONL at 100,000');
  const reference = 'logEvent → JSONL, 100,000 events';
  const rows = await interleaved(
    [
      { name: reference, round: () => logEventRound({ events: 100_000, options: { format: 'jsonl', fsync: 'never' } }) },
      { name: 'logEvent → JSON array, oldest-first, 10,000 events', round: () => logEventRound({ events: 10_000, options: { format: 'json', fsync: 'never' } }) },
      { name: 'logEvent → JSON array, oldest-first, 100,000 events', round: () => logEventRound({ events: 100_000, options: { format: 'json', fsync: 'never' } }) },
    ],
    3,
  );
  const newest = await interleaved(
    [{ name: 'logEvent → JSON array, newest-first, 500 events', note: 'O(n) per event: rewrites and fsyncs the whole file', round: () => logEventRound({ events: 500, options: { format: 'json', order: 'newest-first', fsync: 'never' } }) }],
    1,
    false,
  );
  rows.push(...newest);
  const jsonl = row(rows, reference).opsPerSec;
  const array = row(rows, 'logEvent → JSON array, oldest-first, 100,000 events').opsPerSec;
  return {
    title: 'The JSON array file',
    reference,
    rows,
    targets: [{ description: 'JSON array within 2× of JSONL at 100,000 events', met: array * 2 >= jsonl, detail: `${fmt(array)} vs ${fmt(jsonl)} events/s: the array at ${(array / jsonl).toFixed(2)}× the JSONL rate` }],
    notes: [
      'Oldest-first: each event is one pwrite of `,\\n{event}` into whitespace reserved before the closing `]`, inside one 4 KiB page (so a SIGKILL never tears it); when the reserve runs out, the file is copied with a reserve of half its size, synced and renamed into place (at this rate the copy is made there and then: one prepared in the background would not be ready in time). The 100,000-event rounds include those copies: the rate over the whole file.',
      "Newest-first (the first seed's order): every event rewrites the whole array into a temp file, fsyncs it and renames it over the old one, so that a crash leaves either array; the cost per event grows with the file (O(n), O(n²) for a log of n events). Measured once over 500 events from an empty file; use it for small logs only.",
    ],
  };
}

async function groupCommit(): Promise<BenchSection> {
  progress("fsync 'always' with 1 and 64 callers");
  const one = "fsync 'always', 1 caller";
  const rows = await interleaved(
    [
      { name: one, round: () => logEventRound({ events: 300, options: { format: 'jsonl', fsync: 'always' } }) },
      { name: "fsync 'always', 64 concurrent callers", round: () => logEventRound({ events: 25_600, callers: 64, options: { format: 'jsonl', fsync: 'always' } }) },
    ],
    3,
  );
  const single = row(rows, one).opsPerSec;
  const many = rows[1]!.opsPerSec;
  const manyCpu = rows[1]!.cpuOpsPerSec;
  // When 64 callers keep the CPU busy, events per CPU-second bound the rate, and the ratio with it.
  const cpuBound =
    manyCpu !== undefined && many > 0.8 * manyCpu
      ? ` In this run the 64 callers kept the CPU busy (${fmt(many)} events/s against ${fmt(manyCpu)} per CPU-second), so the ratio was bounded by the CPU cost of an event, about ${(1e6 / manyCpu).toFixed(1)} µs, against this disk's ${(1e6 / single).toFixed(0)} µs fdatasync: at most ${(manyCpu / single).toFixed(1)}× here. With this disk, 20× takes at most ${(1e6 / (20 * single)).toFixed(1)} µs of CPU per durable event; a slower disk leaves more room.`
      : '';
  return {
    title: "Durable writes: fsync 'always' and group commit",
    reference: one,
    rows,
    targets: [{ description: "fsync 'always' with 64 callers at least 20× the one-caller rate", met: many >= 20 * single, detail: `${fmt(many)} vs ${fmt(single)} events/s, ${(many / single).toFixed(1)}×` }],
    notes: [
      "logEvent resolves only after fdatasync of the file returned. One caller: each event waits for its own fdatasync (300 events a round). 64 callers: each loops on `await logEvent` (400 events each, 25,600 a round, so that a round lasts long enough to show the steady rate rather than the compiler warming up); the events written while one fdatasync runs share the next one (group commit), so one fdatasync covers up to 64 events; when writing a turn's events takes longer than the last fdatasync did, the next one begins mid-turn, and the callers form two groups, one written while the other's fdatasync runs.",
      `These figures depend on the disk far more than on auditrail: they are the disk’s fdatasync rate, and the ratio is bounded by how much longer an fdatasync of 64 events takes than one of a single event. Each event of the one caller is a turn of the event loop of its own; a lease of the directory lock (about a millisecond) serves those that fall within it, as it serves the 64 callers' turns.${cpuBound}`,
    ],
  };
}

const scenario: BenchScenario = async () => [await throughput(), await jsonArray(), await groupCommit()];
export default scenario;
