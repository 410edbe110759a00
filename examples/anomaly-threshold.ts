// The second seed's anomaly flagging: an evaluation whose accuracy falls below a threshold is logged as a WARNING with both numbers.
//
//   npx tsx examples/anomaly-threshold.ts [dir]         (default ./audit_logs/anomaly-threshold)
import { AuditLogger, MemorySink } from '@auditrail/core';

const rootLogDir = process.argv[2] ?? 'audit_logs/anomaly-threshold';

const ACCURACY_THRESHOLD = 0.8;

/** Evaluation results of successive model versions (the last one regressed). */
const RESULTS = [
  { model_version: '1.0.0', accuracy: 0.91, split: 'val' },
  { model_version: '1.1.0', accuracy: 0.86, split: 'val' },
  { model_version: '1.2.0', accuracy: 0.75, split: 'val' },
];

async function detectAnomaly(auditLogger: AuditLogger, metrics: { model_version: string; accuracy: number; split: string }): Promise<void> {
  await auditLogger.logEvent('Model evaluated', metrics);
  if (metrics.accuracy < ACCURACY_THRESHOLD) {
    await auditLogger.logEvent(
      'Anomaly Detected: Accuracy Threshold Not Met',
      { model_version: metrics.model_version, accuracy: metrics.accuracy, threshold: ACCURACY_THRESHOLD },
      'WARNING',
    );
  }
}

async function main(): Promise<void> {
  // A sink with a filter sees only what matters to it: here, WARNING and above, kept in memory for the report below.
  const alerts = new MemorySink({ name: 'alerts', filter: { minSeverity: 'WARNING' } });
  const auditLogger = new AuditLogger({ rootLogDir, experimentName: 'anomaly-threshold', sinks: [alerts] });
  for (const metrics of RESULTS) await detectAnomaly(auditLogger, metrics);
  await auditLogger.close();
  for (const event of alerts.events) console.log(`${event.status}: ${event.action_type} ${JSON.stringify(event.details)}`);
  console.log(`Audit log: ${rootLogDir}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
