// Every command pays for what program.ts loads: the remote-sink stacks (pg, axios, nats) must load only in the commands that use them.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const PROGRAM = join(__dirname, '..', 'dist', 'program.js');

describe('CLI start-up', () => {
  it('builds the program without loading pg, axios or nats', async () => {
    const script = `require(${JSON.stringify(PROGRAM)}).buildProgram();
const heavy = Object.keys(require.cache).filter((path) => /[\\\\/]node_modules[\\\\/](pg|axios|nats)[\\\\/]/.test(path));
process.stdout.write(JSON.stringify([...new Set(heavy.map((path) => path.replace(/.*node_modules[\\\\/]([^\\\\/]+).*/, '$1')))]));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { timeout: 30_000 });
    expect(JSON.parse(stdout), 'import these inside the action, with await import()').to.deep.equal([]);
  });
});
