// Errors from the library name its options (publicKey, servers); the command line names its flags (--public-key, --nats).
import { describeValue, InvalidOptionError } from '@auditrail/core';

/** An option whose flag text was converted before use (--batch "abc" became NaN): the value passed and the text typed. */
export interface ConvertedFlag {
  /** What the library got. */
  readonly value: unknown;
  /** What the user typed. */
  readonly text: string;
}

/**
 * Runs `work`; an InvalidOptionError for one of `flags`' library options is thrown again naming the flag
 * (`servers` becomes `--nats`), quoting the text typed for a `converted` one rather than the value it became.
 */
export async function withFlagNames<T>(flags: Readonly<Record<string, string>>, work: () => Promise<T>, converted: Readonly<Record<string, ConvertedFlag>> = {}): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof InvalidOptionError)) throw err;
    const root = err.option.split(/[.[]/)[0]!;
    if (!Object.hasOwn(flags, root)) throw err;
    const prefix = `Invalid option "${err.option}": `;
    let reason = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    const typed = Object.hasOwn(converted, root) ? converted[root] : undefined;
    if (typed) {
      const shown = describeValue(typed.value);
      if (reason.startsWith(`${shown} `)) reason = JSON.stringify(typed.text) + reason.slice(shown.length);
    }
    throw new InvalidOptionError(flags[root]! + err.option.slice(root.length), reason);
  }
}
