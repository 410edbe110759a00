// What the HTML report holds: counts over every selected event, and the newest of them in full.
import { formatTimestamp, parseTimestampUs, type AuditEvent, type Details, type EventSource } from '@auditrail/core';

/** How alarming a status is: drives the colours of the page. */
export type StatusLevel = 'critical' | 'failure' | 'warning' | 'ok';

/** One event as the page holds it; short keys because a report may hold 100,000 of them. */
export interface ReportEvent {
  /** id */
  i: string;
  /** seq */
  q: number;
  /** timestamp (ISO 8601) */
  t: string;
  /** index into `actions` */
  a: number;
  /** index into `statuses` */
  s: number;
  /** actor */
  u: string | null;
  /** error */
  e: string | null;
  /** details */
  d: Details;
  /** source */
  o: EventSource;
  /** hash */
  h: string;
}

/** Everything the page shows; embedded in it as JSON. */
export interface ReportData {
  /** Heading of the page. */
  title: string;
  /** The log the report was made from. */
  source: string;
  /** When the report was made (ISO 8601). */
  generatedAt: string;
  /** Filters given on the command line, as text, or '' for none. */
  selection: string;
  /** Number of events selected from the log. */
  total: number;
  /** Action names, most frequent first. */
  actions: string[];
  /** Status names, least severe first. */
  statuses: string[];
  /** Level of each status, by index. */
  levels: StatusLevel[];
  /** counts[action index][status index] over every selected event. */
  counts: number[][];
  /** Timestamp of the first and last selected events, if any. */
  first: string | null;
  /** See `first`. */
  last: string | null;
  /** The newest selected events in log order: all of them unless the report was capped. */
  events: ReportEvent[];
}

const CRITICAL = /^(critical|fatal|emergency|alert|panic)$/i;
const FAILURE = /^(failure|failed|fail|error|err|severe)$/i;
const WARNING = /^(warning|warn|degraded|retry|retrying)$/i;

/** The level of a status by its name: FAILURE and failed are failures, CRITICAL is critical. */
export function levelOf(status: string): StatusLevel {
  if (CRITICAL.test(status)) return 'critical';
  if (FAILURE.test(status)) return 'failure';
  if (WARNING.test(status)) return 'warning';
  return 'ok';
}

const LEVEL_RANK: Record<StatusLevel, number> = { ok: 0, warning: 1, failure: 2, critical: 3 };

/** Builds ReportData from events given in log order, keeping the newest `maxEvents` in full. */
export class ReportBuilder {
  private readonly actionIndex = new Map<string, number>();
  private readonly statusIndex = new Map<string, number>();
  private readonly counts: number[][] = [];
  private readonly kept: ReportEvent[] = [];
  private start = 0;
  private total = 0;
  private first: string | null = null;
  private last: string | null = null;

  constructor(private readonly maxEvents: number) {}

  /** Counts an event and keeps it if it is among the newest. */
  add(event: AuditEvent): void {
    const a = indexOf(this.actionIndex, event.action_type);
    const s = indexOf(this.statusIndex, event.status);
    const row = (this.counts[a] ??= []);
    row[s] = (row[s] ?? 0) + 1;
    this.total++;
    const time = utcTimestamp(event.timestamp);
    this.first ??= time;
    this.last = time;
    if (this.maxEvents <= 0) return;
    const compact: ReportEvent = {
      i: event.id,
      q: event.seq,
      t: time,
      a,
      s,
      u: event.actor ?? null,
      e: event.error ?? null,
      d: event.details ?? {},
      o: event.source ?? ({} as EventSource),
      h: event.hash,
    };
    if (this.kept.length < this.maxEvents) this.kept.push(compact);
    else {
      this.kept[this.start] = compact; // a ring: the oldest kept event gives way
      this.start = (this.start + 1) % this.maxEvents;
    }
  }

  /** The finished data; actions renumbered most frequent first, statuses least severe first. */
  build(meta: Pick<ReportData, 'title' | 'source' | 'generatedAt' | 'selection'>): ReportData {
    const actionNames = [...this.actionIndex.keys()];
    const statusNames = [...this.statusIndex.keys()];
    const actionTotal = (a: number): number => (this.counts[a] ?? []).reduce((sum, n) => sum + (n ?? 0), 0);
    const actionOrder = actionNames.map((_, i) => i).sort((x, y) => actionTotal(y) - actionTotal(x) || cmp(actionNames[x]!, actionNames[y]!));
    const statusOrder = statusNames
      .map((_, i) => i)
      .sort((x, y) => LEVEL_RANK[levelOf(statusNames[x]!)] - LEVEL_RANK[levelOf(statusNames[y]!)] || cmp(statusNames[x]!, statusNames[y]!));
    const newAction = inverse(actionOrder);
    const newStatus = inverse(statusOrder);
    const events = [...this.kept.slice(this.start), ...this.kept.slice(0, this.start)];
    for (const event of events) {
      event.a = newAction[event.a]!;
      event.s = newStatus[event.s]!;
    }
    return {
      ...meta,
      total: this.total,
      actions: actionOrder.map((i) => actionNames[i]!),
      statuses: statusOrder.map((i) => statusNames[i]!),
      levels: statusOrder.map((i) => levelOf(statusNames[i]!)),
      counts: actionOrder.map((a) => statusOrder.map((s) => this.counts[a]?.[s] ?? 0)),
      first: this.first,
      last: this.last,
      events,
    };
  }
}

function indexOf(map: Map<string, number>, key: string): number {
  let index = map.get(key);
  if (index === undefined) {
    index = map.size;
    map.set(key, index);
  }
  return index;
}

function inverse(order: number[]): number[] {
  const result: number[] = [];
  order.forEach((old, position) => (result[old] = position));
  return result;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A timestamp as auditrail writes it (UTC, six digits, Z), so the page's Date.parse reads a zoneless seed timestamp as UTC, not local time. */
function utcTimestamp(timestamp: string): string {
  const us = parseTimestampUs(timestamp);
  return Number.isNaN(us) ? timestamp : formatTimestamp(us);
}
