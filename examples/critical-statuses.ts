// Custom statuses, both ways: the scheme extended with CRITICAL in one line, and the second seed's ExtendedAuditLogger subclass.
//
//   npx tsx examples/critical-statuses.ts [dir]         (default ./audit_logs/critical-statuses)
import {
  AuditLogger,
  defineStatuses,
  InvalidStatusError,
  normaliseArgs,
  pipelineStatuses,
  type AuditEvent,
  type AuditLoggerOptions,
  type LogEventArgs,
} from '@auditrail/core';

const rootLogDir = process.argv[2] ?? 'audit_logs/critical-statuses';

/** INFO < WARNING < FAILURE < CRITICAL: filters can now say "FAILURE and above". */
const statuses = pipelineStatuses.extend('CRITICAL');

/**
 * The seed's subclass: it overrides logEvent, adds its own check and a side effect, and calls
 * super.logEvent. Here a CRITICAL event must name its runbook, and the on-call engineer hears of it.
 */
class ExtendedAuditLogger extends AuditLogger {
  static readonly VALID_STATUSES = ['INFO', 'WARNING', 'FAILURE', 'CRITICAL'] as const;
  readonly paged: string[] = [];

  constructor(options: AuditLoggerOptions) {
    // The scheme does the seed's `if status not in VALID_STATUSES: raise`, before anything is written.
    super({ ...options, statuses: defineStatuses(ExtendedAuditLogger.VALID_STATUSES, { name: 'extended' }) });
  }

  override async logEvent(...args: LogEventArgs): Promise<AuditEvent> {
    const { status, details } = normaliseArgs(args);
    if (status === 'CRITICAL' && typeof (details as { runbook?: unknown } | undefined)?.runbook !== 'string') {
      throw new TypeError('a CRITICAL event must name its runbook in details.runbook');
    }
    const event = await super.logEvent(...args);
    if (event.status === 'CRITICAL') this.paged.push(`${event.action_type} (${event.id})`);
    return event;
  }
}

async function main(): Promise<void> {
  // 1. One line: a logger whose scheme has CRITICAL.
  const auditLogger = new AuditLogger({ rootLogDir, experimentName: 'critical-statuses', statuses });
  await auditLogger.logEvent('Model Training started', { gpus: 8 });
  await auditLogger.logEvent('GPU node lost', { node: 'gpu-7', job: 'train-42' }, 'CRITICAL');
  try {
    await auditLogger.logEvent('Checkpoint corrupted', {}, 'FATAL'); // not in the scheme: rejected, nothing written
  } catch (err) {
    if (!(err instanceof InvalidStatusError)) throw err;
    console.log(`Rejected: ${err.message}`);
  }
  await auditLogger.close();

  // 2. The subclass, writing on in the same log.
  const extended = new ExtendedAuditLogger({ rootLogDir, experimentName: 'critical-statuses' });
  await extended.logEvent('Model deployment successful', { version: '1.0.1' }, 'INFO');
  await extended.logEvent('Serving error rate above 50%', { version: '1.0.1', error_rate: 0.62, runbook: 'https://runbooks.example/serving' }, 'CRITICAL');
  try {
    await extended.logEvent('Disk almost full', { free_gb: 2 }, 'CRITICAL'); // no runbook: the subclass refuses it
  } catch (err) {
    console.log(`Refused by the subclass: ${(err as Error).message}`);
  }
  await extended.close();
  console.log(`Paged on-call for: ${extended.paged.join(', ')}`);
  console.log(`Valid statuses: ${ExtendedAuditLogger.VALID_STATUSES.join(', ')}; audit log: ${rootLogDir}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
