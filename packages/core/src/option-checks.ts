// Checks of numeric options shared by every package: a bad value is an InvalidOptionError naming the option, at construction.
import { InvalidOptionError } from './errors';

/** The longest delay a Node timer takes: a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Returns `value` when it is a number of milliseconds from `min` to `max` (a timer's range by default), else throws naming `option`. */
export function checkMilliseconds(option: string, value: unknown, min = 1, max = MAX_TIMER_MS): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    const range = max === Infinity ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new InvalidOptionError(option, `${describeValue(value)} is not a number of milliseconds ${range}`);
  }
  return value;
}

/** Returns `value` when it is a whole number from `min` to `max`, else throws naming `option`. */
export function checkWholeNumber(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new InvalidOptionError(option, `${describeValue(value)} is not a whole number ${range}`);
  }
  return value;
}

/** Returns `value` when it is a boolean (not a string such as "false" from an environment variable), else throws naming `option`. */
export function checkBoolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, `${describeValue(value)} is not true or false`);
  return value;
}

/** Returns `value` when it is one of `choices`, else throws naming `option` and the choices. */
export function checkChoice<T extends string>(option: string, value: T, choices: readonly T[]): T {
  if (!choices.includes(value)) {
    throw new InvalidOptionError(option, `${describeValue(value)} is not one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`);
  }
  return value;
}

/** Throws naming `option` unless `value` is a function or undefined (an optional callback). */
export function checkFunction(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(option, `must be a function, got ${describeValue(value)}`);
}

/** A value as an error message shows it: strings quoted (so that "500" and 500 are told apart), arrays, objects and functions by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

/** Whether `value` is a promise or another thenable (what a user callback may return). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

