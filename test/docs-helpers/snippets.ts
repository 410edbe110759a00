// Finds the TypeScript code blocks of the docs, writes them as modules inside the repo, typechecks them in one
// tsc run and maps each error back to its Markdown line. The conventions are in docs/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One ```ts block of a Markdown file. */
export interface Snippet {
  /** Markdown file, relative to the repo root. */
  doc: string;
  /** Line of the opening fence (1-based). */
  line: number;
  /** Source of the block. */
  code: string;
  /** Marked `<!-- run -->`: executed as well as compiled. */
  run: boolean;
  /** Where the block is written to be compiled and run. */
  file: string;
}

const OPEN = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)(.*)$/;
const LANGUAGES = new Set(['ts', 'typescript']);
const RUN_MARK = /^\s*<!--\s*run\s*-->\s*$/i;

/** Markdown files whose blocks are tested: README.md, everything under docs/, and each package's README.md. */
export function docFiles(root: string): string[] {
  const files = existsSync(join(root, 'README.md')) ? ['README.md'] : [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  if (existsSync(join(root, 'packages'))) {
    for (const pkg of readdirSync(join(root, 'packages')).sort()) {
      if (existsSync(join(root, 'packages', pkg, 'README.md'))) files.push(join('packages', pkg, 'README.md'));
    }
  }
  return files;
}

/** The ```ts and ```typescript blocks of one Markdown text; a fence closes only with one at least as long. */
export function extractBlocks(markdown: string): { line: number; code: string; run: boolean }[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: { line: number; code: string; run: boolean }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, language] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    for (; j < lines.length && !close.test(lines[j]!); j++) body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    if (LANGUAGES.has(language.toLowerCase())) blocks.push({ line: i + 1, code: body.join('\n') + '\n', run: markedToRun(lines, i) });
    i = j; // skip the block, whatever its language, so fences inside it are not read as blocks
  }
  return blocks;
}

/** A block runs when the last non-blank line before its fence is `<!-- run -->`. */
function markedToRun(lines: string[], fence: number): boolean {
  for (let k = fence - 1; k >= 0; k--) {
    if (lines[k]!.trim() === '') continue;
    return RUN_MARK.test(lines[k]!);
  }
  return false;
}

/** Every block of the docs, each with the .mts file it will be written to under `outDir`. */
export function collectSnippets(root: string, outDir: string): Snippet[] {
  const snippets: Snippet[] = [];
  for (const doc of docFiles(root)) {
    const name = doc.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-');
    for (const block of extractBlocks(readFileSync(join(root, doc), 'utf8'))) {
      // ES modules: top-level await works, and each block has its own scope.
      snippets.push({ doc, line: block.line, code: block.code, run: block.run, file: join(outDir, `${name}-L${block.line}.mts`) });
    }
  }
  return snippets;
}

/** Writes the blocks and a tsconfig extending the project's base one; a block with no import or export still becomes a module. */
export function writeSnippets(root: string, outDir: string, snippets: Snippet[]): string {
  mkdirSync(outDir, { recursive: true });
  for (const snippet of snippets) {
    const isModule = /^\s*(import|export)\s/m.test(snippet.code);
    writeFileSync(snippet.file, snippet.code + (isModule ? '' : 'export {};\n'));
  }
  const tsconfig = join(outDir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify(
      {
        extends: relative(outDir, join(root, 'tsconfig.base.json')),
        compilerOptions: {
          noEmit: true,
          composite: false,
          declaration: false,
          declarationMap: false,
          sourceMap: false,
          // A doc may name a value only to show it: that is not an error in prose.
          noUnusedLocals: false,
          types: ['node'],
        },
        files: snippets.map((s) => relative(outDir, s.file)),
      },
      null,
      2,
    ),
  );
  return tsconfig;
}

/** Runs the project's tsc once over the blocks; returns its errors per block file, each mapped to `doc:line`. */
export function typecheck(root: string, tsconfig: string, snippets: Snippet[]): Map<string, string[]> {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', tsconfig, '--pretty', 'false'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (result.error) throw result.error;
  const byFile = new Map(snippets.map((s) => [s.file, s] as const));
  const errors = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of (result.stdout + result.stderr).split('\n')) {
    const match = /^(.+?\.mts)\((\d+),(\d+)\): (.*)$/.exec(line);
    if (match) {
      const snippet = byFile.get(join(root, match[1]!)) ?? byFile.get(match[1]!);
      const key = snippet?.file ?? '(tsc)';
      const where = snippet ? `${snippet.doc}:${snippet.line + Number(match[2])}:${match[3]}` : `${match[1]}(${match[2]},${match[3]})`;
      current = errors.get(key) ?? [];
      current.push(`${where} ${match[4]}`);
      errors.set(key, current);
    } else if (line.startsWith('  ') && current) current.push(line);
    else if (line.trim() !== '') (errors.get('(tsc)') ?? errors.set('(tsc)', []).get('(tsc)')!).push(line);
  }
  if (result.status !== 0 && errors.size === 0) errors.set('(tsc)', [`tsc exited with ${result.status}`]);
  return errors;
}
