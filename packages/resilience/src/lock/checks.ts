import { invalidOption } from '@ballast/core';

/** Validates the arguments every lease store takes; throws the shared bad-option `TypeError`. */
export function checkLeaseArgs(key: unknown, owner: unknown, ttlMs: unknown): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
    throw invalidOption('key', 'a non-empty string of at most 200 characters', key);
  }
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > 200) {
    throw invalidOption('owner', 'a non-empty string of at most 200 characters', owner);
  }
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1) {
    throw invalidOption('ttlMs', 'an integer >= 1', ttlMs);
  }
}
