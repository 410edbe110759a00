// Docs that cannot rot: every ```ts block of README.md, docs/**/*.md and packages/*/README.md is typechecked against the real packages
// (one tsc run), and each block marked <!-- run --> is also run, in its own temporary directory, and must exit 0.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { collectSnippets, extractBlocks, typecheck, writeSnippets, type Snippet } from './docs-helpers/snippets';
import { tempDir } from './helpers/tmp';

const ROOT = resolve(__dirname, '..');
// Inside the repo, so '@auditrail/*' resolves as it does for users; .tmp/ is git-ignored; one directory per run.
const OUT = join(ROOT, '.tmp', 'docs-snippets', String(process.pid));
const TSX = pathToFileURL(require.resolve('tsx')).href;
const RUN_TIMEOUT_MS = 30_000;

const snippets = collectSnippets(ROOT, OUT);

/** Runs one block with Node and tsx in a fresh working directory; resolves with its exit code and output. */
function runSnippet(snippet: Snippet): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of ['AUDIT_LOG_DIR', 'AUDIT_LOG_FORMAT', 'AUDIT_LOG_HMAC_KEY']) delete env[name];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', TSX, snippet.file], { cwd: tempDir('auditrail-doc-'), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n(killed after ${RUN_TIMEOUT_MS} ms)`;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

describe('docs: every TypeScript block compiles, and runs where marked', function () {
  let errors: Map<string, string[]>;

  before(function () {
    this.timeout(300_000);
    const tsconfig = writeSnippets(ROOT, OUT, snippets);
    errors = typecheck(ROOT, tsconfig, snippets);
  });

  after(function () {
    rmSync(OUT, { recursive: true, force: true });
  });

  it('finds the blocks of the docs, and tsc reports nothing outside them', function () {
    expect(snippets.length).to.be.greaterThan(0);
    expect(errors.get('(tsc)') ?? []).to.deep.equal([]);
  });

  for (const snippet of snippets) {
    it(`${snippet.doc}:${snippet.line} compiles`, function () {
      expect(errors.get(snippet.file) ?? [], `tsc errors in ${snippet.doc}:\n${(errors.get(snippet.file) ?? []).join('\n')}`).to.deep.equal([]);
    });
    if (snippet.run) {
      it(`${snippet.doc}:${snippet.line} runs and exits 0`, async function () {
        this.timeout(RUN_TIMEOUT_MS + 10_000);
        const { code, output } = await runSnippet(snippet);
        expect(code, `${snippet.doc}:${snippet.line} exited with ${code}:\n${output}`).to.equal(0);
      });
    }
  }
});

describe('docs: how blocks are found', function () {
  it('takes ts and typescript blocks, the run mark, indented fences, and skips blocks nested in longer fences', function () {
    const markdown = [
      '# Title', // 1
      '```ts', // 2
      'const a = 1;', // 3
      '```', // 4
      '<!-- run -->', // 5
      '', // 6
      '```typescript', // 7
      'const b = 2;', // 8
      '```', // 9
      '````md', // 10
      '```ts', // 11
      'nested();', // 12
      '```', // 13
      '````', // 14
      '1. A list', // 15
      '   ```ts', // 16
      '   const c = 3;', // 17
      '   ```', // 18
      '```sh', // 19
      'npm test', // 20
      '```', // 21
    ].join('\n');
    expect(extractBlocks(markdown)).to.deep.equal([
      { line: 2, code: 'const a = 1;\n', run: false },
      { line: 7, code: 'const b = 2;\n', run: true },
      { line: 16, code: 'const c = 3;\n', run: false },
    ]);
  });
});
