// Status schemes: which statuses are valid, which is the default, and how severe each is.

/** A set of valid statuses ordered by severity, with a default. */
export interface StatusScheme {
  /** Name used in error messages. */
  readonly name: string;
  /** Status used when the caller gives none. */
  readonly defaultStatus: string;
  /** Valid statuses from least to most severe, when the scheme lists them. */
  readonly statuses: readonly string[] | undefined;
  /** Whether a status is valid. */
  isValid(status: string): boolean;
  /** Severity rank (higher is worse); -1 for an unknown status. */
  severity(status: string): number;
  /** A new scheme with more statuses, each more severe than the last: `pipelineStatuses.extend('CRITICAL')`. */
  extend(...more: string[]): StatusScheme;
}

/** Options of a listed status scheme. */
export interface StatusListOptions {
  /** Name used in error messages; defaults to the statuses joined by "/". */
  name?: string;
  /** Default status; defaults to the least severe one. */
  defaultStatus?: string;
}

/** A scheme from statuses listed from least to most severe. */
export function defineStatuses(statuses: readonly string[], options: StatusListOptions = {}): StatusScheme {
  const list = Object.freeze([...statuses]);
  if (list.length === 0) throw new TypeError('defineStatuses: at least one status is required');
  for (const s of list) {
    if (typeof s !== 'string' || s.length === 0) throw new TypeError(`defineStatuses: invalid status ${JSON.stringify(s)}`);
  }
  if (new Set(list).size !== list.length) throw new TypeError(`defineStatuses: duplicate status in ${list.join(', ')}`);
  const defaultStatus = options.defaultStatus ?? list[0]!;
  if (!list.includes(defaultStatus)) {
    throw new TypeError(`defineStatuses: default status ${JSON.stringify(defaultStatus)} is not one of ${list.join(', ')}`);
  }
  const rank = new Map(list.map((s, i) => [s, i] as const));
  const name = options.name ?? list.join('/');
  return {
    name,
    defaultStatus,
    statuses: list,
    isValid: (status) => rank.has(status),
    severity: (status) => rank.get(status) ?? -1,
    extend: (...more) => defineStatuses([...list, ...more], { name: [name, ...more].join('+'), defaultStatus }),
  };
}

/** Options of a scheme defined by a validator function. */
export interface StatusValidatorOptions {
  /** Status used when the caller gives none; must pass the validator. */
  defaultStatus: string;
  /** Name used in error messages. */
  name?: string;
  /** Severity of a valid status (higher is worse); 0 for all when omitted. */
  severity?: (status: string) => number;
}

/** A scheme that accepts whatever `validate` accepts. */
export function statusValidator(validate: (status: string) => boolean, options: StatusValidatorOptions): StatusScheme {
  if (!validate(options.defaultStatus)) {
    throw new TypeError(`statusValidator: default status ${JSON.stringify(options.defaultStatus)} fails the validator`);
  }
  const severityOf = options.severity ?? (() => 0);
  const scheme: StatusScheme = {
    name: options.name ?? 'custom',
    defaultStatus: options.defaultStatus,
    statuses: undefined,
    isValid: (status) => validate(status),
    severity: (status) => (validate(status) ? severityOf(status) : -1),
    extend: (...more) => {
      const base = scheme;
      const extra = new Set(more);
      return statusValidator((s) => extra.has(s) || base.isValid(s), {
        defaultStatus: base.defaultStatus,
        name: [base.name, ...more].join('+'),
        severity: (s) => (extra.has(s) ? 1_000_000 + more.indexOf(s) : base.severity(s)),
      });
    },
  };
  return scheme;
}

/** The second seed's scheme, and the default: INFO < WARNING < FAILURE. */
export const pipelineStatuses: StatusScheme = defineStatuses(['INFO', 'WARNING', 'FAILURE'], { name: 'pipeline' });

/** The first seed's scheme: success < failed. */
export const outcomeStatuses: StatusScheme = defineStatuses(['success', 'failed'], { name: 'outcome' });
