// OTLP/HTTP JSON logs: one logRecord per audit event, severity from the status, attributes from the fields.
import { parseTimestampUs, type AuditEvent, type StatusScheme } from '@auditrail/core';

/** An OTLP AnyValue in its JSON encoding (int64 as decimal strings). */
export type OtlpValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpValue[] } }
  | { kvlistValue: { values: OtlpKeyValue[] } };

/** An OTLP attribute. */
export interface OtlpKeyValue {
  /** Attribute name. */
  key: string;
  /** Its value. */
  value: OtlpValue;
}

/** OpenTelemetry severity numbers by well-known status name (case-insensitive). */
const NAMED_SEVERITY: Record<string, number> = {
  trace: 1,
  debug: 5,
  info: 9,
  success: 9,
  ok: 9,
  notice: 10,
  warn: 13,
  warning: 13,
  error: 17,
  failed: 17,
  failure: 17,
  fail: 17,
  critical: 21,
  fatal: 21,
  alert: 22,
  emergency: 24,
};

/**
 * OTel severityNumber of a status: a well-known name maps directly; any other status is placed
 * by its rank in the logger's scheme, from INFO (9) for the least severe to FATAL (21) for the most.
 */
export function severityNumber(status: string, scheme: StatusScheme | undefined): number {
  const named = NAMED_SEVERITY[status.toLowerCase()];
  if (named !== undefined) return named;
  const list = scheme?.statuses;
  const rank = scheme?.severity(status) ?? -1;
  if (!list || list.length < 2 || rank < 0) return 9;
  return Math.round(9 + (rank / (list.length - 1)) * 12);
}

/** Converts any JSON-safe value to an OTLP AnyValue. */
export function otlpValue(value: unknown): OtlpValue {
  if (value === null || value === undefined) return { stringValue: '' };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (typeof value === 'bigint') return { intValue: value.toString() };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(otlpValue) } };
  if (typeof value === 'object') return { kvlistValue: { values: Object.entries(value).map(([key, v]) => ({ key, value: otlpValue(v) })) } };
  return { stringValue: String(value) };
}

/** Nanoseconds since the epoch of an event's timestamp (any form core reads), as the decimal string OTLP JSON wants; '0' when it is not a time. */
export function timeUnixNano(timestamp: string): string {
  const us = parseTimestampUs(timestamp);
  return Number.isNaN(us) ? '0' : (BigInt(us) * 1000n).toString();
}

/** One OTLP logRecord for an audit event. */
export function logRecord(event: AuditEvent, scheme: StatusScheme | undefined): Record<string, unknown> {
  const attributes: OtlpKeyValue[] = [
    { key: 'audit.id', value: { stringValue: event.id } },
    { key: 'audit.seq', value: { intValue: String(event.seq) } },
    { key: 'audit.action_type', value: { stringValue: event.action_type } },
    { key: 'audit.status', value: { stringValue: event.status } },
    { key: 'audit.details', value: otlpValue(event.details) },
  ];
  if (event.error !== null) attributes.push({ key: 'audit.error', value: { stringValue: event.error } });
  if (event.actor !== null) attributes.push({ key: 'enduser.id', value: { stringValue: event.actor } });
  const { host, pid, experiment, ...rest } = event.source;
  if (host !== undefined) attributes.push({ key: 'host.name', value: { stringValue: String(host) } });
  if (pid !== undefined) attributes.push({ key: 'process.pid', value: otlpValue(pid) });
  if (experiment !== undefined) attributes.push({ key: 'audit.experiment', value: { stringValue: String(experiment) } });
  for (const [key, value] of Object.entries(rest)) attributes.push({ key: `audit.source.${key}`, value: otlpValue(value) });
  attributes.push({ key: 'audit.prev_hash', value: { stringValue: event.prev_hash } }, { key: 'audit.hash', value: { stringValue: event.hash } });
  const nanos = timeUnixNano(event.timestamp);
  return {
    timeUnixNano: nanos,
    observedTimeUnixNano: nanos,
    severityNumber: severityNumber(event.status, scheme),
    severityText: event.status,
    body: { stringValue: event.action_type },
    attributes,
  };
}

/** The ExportLogsServiceRequest body of a batch. */
export function otlpLogsBody(batch: readonly AuditEvent[], scheme: StatusScheme | undefined, serviceName: string): Record<string, unknown> {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
        scopeLogs: [{ scope: { name: '@auditrail/http' }, logRecords: batch.map((event) => logRecord(event, scheme)) }],
      },
    ],
  };
}
