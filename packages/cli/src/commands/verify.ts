// `auditrail verify DIR`: checks the hash chain (and the signed checkpoints) of every log in a
// directory, a file, or a Postgres table; exit 0 when intact, 1 naming the first bad event.
import { readFileSync } from 'node:fs';
import { InvalidOptionError, verifyAuditLog, type ChainProblem, type LogFormat, type VerifyReport } from '@auditrail/core';
import type { Command } from 'commander';
import { withFlagNames } from '../flag-names';
import { StreamOutput } from '../output';
import { EXIT } from '../root';

/** Options of the verify command. */
interface VerifyFlags {
  key?: string;
  keyFile?: string;
  publicKey?: string[];
  checkpoints?: string;
  format?: Exclude<LogFormat, 'none'>;
  postgres?: string;
  table?: string;
  schema?: string;
  logId?: string;
  json?: boolean;
}

/** The flag of each library option verify passes on, for its error messages. */
const VERIFY_FLAGS = { publicKey: '--public-key', hmacKey: '--key', checkpoints: '--checkpoints', connection: '--postgres', table: '--table', schema: '--schema', logId: '--log-id' };

/** Adds the verify command. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify the hash chain and signed checkpoints; names the first modified, deleted, inserted or reordered event')
    .argument('[target]', 'log directory or file (jsonl with its rotated segments, json, csv)')
    .option('--key-file <path>', 'file holding the HMAC key the log was written with (default: $AUDIT_LOG_HMAC_KEY)')
    .option('--key <key>', 'the HMAC key itself (visible to other users in the process list: prefer --key-file)')
    .option('--public-key <path>', 'Ed25519 public key (PEM) of the checkpoints; repeatable for rotated keys', (v: string, all: string[] = []) => [...all, v])
    .option('--checkpoints <path>', 'checkpoints file (default: audit_log.checkpoints.jsonl next to the log)')
    .option('--format <format>', 'only the log of this format in the directory: jsonl, json or csv')
    .option('--postgres <url>', 'verify a Postgres table instead of files (with --table)')
    .option('--table <name>', 'audit table for --postgres')
    .option('--schema <name>', 'schema of the table (default: the search_path)')
    .option('--log-id <id>', 'with --postgres, only the chain of this log id')
    .option('--json', 'print the full report as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 chain intact, 1 tampering found (or the log cannot be read), 2 wrong usage.

Examples:
  $ auditrail verify ./audit_logs
  $ AUDIT_LOG_HMAC_KEY=... auditrail verify ./audit_logs --public-key audit_signing_key.pub.pem
  $ auditrail verify --postgres postgres://localhost/audit --table audit_events --key-file hmac.key`,
    )
    .action(async (target: string | undefined, flags: VerifyFlags) => {
      const report = await withFlagNames(VERIFY_FLAGS, () => run(target, flags));
      const out = new StreamOutput(process.stdout);
      await out.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
      await out.end();
      if (!flags.json) for (const warning of report.warnings) process.stderr.write(`warning: ${warning}\n`);
      if (!report.ok) process.exitCode = EXIT.failure;
    });
}

async function run(target: string | undefined, flags: VerifyFlags): Promise<VerifyReport> {
  const hmacKey = flags.keyFile !== undefined ? readKeyFile(flags.keyFile) : flags.key;
  const common = {
    ...(hmacKey !== undefined ? { hmacKey } : {}),
    ...(flags.publicKey ? { publicKey: flags.publicKey } : {}),
    ...(flags.checkpoints !== undefined ? { checkpoints: flags.checkpoints } : {}),
  };
  if (flags.postgres !== undefined) {
    if (target !== undefined) throw new InvalidOptionError('postgres', 'give either a target directory or --postgres, not both');
    if (flags.table === undefined) throw new InvalidOptionError('table', '--postgres needs --table');
    // Loaded only here: pg costs every other command's start-up time.
    const { verifyPostgresTable } = await import('@auditrail/postgres');
    return verifyPostgresTable({
      ...common,
      connection: flags.postgres,
      table: flags.table,
      ...(flags.schema !== undefined ? { schema: flags.schema } : {}),
      ...(flags.logId !== undefined ? { logId: flags.logId } : {}),
    });
  }
  if (target === undefined) throw new InvalidOptionError('target', 'give a log directory or file, or --postgres URL --table NAME');
  if (flags.format !== undefined && !['jsonl', 'json', 'csv'].includes(flags.format)) {
    throw new InvalidOptionError('format', `${JSON.stringify(flags.format)} is not one of "jsonl", "json", "csv"`);
  }
  return verifyAuditLog(target, { ...common, ...(flags.format ? { format: flags.format } : {}) });
}

/** A key file holds the key as text; a trailing newline is not part of it. */
function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new InvalidOptionError('key-file', `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The report as text: one line per log, then the checkpoints. */
export function formatReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const log of report.logs) {
    const where = `${log.format}: ${log.files.length === 1 ? log.files[0] : `${log.files.length} files, ${log.files[0]} .. ${log.files[log.files.length - 1]}`}`;
    if (log.ok) {
      const chain = report.keyed ? 'HMAC chain intact' : 'chain intact';
      lines.push(`OK: ${log.events} events, ${chain} (${where})`);
    } else if (log.problem) {
      lines.push(`FAILED: ${describeProblem(log.problem)} (${where})`);
    }
  }
  const checkpoints = report.checkpoints;
  if (checkpoints) {
    if (checkpoints.problem) lines.push(`FAILED: ${describeProblem(checkpoints.problem)}`);
    const last = checkpoints.last;
    if (last) {
      const how = checkpoints.signaturesVerified ? `signature verified (key ${last.key_id})` : 'signature NOT checked (no public key given)';
      lines.push(`Last checkpoint: #${last.n}, seq ${last.seq}, signed ${last.timestamp}, ${how}`);
    } else {
      lines.push(`Checkpoints: none in ${checkpoints.file}`);
    }
  }
  return lines.join('\n') + '\n';
}

function describeProblem(problem: ChainProblem): string {
  const at = problem.file !== undefined && problem.line !== undefined ? ` [${problem.file}:${problem.line}]` : '';
  return `${problem.kind}: ${problem.message}${at}`;
}
