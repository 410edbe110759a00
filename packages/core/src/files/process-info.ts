// Whether the process named in a lock or lease file is still the one that wrote it.
import { readFileSync, readlinkSync } from 'node:fs';

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined off Linux or for a gone process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * This process's pid namespace (`pid:[4026531836]`), or undefined off Linux. Containers that share
 * a hostname (a Kubernetes pod, Docker's host network) each have their own: a pid from another
 * namespace says nothing about the processes we can see.
 */
export function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** Whether a holder's pid can be checked here: same host and, when both are known, the same pid namespace. */
export function sameProcessSpace(host: string, namespace: string | undefined, ownHost: string, ownNamespace: string | undefined): boolean {
  return host === ownHost && (namespace === undefined || ownNamespace === undefined || namespace === ownNamespace);
}
