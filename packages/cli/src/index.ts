// @auditrail/cli: the `auditrail` command, also usable in-process.
export { buildProgram } from './program';
