// Time-ordered event ids: UUIDv7 (RFC 9562) with the microseconds in rand_a, so ids sort as timestamps do.
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_SIZE = 8192;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Offset of 8 fresh random bytes in the pool (refilled when spent): no Buffer view per id. */
function randomOffset8(): number {
  if (poolOffset + 8 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const offset = poolOffset;
  poolOffset += 8;
  return offset;
}

let cachedMs = -1;
let cachedTimeHex = '';

/** A UUIDv7 for an event logged at `us` microseconds since the epoch. */
export function uuidv7(us: number): string {
  const ms = Math.floor(us / 1000);
  if (ms !== cachedMs) {
    // The first 13 characters (48 bits of milliseconds) change once a millisecond.
    const hi = Math.floor(ms / 0x10000);
    const lo = ms % 0x10000;
    cachedTimeHex = HEX[(hi >>> 24) & 0xff]! + HEX[(hi >>> 16) & 0xff]! + HEX[(hi >>> 8) & 0xff]! + HEX[hi & 0xff]! + '-' + HEX[(lo >>> 8) & 0xff]! + HEX[lo & 0xff]! + '-';
    cachedMs = ms;
  }
  const subMs = Math.floor(((us - ms * 1000) * 4096) / 1000); // 12 bits of sub-millisecond precision
  const r = randomOffset8();
  return (
    cachedTimeHex + HEX[0x70 | (subMs >>> 8)]! + HEX[subMs & 0xff]! + '-' +
    HEX[0x80 | (pool[r]! & 0x3f)]! + HEX[pool[r + 1]!]! + '-' +
    HEX[pool[r + 2]!]! + HEX[pool[r + 3]!]! + HEX[pool[r + 4]!]! + HEX[pool[r + 5]!]! + HEX[pool[r + 6]!]! + HEX[pool[r + 7]!]!
  );
}
