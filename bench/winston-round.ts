// winston's File transport, timed until every line is in the file (its 'finish' alone has fired before the data was written).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import { nextTurn, tagAddDetails, YIELD_EVERY } from './common';
import { benchDir, removeDir, startMeasure, type Measured } from './lib';

/** Logs `events` tag_add objects through winston's File transport (json format with a timestamp); events/s until all are in the file. */
export async function winstonRound(events: number): Promise<Measured> {
  const dir = benchDir();
  const filename = join(dir, 'winston.log');
  const transport = new winston.transports.File({ filename });
  const logger = winston.createLogger({ format: winston.format.combine(winston.format.timestamp(), winston.format.json()), transports: [transport] });
  const done = startMeasure();
  for (let i = 1; i <= events; i++) {
    logger.info({ message: 'tag_add', action_type: 'tag_add', status: 'success', details: tagAddDetails(), error: null });
    if (i % YIELD_EVERY === 0) await nextTurn();
  }
  const finished = new Promise<void>((resolve) => transport.once('finish', () => resolve()));
  logger.end();
  await finished;
  await untilLines(filename, events);
  const measured = done(events);
  removeDir(dir);
  return measured;
}

/** Polls the file, reading only what is new, until it holds `lines` newlines (or 30 s pass). */
async function untilLines(path: string, lines: number): Promise<void> {
  const buffer = Buffer.alloc(1 << 20);
  const deadline = Date.now() + 30_000;
  let offset = 0;
  let seen = 0;
  let fd = -1;
  try {
    while (seen < lines) {
      if (fd < 0) {
        try {
          fd = openSync(path, 'r');
        } catch {
          // not created yet
        }
      }
      if (fd >= 0 && fstatSync(fd).size > offset) {
        const n = readSync(fd, buffer, 0, buffer.length, offset);
        offset += n;
        for (let i = buffer.indexOf(0x0a); i >= 0 && i < n; i = buffer.indexOf(0x0a, i + 1)) seen++;
        continue;
      }
      if (Date.now() > deadline) throw new Error(`winston wrote ${seen} of ${lines} lines to ${path} within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
