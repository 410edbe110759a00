// The second seed's drift monitoring: compare each feature's live distribution with its training reference and log drift as WARNING.
//
//   npx tsx examples/drift-monitoring.ts [dir]          (default ./audit_logs/drift-monitoring)
import { AuditLogger } from '@auditrail/core';

const rootLogDir = process.argv[2] ?? 'audit_logs/drift-monitoring';

/** Population Stability Index above this is significant drift (the usual rule of thumb). */
const PSI_THRESHOLD = 0.2;

/** Population Stability Index of two samples over equal-width bins of the reference's range. */
function populationStabilityIndex(reference: readonly number[], current: readonly number[], bins = 10): number {
  const min = Math.min(...reference);
  const width = (Math.max(...reference) - min) / bins || 1;
  const shares = (sample: readonly number[]): number[] => {
    const counts = new Array<number>(bins).fill(0);
    for (const x of sample) counts[Math.min(bins - 1, Math.max(0, Math.floor((x - min) / width)))]!++;
    return counts.map((c) => Math.max(c / sample.length, 1e-4)); // floor avoids log(0) for empty bins
  };
  const [expected, actual] = [shares(reference), shares(current)];
  return expected.reduce((psi, e, i) => psi + (actual[i]! - e) * Math.log(actual[i]! / e), 0);
}

/** A deterministic sample: n values spread evenly around a mean. */
function sample(n: number, mean: number, spread: number): number[] {
  return Array.from({ length: n }, (_, i) => mean + spread * Math.sin(i * 12.9898) * Math.cos(i * 78.233));
}

// Training reference and this week's traffic: user_age has shifted, the others have not.
const FEATURES: Record<string, { reference: number[]; current: number[] }> = {
  user_age: { reference: sample(2000, 38, 12), current: sample(2000, 47, 12) },
  income: { reference: sample(2000, 52_000, 9_000), current: sample(2000, 52_400, 9_100) },
  session_minutes: { reference: sample(2000, 14, 6), current: sample(2000, 14.3, 6) },
};

async function monitorDrift(auditLogger: AuditLogger, feature: string, data: { reference: number[]; current: number[] }): Promise<boolean> {
  const driftScore = Number(populationStabilityIndex(data.reference, data.current).toFixed(4));
  const driftDetected = driftScore > PSI_THRESHOLD;
  if (driftDetected) {
    await auditLogger.logEvent('Drift Detected', { feature, drift_score: driftScore, threshold: PSI_THRESHOLD, metric: 'psi' }, 'WARNING');
  } else {
    await auditLogger.logEvent('No Drift Detected', { feature, drift_score: driftScore, metric: 'psi' }, 'INFO');
  }
  return driftDetected;
}

async function main(): Promise<void> {
  const auditLogger = new AuditLogger({ rootLogDir, experimentName: 'drift-monitoring' });
  await auditLogger.logEvent('Drift Monitoring initiated', { features: Object.keys(FEATURES), window: '7d' });
  for (const [feature, data] of Object.entries(FEATURES)) {
    const drifted = await monitorDrift(auditLogger, feature, data);
    console.log(`${feature.padEnd(16)} ${drifted ? 'DRIFT (WARNING)' : 'stable'}`);
  }
  await auditLogger.close();
  console.log(`Audit log: ${rootLogDir}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
