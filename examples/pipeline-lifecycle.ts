// The second seed's pipeline lifecycle: ingestion, feature engineering and training, each stage audited, with a failure path; ends with the log's summary.
//
//   npx tsx examples/pipeline-lifecycle.ts [dir]        (default ./audit_logs/pipeline-lifecycle)
//
// The format follows AUDIT_LOG_FORMAT (json, jsonl, csv, or a comma list), json when unset.
import { AuditLogger, contextPlugin, type LogSummary } from '@auditrail/core';

const rootLogDir = process.argv[2] ?? 'audit_logs/pipeline-lifecycle';

// Stand-ins for real pipeline code: deterministic, so every run logs the same details.
interface Dataset {
  file: string;
  rows: number[][];
}

function fetchData(file: string): Dataset {
  const rows = Array.from({ length: 1200 }, (_, i) => [i % 97, (i * 7) % 13, file.startsWith('corrupted') && i === 613 ? NaN : i % 5]);
  return { file, rows };
}

function transformFeatures(data: Dataset): { columns: number; rows: number } {
  const bad = data.rows.findIndex((row) => row.some((value) => Number.isNaN(value)));
  if (bad >= 0) throw new Error(`Invalid input data format: row ${bad} of ${data.file} has a non-numeric value`);
  return { columns: data.rows[0]!.length + 4, rows: data.rows.length }; // 4 derived features
}

function trainModel(features: { columns: number; rows: number }): { accuracy: number; loss: number; epochs: number } {
  return { accuracy: 0.91, loss: 0.25, epochs: features.columns > 5 ? 12 : 8 };
}

// One run of the pipeline, as the seed writes it: each stage logged, any failure logged as FAILURE.
async function runPipeline(auditLogger: AuditLogger, file: string): Promise<void> {
  try {
    // Stage 1: Data Ingestion
    await auditLogger.logEvent('Data Ingestion started', { file });
    const data = fetchData(file);
    await auditLogger.logEvent('Data Ingestion completed', { rows: data.rows.length }, 'INFO');
    // Stage 2: Feature Engineering
    await auditLogger.logEvent('Feature Engineering started');
    const features = transformFeatures(data);
    await auditLogger.logEvent('Feature Engineering completed', { columns: features.columns }, 'INFO');
    // Stage 3: Model Training
    await auditLogger.logEvent('Model Training started');
    const model = trainModel(features);
    await auditLogger.logEvent('Model Training completed', { accuracy: model.accuracy, loss: model.loss, epochs: model.epochs }, 'INFO');
  } catch (err) {
    // The object form records the error in its own field (the seed put str(e) into details).
    await auditLogger.logEvent({ action: 'Pipeline Execution Failed', status: 'FAILURE', details: { file }, error: err as Error });
  }
}

function printSummary(summary: LogSummary, files: readonly string[]): void {
  const counts = (record: Record<string, number>): string =>
    Object.entries(record)
      .map(([name, count]) => `    ${name}: ${count}`)
      .join('\n');
  console.log(`Audit log: ${files.length > 0 ? files.join(', ') : 'none (AUDIT_LOG_FORMAT=none: counted in memory only)'}`);
  console.log(`Total events: ${summary.total_events}`);
  console.log(`By action type:\n${counts(summary.by_action_type)}`);
  console.log(`By status:\n${counts(summary.by_status)}`);
}

async function main(): Promise<void> {
  // contextPlugin adds the pipeline name (and the git commit, when run in a work tree) to every event's source.
  const auditLogger = new AuditLogger({ rootLogDir, experimentName: 'pipeline-lifecycle', plugins: [contextPlugin({ pipeline: 'churn-model' })] });
  await runPipeline(auditLogger, 'dataset.csv'); // succeeds
  await runPipeline(auditLogger, 'corrupted.csv'); // fails in feature engineering
  // The summary is read back from the files, so it counts every run that wrote to this directory.
  const summary = await auditLogger.getLogSummary();
  const files = auditLogger.files;
  await auditLogger.close();
  printSummary(summary, files);
  if (files.length > 0) console.log(`\nSee the events with: npx auditrail show ${rootLogDir}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
