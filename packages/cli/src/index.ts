// @auditrail/cli: the `auditrail` command, also usable in-process.
export { buildProgram } from './program';
export { runCli } from './run';
export { EXIT } from './root';
export { formatEvent, printable, wantsColor, type FormatOptions, type PrintableEvent } from './format-event';
export { selectEvents, matches, checkEvent, checkedEvents, type Selection } from './select';
export { openLog, logFiles, describeLog, type OpenedLog } from './open-log';
export { addSelectionOptions, selectionFrom, type SelectionFlags, type SelectionOptionSet } from './options';
export { parseTimeUs } from './time';
export { LogCursor, inLogOrder, type CursorListener } from './follow/log-cursor';
export { followLog, type FollowOptions } from './follow/follow-log';
export { startProgress, progressAllowed, countRecords, type Progress, type ProgressOptions } from './report/progress';
export { jsonForScript } from './report/embed-json';
export { writeReport, type ReportMeta, type ReportResult } from './report/write-report';
export { levelOf, type StatusLevel } from './report/report-data';
