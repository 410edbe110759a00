// @auditrail/cli: the `auditrail` command, also usable in-process.
export { buildProgram } from './program';
export { runCli } from './run';
export { EXIT } from './root';
export { formatEvent, printable, wantsColor, type FormatOptions, type PrintableEvent } from './format-event';
export { selectEvents, openLog, matches, checkEvent, checkedEvents, type Selection } from './select';
export { addSelectionOptions, selectionFrom, type SelectionFlags, type SelectionOptionSet } from './options';
export { parseTimeUs } from './time';
