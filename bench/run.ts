// `npm run bench`: runs every bench/*.bench.ts in its own process, prints the tables and writes docs/benchmarks.md.
//
//   npm run bench               every scenario; rewrites docs/benchmarks.md
//   npm run bench -- local      only the scenarios whose file name contains "local"; prints, writes nothing
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt, type BenchSection } from './lib';

const ROOT = resolve(__dirname, '..');
const DOC = join(ROOT, 'docs', 'benchmarks.md');
/** A scenario that runs longer than this is killed and reported; the run goes on. */
const SCENARIO_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 180) * 1000;

interface Outcome {
  file: string;
  seconds: number;
  sections: BenchSection[];
  /** Why the scenario has no figures in this run, if so. */
  skipped?: string;
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort(byOrder);
  if (files.length === 0) throw new Error(`no bench/*.bench.ts matches ${filters.join(', ')}`);
  const machine = machineInfo();
  console.log(`auditrail benchmarks: ${machine.summary}\n`);
  const started = Date.now();
  const outcomes: Outcome[] = [];
  for (const file of files) {
    console.log(`▶ ${file}`);
    const outcome = await runScenario(file);
    outcomes.push(outcome);
    if (outcome.skipped) console.log(`  ${file}: NOT RUN: ${outcome.skipped}\n`);
    for (const section of outcome.sections) console.log(textTable(section));
    console.log(`  (${outcome.seconds.toFixed(0)} s)\n`);
  }
  const total = (Date.now() - started) / 1000;
  console.log(`whole run: ${total.toFixed(0)} s`);
  if (filters.length === 0) {
    writeFileSync(DOC, markdown(outcomes, machine, total));
    console.log(`wrote ${DOC}`);
  }
}

/** local first, then the others alphabetically. */
function byOrder(a: string, b: string): number {
  const rank = (f: string) => (f.startsWith('local') ? 0 : 1);
  return rank(a) - rank(b) || a.localeCompare(b);
}

function runScenario(file: string): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'auditrail-bench-run-'));
  const out = join(dir, 'result.json');
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', join(__dirname, 'run-scenario.ts'), join(__dirname, file), out], {
      stdio: ['ignore', 'inherit', 'inherit'],
      cwd: ROOT,
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), SCENARIO_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      let outcome: Outcome = { file, seconds, sections: [] };
      if (signal === 'SIGKILL') outcome.skipped = `killed after ${SCENARIO_TIMEOUT_MS / 1000} s (BENCH_TIMEOUT_S)`;
      else if (!existsSync(out)) outcome.skipped = `exited with code ${code} before reporting`;
      else {
        const result = JSON.parse(readFileSync(out, 'utf8')) as { sections?: BenchSection[]; unavailable?: string; error?: string };
        if (result.sections) outcome = { ...outcome, sections: result.sections.map(withRatios) };
        else outcome.skipped = result.unavailable ?? `failed: ${result.error?.split('\n')[0]}`;
        if (result.error) process.stderr.write(`${result.error}\n`);
      }
      rmSync(dir, { recursive: true, force: true });
      resolvePromise(outcome);
    });
  });
}

function withRatios(section: BenchSection): BenchSection {
  const reference = section.rows.find((r) => r.name === section.reference);
  if (!reference) return section;
  return { ...section, rows: section.rows.map((r) => ({ ...r, ratio: r.opsPerSec / reference.opsPerSec })) };
}

interface Machine {
  summary: string;
  lines: string[];
}

