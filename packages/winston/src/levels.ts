// Maps audit statuses to winston levels by severity, and winston levels to statuses for lines that name none.
import { resolveOutcomeStatuses, type StatusScheme } from '@auditrail/core';

/**
 * The winston (npm) level for a status, by its severity in the scheme: the least severe status
 * is 'info', the upper half 'error' (so failed, FAILURE and CRITICAL), the rest 'warn'. A scheme
 * that does not list its statuses maps severity 0 to 'info' and anything higher to 'error'.
 */
export function levelForStatus(scheme: StatusScheme, status: string): 'info' | 'warn' | 'error' {
  const rank = scheme.severity(status);
  if (rank <= 0) return 'info';
  const top = scheme.statuses ? scheme.statuses.length - 1 : rank;
  return rank / top > 0.5 ? 'error' : 'warn';
}

/**
 * The status of a winston line that names none: 'error' (and syslog's crit, alert, emerg) maps
 * to the scheme's failure status, 'warn'/'warning' to WARNING when the scheme has it, the rest
 * to the scheme's success status (success or INFO).
 */
export function statusForLevel(scheme: StatusScheme, level: string): string {
  let outcome: { success: string; failure: string } | undefined;
  try {
    outcome = resolveOutcomeStatuses(scheme);
  } catch {
    outcome = undefined; // a scheme without a failure status: every level maps to its default
  }
  if (['error', 'crit', 'alert', 'emerg'].includes(level)) return outcome?.failure ?? scheme.defaultStatus;
  if ((level === 'warn' || level === 'warning') && scheme.isValid('WARNING')) return 'WARNING';
  return outcome?.success ?? scheme.defaultStatus;
}
