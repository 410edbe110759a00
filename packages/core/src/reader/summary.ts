// Summary and query over events read back from disk.
import { parseTimestampUs } from '../clock';
import type { AuditEvent } from '../event';

/** Counts of a log, as the first seed's get_log_summary returns them. */
export interface LogSummary {
  /** Number of events. */
  total_events: number;
  /** Events per action type. */
  by_action_type: Record<string, number>;
  /** Events per status. */
  by_status: Record<string, number>;
}

/** Counts events by action type and status. */
export async function summarize(events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>): Promise<LogSummary> {
  const summary = emptySummary();
  for await (const event of events) countEvent(summary, event);
  return summary;
}

/** A summary of no events. */
export function emptySummary(): LogSummary {
  return { total_events: 0, by_action_type: {}, by_status: {} };
}

/** Adds one event to a summary, in place. */
export function countEvent(summary: LogSummary, event: Pick<AuditEvent, 'action_type' | 'status'>): void {
  summary.total_events++;
  summary.by_action_type[event.action_type] = (summary.by_action_type[event.action_type] ?? 0) + 1;
  summary.by_status[event.status] = (summary.by_status[event.status] ?? 0) + 1;
}

/** Which events a query keeps. */
export interface EventQuery {
  /** Only these action types. */
  actions?: readonly string[];
  /** Only these statuses. */
  statuses?: readonly string[];
  /** Only events at or after this time (ISO 8601 or a Date). */
  since?: string | Date;
  /** Only events at or before this time. */
  until?: string | Date;
  /** At most this many events (the newest ones when `newestFirst`). */
  limit?: number;
  /** Newest first instead of oldest first. */
  newestFirst?: boolean;
}

function toUs(value: string | Date | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const us = value instanceof Date ? value.getTime() * 1000 : parseTimestampUs(value);
  if (Number.isNaN(us)) throw new RangeError(`${name}: ${JSON.stringify(String(value))} is not a valid date`);
  return us;
}

/** Filters, orders and limits events. */
export async function queryEvents(events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>, query: EventQuery = {}): Promise<AuditEvent[]> {
  const actions = query.actions && query.actions.length > 0 ? new Set(query.actions) : undefined;
  const statuses = query.statuses && query.statuses.length > 0 ? new Set(query.statuses) : undefined;
  const since = toUs(query.since, 'since');
  const until = toUs(query.until, 'until');
  const limit = query.limit ?? Infinity;
  const kept: AuditEvent[] = [];
  for await (const event of events) {
    if (actions && !actions.has(event.action_type)) continue;
    if (statuses && !statuses.has(event.status)) continue;
    if (since !== undefined || until !== undefined) {
      const us = parseTimestampUs(event.timestamp);
      if (since !== undefined && us < since) continue;
      if (until !== undefined && us > until) continue;
    }
    kept.push(event);
  }
  // Files may be newest-first (the first seed's order): put them in log order, by seq.
  kept.sort(inLogOrder);
  if (query.newestFirst) kept.reverse();
  return kept.slice(0, limit);
}

function inLogOrder(a: AuditEvent, b: AuditEvent): number {
  if (typeof a.seq === 'number' && typeof b.seq === 'number' && a.seq !== b.seq) return a.seq - b.seq;
  return a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0;
}
