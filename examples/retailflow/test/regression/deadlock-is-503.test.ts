import { describe, expect, it } from 'vitest';
import { isTransactionConflict, translateError } from '../../src/wiring/errors.js';

// Found by the proof's monetization section: with two instances on one PostgreSQL, concurrent checkouts of one
// tenant deadlocked on the tenant's audit sequence row and answered 500. PostgreSQL rolls such a transaction back
// whole, so the checkout can simply be sent again: 503 with Retry-After, and the client's retry (same
// Idempotency-Key) places the order once.

describe('a transaction PostgreSQL rolled back for a conflict', () => {
  it.each([
    ['a deadlock (40P01)', Object.assign(new Error('deadlock detected'), { code: '40P01' })],
    [
      'a serialization failure (40001)',
      Object.assign(new Error('could not serialize access'), { code: '40001' }),
    ],
  ])('%s answers 503 with Retry-After', (_name, error) => {
    expect(isTransactionConflict(error)).toBe(true);
    const problem = translateError(error);
    expect(problem?.status).toBe(503);
    expect(problem?.headers).toMatchObject({ 'Retry-After': '1' });
  });

  it('a unique violation is not one', () => {
    expect(isTransactionConflict(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  });
});