function machineInfo(): Machine {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? 'unknown CPU';
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  return {
    summary: `${cpu.length} cores (${model}), Node ${process.version}, ${platform()} ${release()}, ${date}`,
    lines: [
      `- Date: ${date}`,
      `- CPU: ${cpu.length} cores, ${model}`,
      `- Memory: ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
      `- Node: ${process.version} (${platform()} ${release()})`,
      `- Load average when the run started: ${load} (the machine is shared: figures are medians of interleaved rounds)`,
      `- Temp files under: ${tmpdir()}`,
    ],
  };
}

function ratioText(ratio: number | undefined): string {
  return ratio === undefined ? '' : `${ratio.toFixed(2)}×`;
}

function textTable(section: BenchSection): string {
  const width = Math.max(...section.rows.map((r) => r.name.length), 10);
  const lines = [`  ${section.title}`];
  for (const r of section.rows) {
    const cpu = r.cpuOpsPerSec === undefined ? '' : `  (${fmt(r.cpuOpsPerSec)} /CPU-s)`;
    lines.push(`    ${r.name.padEnd(width)}  ${fmt(r.opsPerSec).padStart(11)} /s  ${ratioText(r.ratio).padStart(7)}${cpu}`);
  }
  for (const t of section.targets ?? []) lines.push(`    ${t.met ? 'MET    ' : 'NOT MET'}  ${t.description} (${t.detail})`);
  return lines.join('\n') + '\n';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function markdown(outcomes: Outcome[], machine: Machine, seconds: number): string {
  const out: string[] = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts), which runs every `bench/*.bench.ts` in its own',
    'process and rewrites this page; `npm run bench -- local` runs one scenario and only prints.',
    'Every figure is from the run below, on the machine below, against a floor and the peers',
    'measured in the same run. Each figure is the median of interleaved rounds (A B C, B C A, …)',
    'after an untimed warm-up round, so a busy neighbour slows every contender alike. Where a table',
    'has an "events per CPU-second" column, it counts the CPU time of the benchmark process (user +',
    'system, all threads) instead of the clock: on a shared machine it is the steadier measure of the',
    'work done, though it leaves out time spent waiting on the disk.',
    '',
    '## This run',
    '',
    ...machine.lines,
    `- Whole run: ${seconds.toFixed(0)} s (${outcomes.map((o) => `${o.file.replace('.bench.ts', '')} ${o.seconds.toFixed(0)} s`).join(', ')})`,
    '',
  ];
  const targets = outcomes.flatMap((o) => o.sections.flatMap((s) => s.targets ?? []));
  if (targets.length > 0) {
    out.push('## Targets', '', '| target | this run | figures |', '| --- | --- | --- |');
    for (const t of targets) out.push(`| ${cell(t.description)} | ${t.met ? 'met' : '**not met**'} | ${cell(t.detail)} |`);
    out.push('');
  }
  for (const outcome of outcomes) {
    if (outcome.skipped) out.push(`## ${outcome.file}`, '', `Not run: ${outcome.skipped}`, '');
    for (const section of outcome.sections) {
      out.push(`## ${section.title}`, '');
      const ratioHead = section.reference ? `ratio to ${section.reference}` : 'ratio';
      const withCpu = section.rows.some((r) => r.cpuOpsPerSec !== undefined);
      const cpuHead = withCpu ? ' events per CPU-second |' : '';
      const cpuAlign = withCpu ? ' ---: |' : '';
      out.push(`| | events/s | ${cell(ratioHead)} |${cpuHead} note |`, `| --- | ---: | ---: |${cpuAlign} --- |`);
      for (const r of section.rows) {
        const cpu = withCpu ? ` ${r.cpuOpsPerSec === undefined ? '' : fmt(r.cpuOpsPerSec)} |` : '';
        out.push(`| ${cell(r.name)} | ${fmt(r.opsPerSec)} | ${ratioText(r.ratio)} |${cpu} ${cell(r.note ?? '')} |`);
      }
      out.push('');
      for (const t of section.targets ?? []) out.push(`- Target: ${t.description}: ${t.met ? 'met' : '**not met**'} (${t.detail}).`);
      if (section.targets?.length) out.push('');
      for (const note of section.notes ?? []) out.push(`- ${note}`);
      if (section.notes?.length) out.push('');
    }
  }
  return out.join('\n');
}

main().catch((err: unknown) => {
  console.error((err as Error)?.stack ?? String(err));
  process.exit(1);
});
