// When PostgreSQL claims start from looked-up positions instead of the start of jobs_due (issue 19: the dead-tuple
// spiral). The SQL side is tested in postgres.test.ts (the whole store contract with positions, stale positions).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLAIM_POSITIONS_DEFAULTS, ClaimPositions } from '../../src/store/postgres/claim-positions.js';

const at = (priority: number, scheduledAt: number, id: number) => ({ priority, scheduledAt, id });

describe('claim positions', () => {
  it('claims from the start while claims are fast; a slow claim makes the next one look', () => {
    const positions = new ClaimPositions();
    assert.equal(positions.shouldLook(0), false);
    positions.claimedFromStart(CLAIM_POSITIONS_DEFAULTS.slowClaimMs - 1);
    assert.equal(positions.shouldLook(0), false);
    positions.claimedFromStart(CLAIM_POSITIONS_DEFAULTS.slowClaimMs);
    assert.equal(positions.shouldLook(0), true);
  });

  it('keeps positions only while looking is slow in the server, and looks again in proportion', () => {
    const positions = new ClaimPositions();
    positions.claimedFromStart(50);
    // A slow claim but a fast look: the claim was slow for another reason (a busy pool); nothing changes.
    assert.equal(positions.found([at(5, 100, 1)], 0.5, 1000), undefined);
    assert.equal(positions.current(), undefined);
    assert.equal(positions.shouldLook(1000), false);

    positions.claimedFromStart(50);
    assert.equal(positions.found([at(0, 10, 9), at(9, 30, 7), at(5, 20, 8)], 40, 1000), 'started');
    assert.deepEqual(
      positions.current()?.map((p) => p.priority),
      [9, 5, 0],
      'in claim order, highest priority first',
    );
    // 20 times the look's 40 ms: 800 ms on.
    assert.equal(positions.shouldLook(1799), false);
    assert.equal(positions.shouldLook(1800), true);
    assert.equal(positions.found([at(5, 25, 10)], 1000, 1800), undefined, 'still slow: still from positions');
    assert.equal(positions.shouldLook(1800 + 4999), false, 'at most 5 s between looks');
    assert.equal(positions.shouldLook(1800 + 5000), true);
    assert.equal(
      positions.found([at(5, 25, 10)], 0.2, 6800),
      'ended',
      'the transaction ended: from the start',
    );
    assert.equal(positions.current(), undefined);
  });

  it('one look at a time; what changed while it ran applies to what it found', () => {
    const positions = new ClaimPositions();
    positions.claimedFromStart(50);
    assert.equal(positions.waitsForLook(), true, 'the first look is waited for');
    positions.looking();
    assert.equal(positions.shouldLook(0), false, 'one look at a time');
    positions.found([at(5, 100, 50)], 40, 0);
    assert.equal(positions.waitsForLook(), false, 'later ones run beside the claims');
    positions.looking();
    positions.rewind(5, 80, 7); // a requeue the look's snapshot may not show
    positions.found([at(5, 120, 60)], 40, 2000);
    assert.deepEqual(positions.current()?.[0], at(5, 80, 7));
    positions.looking();
    positions.forget(); // a release meanwhile
    positions.found([at(5, 120, 60)], 40, 4000);
    assert.equal(positions.current(), undefined);
    positions.looking();
    positions.lookFailed();
    positions.claimedFromStart(50);
    assert.equal(positions.shouldLook(5000), true, 'a failed look lets the next claim look again');
  });

  it('moves a position back for a job due before it, never forward', () => {
    const positions = new ClaimPositions();
    positions.claimedFromStart(50);
    positions.found([at(5, 100, 50), at(4, 100, 60)], 40, 0);
    positions.rewind(5, 200, 1); // after the position: nothing to do
    positions.rewind(5, 100, 70);
    assert.deepEqual(positions.current()?.[0], at(5, 100, 50));
    positions.rewind(5, 100, 40);
    assert.deepEqual(positions.current()?.[0], at(5, 100, 40));
    positions.rewind(5, 90, 99);
    assert.deepEqual(positions.current()?.[0], at(5, 90, 99));
    assert.deepEqual(positions.current()?.[1], at(4, 100, 60), 'other priorities keep theirs');
    positions.rewind(12, 0, 1); // a priority the positions do not cover: only the start of the index finds it
    assert.equal(positions.current(), undefined);
  });
});
