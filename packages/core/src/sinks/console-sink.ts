// The console sink: one readable line per event (coloured on a TTY unless NO_COLOR), or JSON lines.
import type { AuditEvent } from '../event';
import type { EventFilter } from '../filter';
import type { Sink, SinkContext } from '../sink';
import type { StatusScheme } from '../statuses';
import { InvalidOptionError } from '../errors';
import { checkBoolean, checkChoice } from '../option-checks';
import { refuseMisspelledOptions } from '../option-names';

/** Options of the console sink. */
export interface ConsoleSinkOptions {
  /** 'pretty' (default) or 'json' (the event as one JSON line). */
  style?: 'pretty' | 'json';
  /** Where to write; default process.stdout. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force colour on or off; default: on for a TTY unless NO_COLOR is set. */
  color?: boolean;
  /** Which events to print. */
  filter?: EventFilter;
}

const OPTION_NAMES: readonly string[] = Object.keys({ style: 0, stream: 0, color: 0, filter: 0 } satisfies Record<keyof ConsoleSinkOptions, 0>);

const RESET = '\x1b[0m';
const COLORS = ['\x1b[32m', '\x1b[33m', '\x1b[31m', '\x1b[1;35m'];

/** Prints events to a stream. */
export class ConsoleSink implements Sink {
  readonly name = 'console';
  readonly filter: EventFilter | undefined;
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly style: 'pretty' | 'json';
  private readonly color: boolean;
  private context: SinkContext | undefined;

  constructor(options: ConsoleSinkOptions = {}) {
    refuseMisspelledOptions(options, OPTION_NAMES);
    this.stream = options.stream ?? process.stdout;
    if (typeof this.stream.write !== 'function') throw new InvalidOptionError('stream', 'must be a writable stream');
    this.style = checkChoice('style', options.style ?? 'pretty', ['pretty', 'json'] as const);
    this.filter = options.filter;
    const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
    this.color = options.color === undefined ? Boolean(this.stream.isTTY) && !noColor : checkBoolean('color', options.color);
  }

  open(context: SinkContext): void {
    this.context = context; // its statuses are read at each event: a plugin may change the scheme later
  }

  write(event: AuditEvent, json: string): void {
    this.stream.write((this.style === 'json' ? json : this.format(event)) + '\n');
  }

  /** The readable line for an event. */
  format(event: AuditEvent): string {
    const padded = event.status.padEnd(7);
    const parts = [event.timestamp, this.color ? this.paint(event.status, padded) : padded, event.action_type];
    if (event.actor) parts.push(`actor=${event.actor}`);
    if (Object.keys(event.details).length > 0) parts.push(JSON.stringify(event.details));
    if (event.error !== null) parts.push(`error=${JSON.stringify(event.error)}`);
    return parts.join(' ');
  }

  private paint(status: string, text: string): string {
    const statuses: StatusScheme | undefined = this.context?.statuses;
    const rank = statuses ? statuses.severity(status) : 0;
    const top = statuses?.statuses ? statuses.statuses.length - 1 : 2;
    let color = COLORS[0];
    if (rank > 0 && top > 0) {
      const share = rank / top;
      color = rank === top && top >= 3 ? COLORS[3] : share > 0.5 ? COLORS[2] : COLORS[1];
    }
    return color + text + RESET;
  }
}
