// One readable line per event for people at a terminal; escapes anything that could steer the terminal.

const RESET = '\x1b[0m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const RED = '\x1b[31m';
const MAGENTA_BOLD = '\x1b[1;35m';
const DIM = '\x1b[2m';

/** Colours of the statuses of the built-in schemes (and common ones); other statuses stay plain. */
const STATUS_COLORS: Record<string, string> = {
  info: GREEN,
  success: GREEN,
  ok: GREEN,
  warning: YELLOW,
  warn: YELLOW,
  failure: RED,
  failed: RED,
  error: RED,
  critical: MAGENTA_BOLD,
  fatal: MAGENTA_BOLD,
};

/** An event as the formatter reads it: the fields of the on-disk record it prints. */
export interface PrintableEvent {
  /** ISO 8601 UTC timestamp. */
  timestamp: string;
  /** Position in the log. */
  seq?: number;
  /** Status. */
  status: string;
  /** Action type. */
  action_type: string;
  /** Who did it. */
  actor?: string | null;
  /** Context. */
  details?: unknown;
  /** Error message. */
  error?: string | null;
}

/** Options of `formatEvent`. */
export interface FormatOptions {
  /** ANSI colours for the status (and a dim seq). */
  color?: boolean;
}

// C0 and C1 controls (ESC starts terminal escape sequences), and the bidirectional overrides
// that can make a line read differently from what it holds ("Trojan Source").
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Replaces control and bidi-override characters with visible \uXXXX escapes. */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** `2026-05-27T14:30:05.456789Z #42 WARNING Drift detected actor=alice {"feature":"age"} error="..."` */
export function formatEvent(event: PrintableEvent, options: FormatOptions = {}): string {
  const status = printable(event.status).padEnd(7);
  const parts = [event.timestamp];
  if (typeof event.seq === 'number' && event.seq > 0) parts.push(options.color ? `${DIM}#${event.seq}${RESET}` : `#${event.seq}`);
  parts.push(options.color ? paint(event.status, status) : status, printable(event.action_type));
  if (event.actor) parts.push(`actor=${printable(event.actor)}`);
  if (event.details && typeof event.details === 'object' && Object.keys(event.details).length > 0) parts.push(printable(JSON.stringify(event.details)));
  if (event.error !== null && event.error !== undefined && event.error !== '') parts.push(`error=${printable(JSON.stringify(event.error))}`);
  return parts.join(' ');
}

function paint(status: string, text: string): string {
  const color = STATUS_COLORS[status.toLowerCase()];
  return color ? color + text + RESET : text;
}

/** Whether to colour output for a stream: a TTY, unless NO_COLOR is set; FORCE_COLOR overrides both. */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stream.isTTY);
}
