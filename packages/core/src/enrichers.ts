// Ready enrichers: git commit of the working tree, and fixed context such as a run id.
import { execFileSync } from 'node:child_process';
import type { Enricher } from './plugin';
import { definePlugin, type AuditPlugin } from './plugin';

/** Adds `source.git_commit` (read once, now) when `cwd` is in a git work tree; adds nothing otherwise. */
export function gitCommitEnricher(cwd: string = process.cwd()): Enricher {
  let commit: string | undefined;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    commit = undefined;
  }
  return (source) => {
    if (commit) source.git_commit = commit;
  };
}

/** Adds fixed keys to every event's source (run id, cluster, model version, ...). */
export function contextEnricher(context: Record<string, string | number | boolean>): Enricher {
  const entries = Object.entries(context);
  return (source) => {
    for (const [key, value] of entries) source[key] = value;
  };
}

/** A plugin with both: `logger.use(contextPlugin({ run_id }))`. */
export function contextPlugin(context: Record<string, string | number | boolean> = {}, options: { git?: boolean } = {}): AuditPlugin {
  const enrichers: Enricher[] = [contextEnricher(context)];
  if (options.git !== false) enrichers.push(gitCommitEnricher());
  return definePlugin({ name: 'context', enrichers });
}
