// `auditrail redact-lookup --key-file K VALUE`: the hmac-sha256 mask a value gets with that redaction key, to find where a known secret was used.
import { readFileSync } from 'node:fs';
import { InvalidOptionError, readEvents, redactionHash } from '@auditrail/core';
import type { Command } from 'commander';

/** Options of the redact-lookup command. */
interface LookupFlags {
  key?: string;
  keyFile?: string;
  json?: boolean;
  in?: string;
}

/** Adds the redact-lookup command. */
export function registerRedactLookup(program: Command): void {
  program
    .command('redact-lookup')
    .description('print the hmac-sha256:<hex> mask redaction gives a value (with the same key), and optionally the events holding it')
    .argument('<value>', 'the candidate secret, as text (or JSON with --json)')
    .option('--key-file <path>', 'file holding the redaction key (default: $AUDIT_LOG_REDACT_KEY)')
    .option('--key <key>', 'the redaction key itself (visible in the process list: prefer --key-file)')
    .option('--json', 'parse VALUE as JSON (for secrets that were numbers or objects)')
    .option('--in <target>', 'also list the events of this log directory or file that hold the mask')
    .action(async (value: string, flags: LookupFlags) => {
      const key = flags.keyFile !== undefined ? readKey(flags.keyFile) : (flags.key ?? (process.env.AUDIT_LOG_REDACT_KEY || undefined));
      if (key === undefined || key === '') throw new InvalidOptionError('key', 'give the redaction key with --key-file, --key or AUDIT_LOG_REDACT_KEY');
      let candidate: unknown = value;
      if (flags.json) {
        try {
          candidate = JSON.parse(value);
        } catch (err) {
          throw new InvalidOptionError('json', `VALUE is not JSON: ${(err as Error).message}`);
        }
      }
      const mask = redactionHash(candidate, key);
      process.stdout.write(mask + '\n');
      if (flags.in === undefined) return;
      let found = 0;
      for await (const event of readEvents(flags.in)) {
        if (!JSON.stringify(event).includes(mask)) continue;
        found++;
        process.stdout.write(`  seq ${event.seq}  ${event.timestamp}  ${event.action_type}  id ${event.id}\n`);
      }
      process.stdout.write(`${found} event(s) hold this mask\n`);
    });
}

function readKey(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new InvalidOptionError('key-file', `cannot read ${path}: ${(err as Error).message}`);
  }
}
