// Runs TypeScript fixtures in child processes, the way the tests' own runner loads them.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const TSX = require.resolve('tsx/cjs');

/** Spawns `node --require tsx/cjs script ...args`. */
export function spawnTs(script: string, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--require', TSX, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

/** Runs a TypeScript script to completion; resolves with its exit code and output. */
export function runTs(script: string, args: string[] = [], options: SpawnOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(script, args, options);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What a child says on stdout: `until(word)` resolves once it said `word`, and rejects (quoting it) if it exits first. */
export function saidBy(child: ChildProcess): { until: (word: string) => Promise<void> } {
  let text = '';
  const waiting: { word: string; ok: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    text += d.toString();
    for (const w of waiting.filter((w) => text.includes(w.word))) w.ok();
  });
  const exited = new Promise<never>((_, fail) => child.on('exit', (code) => fail(new Error(`child exited with ${code}; it said: ${text}`))));
  exited.catch(() => undefined);
  return {
    until: (word) => (text.includes(word) ? Promise.resolve() : Promise.race([new Promise<void>((ok) => waiting.push({ word, ok })), exited])),
  };
}
