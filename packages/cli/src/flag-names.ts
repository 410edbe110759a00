// Errors from the library name its options (publicKey, servers); the command line names its flags (--public-key, --nats).
import { InvalidOptionError } from '@auditrail/core';

/** Runs `work`; an InvalidOptionError for one of `flags`' library options is thrown again naming the flag. */
export async function withFlagNames<T>(flags: Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof InvalidOptionError)) throw err;
    const root = err.option.split(/[.[]/)[0]!;
    const flag = flags[root];
    if (flag === undefined) throw err;
    const prefix = `Invalid option "${err.option}": `;
    const reason = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    throw new InvalidOptionError(flag + err.option.slice(root.length), reason);
  }
}
