// Streams events into a ReportBuilder and writes the page: the shell, the data as script-safe JSON in pieces, the script.
import type { AuditEvent } from '@auditrail/core';
import type { TextSink } from '../output';
import { jsonForScript } from './embed-json';
import { pageEnd, pageStart } from './page';
import { ReportBuilder, type ReportData } from './report-data';

/** What the page says about where its events came from. */
export interface ReportMeta {
  /** Heading of the page. */
  title: string;
  /** The log read. */
  source: string;
  /** The command-line filters, as text ('' for none). */
  selection: string;
  /** At most this many events are held in full (the newest); counts cover all. */
  maxEvents: number;
  /** When the report is made; default now. */
  now?: Date;
}

/** How many events a report counted and how many it holds in full. */
export interface ReportResult {
  /** Events selected from the log. */
  total: number;
  /** Events held in full by the page. */
  shown: number;
}

const EVENTS_PER_WRITE = 256;

/** Reads the events (in log order) and writes the whole page to `out`; does not end `out`. */
export async function writeReport(events: AsyncIterable<AuditEvent>, meta: ReportMeta, out: TextSink, onEvent: () => void = () => undefined): Promise<ReportResult> {
  const builder = new ReportBuilder(meta.maxEvents);
  for await (const event of events) {
    builder.add(event);
    onEvent();
  }
  const data = builder.build({
    title: meta.title,
    source: meta.source,
    generatedAt: (meta.now ?? new Date()).toISOString(),
    selection: meta.selection,
  });
  await write(out, pageStart(meta.title));
  await writeData(out, data);
  await write(out, pageEnd());
  return { total: data.total, shown: data.events.length };
}

/** The data as one JSON object, its events written a few hundred at a time so no single string grows with the log. */
async function writeData(out: TextSink, data: ReportData): Promise<void> {
  const { events, ...rest } = data;
  const head = jsonForScript(rest);
  await write(out, head.slice(0, -1) + ',"events":[');
  for (let i = 0; i < events.length; i += EVENTS_PER_WRITE) {
    const slice = events.slice(i, i + EVENTS_PER_WRITE).map((event) => jsonForScript(event));
    await write(out, (i === 0 ? '' : ',') + slice.join(','));
  }
  await write(out, ']}');
}

async function write(out: TextSink, text: string): Promise<void> {
  const full = out.write(text);
  if (full) await full;
}
