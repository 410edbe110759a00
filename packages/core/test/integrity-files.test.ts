// The files are the owner's alone: 0600 files and 0700 directories whatever the umask, warnings for looser
// files, names that cannot escape rootLogDir, and no following a symlink planted where a log file should be.
import { expect } from 'chai';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, InvalidOptionError, writeSigningKeys, type LogFormat } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';

const ALL: Exclude<LogFormat, 'none'>[] = ['jsonl', 'json', 'csv'];

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('files and paths', () => {
  it('creates files 0600 and directories 0700 even with umask 0', async () => {
    const keys = writeSigningKeys(join(tempDir(), 'keys'));
    const previous = process.umask(0);
    try {
      const root = join(tempDir(), 'a', 'b', 'logs');
      const logger = new AuditLogger({ rootLogDir: root, format: ALL, checkpoints: { privateKey: keys.privateKeyPath, every: 2 } });
      for (let i = 0; i < 3; i++) await logger.logEvent('step', { i });
      await logger.close();
      expect(modeOf(root)).to.equal(0o700);
      expect(modeOf(join(root, '..'))).to.equal(0o700);
      expect(modeOf(join(root, '..', '..'))).to.equal(0o700);
      const files = readdirSync(root).filter((name) => statSync(join(root, name)).isFile());
      expect(files).to.include.members(['audit_log.jsonl', 'audit_log.json', 'audit_log.csv', 'audit_log.checkpoints.jsonl', 'audit_log.id']);
      for (const name of files) expect(modeOf(join(root, name)), name).to.equal(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('warns on the bus about an existing log file that others can read', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit_log.jsonl'), '');
    chmodSync(join(dir, 'audit_log.jsonl'), 0o644);
    const warnings: string[] = [];
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    logger.on('warning', ({ code, message }) => warnings.push(`${code}: ${message}`));
    await logger.logEvent('a');
    await logger.close();
    expect(warnings.join('\n')).to.match(/LOOSE_FILE_MODE: .*audit_log\.jsonl has mode 644/);
  });

  it('rejects an experimentName that would escape rootLogDir: "..", separators, absolute paths, NUL', () => {
    for (const name of ['..', '../x', 'a/b', '/etc/passwd', 'a\\b', 'x\0y']) {
      expect(() => new AuditLogger({ rootLogDir: tempDir(), experimentName: name, format: 'jsonl' }), JSON.stringify(name)).to.throw(InvalidOptionError, /experimentName/);
    }
  });

  it('rejects a rootLogDir holding a NUL byte, naming the option', () => {
    expect(() => new AuditLogger({ rootLogDir: `${tempDir()}/x\0y`, format: 'jsonl' })).to.throw(InvalidOptionError, /rootLogDir/);
  });

  it('refuses a symlink where a log file or the checkpoints should be, unless allowSymlink', async () => {
    const keys = writeSigningKeys(join(tempDir(), 'keys'));
    for (const name of ['audit_log.jsonl', 'audit_log.csv', 'audit_log.checkpoints.jsonl']) {
      const dir = tempDir();
      const target = join(tempDir(), 'elsewhere');
      writeFileSync(target, '', { mode: 0o600 });
      symlinkSync(target, join(dir, name));
      const options = { rootLogDir: dir, format: ['jsonl', 'csv'] as LogFormat[], checkpoints: { privateKey: keys.privateKeyPath } };
      expect(() => new AuditLogger(options), name).to.throw(InvalidOptionError, /symbolic link/);
      const allowed = new AuditLogger({ ...options, allowSymlink: true });
      await allowed.logEvent('through the link');
      await allowed.close();
      expect(readFileSync(target, 'utf8'), name).not.to.equal('');
    }
  });

  it('never creates a file outside rootLogDir for a sink name full of path syntax', async () => {
    const parent = tempDir();
    const dir = join(parent, 'logs');
    mkdirSync(dir);
    const logger = new AuditLogger({
      rootLogDir: dir,
      format: 'jsonl',
      sinks: [{ name: '../../escape', export: async () => ({ code: 'ok' as const }) }],
    });
    await logger.logEvent('a');
    await logger.flush();
    await logger.close();
    expect(readdirSync(parent)).to.deep.equal(['logs']);
    expect(existsSync(join(parent, 'escape.cursor'))).to.equal(false);
  });
});
