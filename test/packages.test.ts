// The published surface: every package loads the way a user loads it, by require (CJS) and by import (ESM).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const packages = readdirSync(join(ROOT, 'packages')).map((dir) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as { name: string };
  return pkg.name;
});

function run(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('published packages', () => {
  it('finds every workspace package', () => {
    expect(packages).to.include.members(['@auditrail/core', '@auditrail/cli', '@auditrail/postgres', '@auditrail/http', '@auditrail/winston', '@auditrail/nats']);
  });

  for (const name of packages) {
    it(`${name} loads with require() and import, with the same named exports`, () => {
      const cjs = run(['-e', `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(name)})).sort()))`]);
      const esm = run(['--input-type=module', '-e', `import * as m from ${JSON.stringify(name)}; console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort()))`]);
      const cjsNames = JSON.parse(cjs) as string[];
      expect(cjsNames.filter((k) => k !== '__esModule')).to.deep.equal((JSON.parse(esm) as string[]).filter((k) => k !== '__esModule'));
    });
  }

  it('exports AuditLogger from core to ESM users', () => {
    const out = run(['--input-type=module', '-e', "import { AuditLogger, pipelineStatuses } from '@auditrail/core'; console.log(typeof AuditLogger, pipelineStatuses.defaultStatus)"]);
    expect(out.trim()).to.equal('function INFO');
  });
});
