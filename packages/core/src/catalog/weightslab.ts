// The first seed's action catalog (WeightsLab's gRPC actions), ready for `new AuditLogger<WeightsLabCatalog>()`.

/** A before/after pair of one value. */
export interface Change<T = unknown> {
  /** Value before the action. */
  before: T;
  /** Value after the action. */
  after: T;
}

/** Data operations on samples share this shape. */
export interface SampleOperation {
  /** Number of samples touched. */
  samples_affected: number;
  /** Ids of the samples touched. */
  sample_ids?: string[];
  /** Split of each sample (train, val, test). */
  origins?: string[];
  /** Anything else relevant. */
  [key: string]: unknown;
}

/** The twelve actions of the first seed and the details each carries. */
export interface WeightsLabCatalog {
  /** Hyperparameter modifications. */
  hp_change: { changed_params: Record<string, unknown>; before?: Record<string, unknown>; after?: Record<string, unknown>; [key: string]: unknown };
  /** Training paused. */
  pause: { reason?: string; step?: number; [key: string]: unknown };
  /** Training resumed. */
  resume: { step?: number; [key: string]: unknown };
  /** Mode changes (train/audit/evaluation). */
  mode_switch: { from?: string; to: string; [key: string]: unknown };
  /** Tags added to samples. */
  tag_add: SampleOperation & { tag_name: string };
  /** Tags removed from samples. */
  tag_remove: SampleOperation & { tag_name: string };
  /** Samples marked as discarded. */
  sample_discard: SampleOperation;
  /** Discarded samples restored. */
  sample_restore: SampleOperation;
  /** A data query executed. */
  query_execute: { query_type: string; query_text?: string; rows_returned?: number; [key: string]: unknown };
  /** Model restored from a checkpoint. */
  checkpoint_restore: { checkpoint_id: string; step?: number; [key: string]: unknown };
  /** Evaluation started on a dataset split. */
  evaluation_start: { split: string; [key: string]: unknown };
  /** A note written or cleared on a plot point. */
  note_write: { plot_point?: string | number; note: string | null; [key: string]: unknown };
}

/** The names of the first seed's actions, in its order. */
export const WEIGHTSLAB_ACTIONS = [
  'hp_change',
  'pause',
  'resume',
  'mode_switch',
  'tag_add',
  'tag_remove',
  'sample_discard',
  'sample_restore',
  'query_execute',
  'checkpoint_restore',
  'evaluation_start',
  'note_write',
] as const satisfies readonly (keyof WeightsLabCatalog)[];
