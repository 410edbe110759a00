// Rotation and retention of the JSONL journal, run by the Journal under the directory lock before an event:
// the live file is renamed into a closed segment (the chain simply continues in the new file),
// and expired segments are deleted after an audit event recording each one is in the chain.
import { unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RETENTION_ACTION } from '../integrity/chain-walk';
import type { DraftEvent, EventSource } from '../event';
import type { JsonlFile } from '../sinks/jsonl-file';
import { deliveredUpTo, RetentionPolicy, RotationPolicy, type RetentionOptions, type RotationOptions } from './policy';
import { firstAndLast, listSegments, segmentName, type Segment } from './segments';

/** What the journal needs to record a retention event: a valid status and the logger's source. */
export interface SystemEventContext {
  /** The status scheme's default status. */
  status(): string;
  /** The logger's source. */
  source(): EventSource;
}

/** What to do before the next event: records to append, then `commit` deletes what they record. */
export interface MaintenancePlan {
  /** Retention events to append first. */
  records: DraftEvent[];
  /** Deletes the segments the records describe; call once they are written. */
  commit(): void;
}

const NOTHING: MaintenancePlan = { records: [], commit: () => undefined };

/** Rotates the live journal and applies retention. */
export class JournalRotation {
  private readonly rotation: RotationPolicy | undefined;
  private readonly retention: RetentionPolicy | undefined;
  private readonly dir: string;
  private sweepDue = true;

  constructor(
    private readonly file: JsonlFile,
    options: { rotation?: RotationOptions | undefined; retention?: RetentionOptions | undefined },
    private readonly system: SystemEventContext,
    private readonly warn: (code: string, message: string) => void,
  ) {
    this.dir = dirname(file.path);
    this.rotation = options.rotation ? new RotationPolicy(options.rotation) : undefined;
    this.retention = options.retention ? new RetentionPolicy(options.retention) : undefined;
  }

  /** Under the lock, before an event is sealed: rotates when due, and plans retention after a rotation (and once at open). */
  beforeAppend(nowMs: number): MaintenancePlan {
    if (this.rotation && this.rotation.due(this.file.size, this.file.firstEventMs(), nowMs)) {
      this.rotate();
      this.sweepDue = true;
    }
    if (!this.sweepDue || !this.retention) return NOTHING;
    this.sweepDue = false;
    return this.planRetention(nowMs);
  }

  private rotate(): void {
    const ends = firstAndLast(this.file.path);
    if (!ends) return;
    const name = segmentName(this.dir, ends.first.timestamp, ends.last.timestamp);
    this.file.rotateTo(join(this.dir, name));
  }

  private planRetention(nowMs: number): MaintenancePlan {
    let expired = this.retention!.expired(listSegments(this.dir), nowMs);
    if (expired.length === 0) return NOTHING;
    const delivered = deliveredUpTo(this.dir);
    const described = expired.map((segment) => ({ segment, ends: firstAndLast(segment.path) }));
    const keep = described.findIndex(({ ends }) => delivered !== undefined && ends !== undefined && ends.last.seq > delivered);
    if (keep >= 0) {
      this.warn('RETENTION_WAITING', `${described[keep]!.segment.name} is past retention but not yet delivered to every journal-fed sink; it is kept for now`);
      expired = expired.slice(0, keep);
    }
    const doomed = described.slice(0, expired.length);
    if (doomed.length === 0) return NOTHING;
    return {
      records: doomed.map(({ segment, ends }) => this.record(segment, ends)),
      commit: () => {
        for (const { segment } of doomed) {
          try {
            unlinkSync(segment.path);
          } catch (err) {
            this.warn('RETENTION_FAILED', `could not delete ${segment.path}: ${(err as Error).message}`);
          }
        }
      },
    };
  }

  private record(segment: Segment, ends: ReturnType<typeof firstAndLast>): DraftEvent {
    const details = {
      deleted_segment: segment.name,
      deleted_first_seq: ends?.first.seq ?? null,
      deleted_last_seq: ends?.last.seq ?? null,
      deleted_last_hash: ends?.last.hash ?? null,
      deleted_from: ends?.first.timestamp ?? null,
      deleted_to: ends?.last.timestamp ?? null,
      reason: 'retention',
    };
    return {
      action_type: RETENTION_ACTION,
      status: this.system.status(),
      details,
      detailsCanonical: false,
      error: null,
      actor: null,
      source: this.system.source(),
    };
  }
}
