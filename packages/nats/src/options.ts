// Checks of the options NatsSink and Collector share: each throws InvalidOptionError naming the option.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describeValue, errorMessage, InvalidOptionError } from '@auditrail/core';

/** The longest duration the server takes, in whole milliseconds (it holds nanoseconds in a signed 64-bit number). */
export const MAX_SERVER_MS = 9_223_372_036_854;

/** Checks server URLs as the client reads them (`[scheme://][user:pass@]host[:port]`); a bad one failed every connect, retried forever. */
export function checkServers(option: string, value: unknown): void {
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  if (list.length === 0) throw new InvalidOptionError(option, `must be a server URL or a non-empty list of them, got ${describeValue(value)}`);
  for (const server of list) {
    const hostPort = typeof server === 'string' ? server.trim().replace(/^.*:\/\//, '') : '';
    if (!isHostPort(hostPort)) throw new InvalidOptionError(option, `${describeValue(server)} is not a server URL`);
  }
}

function isHostPort(hostPort: string): boolean {
  if (hostPort === '') return false;
  if (hostPort.slice(hostPort.lastIndexOf('@') + 1).split(':').length > 2) return true; // an IPv6 address: left to the client
  try {
    new URL(`http://${hostPort}`);
    return true;
  } catch {
    return false;
  }
}

/** Checks a stream or consumer name: not empty, no whitespace, `.`, `*`, `>` or slashes (the server refuses them). */
export function checkName(option: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[^\s.*>/\\]+$/.test(value)) {
    throw new InvalidOptionError(option, `${describeValue(value)} is not a valid name (no spaces, dots, *, > or slashes)`);
  }
  return value;
}

/** Checks, creating nothing, that `path` can be appended to: a writable file, or a new one in a writable directory. */
export function checkAppendable(option: string, path: unknown): void {
  if (typeof path !== 'string' || path === '') throw new InvalidOptionError(option, `must be a file path, got ${describeValue(path)}`);
  try {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) throw new Error('it is a directory');
    if (stat) {
      accessSync(path, constants.W_OK);
    } else {
      const dir = dirname(resolve(path));
      if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
      accessSync(dir, constants.W_OK | constants.X_OK);
    }
  } catch (err) {
    throw new InvalidOptionError(option, `cannot append to ${JSON.stringify(path)}: ${errorMessage(err)}`);
  }
}
