// Runs one bench/*.bench.ts in this (fresh) process and writes its sections as JSON to a file, for bench/run.ts.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BenchScenario, BenchSection } from './lib';

async function main(): Promise<void> {
  const [file, out] = process.argv.slice(2);
  if (!file || !out) throw new Error('usage: run-scenario.ts <scenario.bench.ts> <out.json>');
  const loaded = (await import(resolve(file))) as { default?: BenchScenario | { default?: BenchScenario } };
  // tsx may wrap a CommonJS default export once more.
  const scenario = typeof loaded.default === 'function' ? loaded.default : loaded.default?.default;
  if (typeof scenario !== 'function') throw new Error(`${file} does not default-export a BenchScenario`);
  let result: { sections: BenchSection[] } | { unavailable: string } | { error: string };
  try {
    result = { sections: await scenario() };
  } catch (err) {
    const e = err as Error;
    result = e?.name === 'BenchUnavailable' ? { unavailable: e.message } : { error: e?.stack ?? String(err) };
  }
  writeFileSync(out, JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
