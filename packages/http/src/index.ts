// @auditrail/http: an HTTP batch sink with presets for observability endpoints. Every public name is exported here, explicitly.
export { HttpSink, idempotencyKey } from './http-sink';
export { resolveHttpOptions, type HttpSinkOptions, type HttpBodyHook, type ResolvedHttpOptions } from './options';
export { PRESETS, type HttpPreset, type PresetShape, type PresetSettings } from './presets';
export { HttpExportError, classifyStatus, classifyTransportError, isRetryableStatus, parseRetryAfter } from './classify';
export { otlpLogsBody, logRecord, otlpValue, severityNumber, timeUnixNano, type OtlpValue, type OtlpKeyValue } from './otlp';
