import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { philox4x32, Rng } from '../../src/linalg/rng.js';

describe('Philox4x32-10', () => {
  // Known-answer vectors of the Random123 distribution (kat_vectors).
  it('matches the known-answer vectors', () => {
    const hex = (words: Uint32Array) => Array.from(words, (w) => w.toString(16).padStart(8, '0')).join(' ');
    assert.equal(hex(philox4x32([0, 0, 0, 0], [0, 0])), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const ones = 0xffffffff;
    assert.equal(hex(philox4x32([ones, ones, ones, ones], [ones, ones])), '408f276d 41c83b0e a20bc7c6 6d5451fd');
    assert.equal(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])), 'd16cfe09 94fdcceb 5001e420 24126ea1');
  });
});

describe('Rng streams', () => {
  it('gives the same numbers for the same seed and name, different ones otherwise', () => {
    const draw = (rng: Rng) => Array.from({ length: 8 }, () => rng.uniform());
    assert.deepEqual(draw(Rng.fromSeed(7).child('data')), draw(Rng.fromSeed(7).child('data')));
    assert.notDeepEqual(draw(Rng.fromSeed(7).child('data')), draw(Rng.fromSeed(8).child('data')));
    assert.notDeepEqual(draw(Rng.fromSeed(7).child('data')), draw(Rng.fromSeed(7).child('model')));
  });

  it('derives a child independently of how much the parent has drawn', () => {
    const fresh = Rng.fromSeed(3);
    const used = Rng.fromSeed(3);
    for (let i = 0; i < 1000; i++) used.uniform();
    assert.equal(fresh.child('layer0').uniform(), used.child('layer0').uniform());
  });

  it('draws uniforms and Gaussians with the right moments', () => {
    const rng = Rng.fromSeed(11);
    const count = 200000;
    let su = 0;
    let suu = 0;
    let sg = 0;
    let sgg = 0;
    let sg4 = 0;
    for (let i = 0; i < count; i++) {
      const u = rng.uniform();
      assert.ok(u >= 0 && u < 1);
      su += u;
      suu += u * u;
      const g = rng.gaussian();
      sg += g;
      sgg += g * g;
      sg4 += g ** 4;
    }
    // Standard errors: uniform mean 0.00065, Gaussian mean 0.0022, second moment 0.0032, fourth 0.022.
    assert.ok(Math.abs(su / count - 0.5) < 0.004);
    assert.ok(Math.abs(suu / count - 1 / 3) < 0.004);
    assert.ok(Math.abs(sg / count) < 0.012);
    assert.ok(Math.abs(sgg / count - 1) < 0.016);
    assert.ok(Math.abs(sg4 / count - 3) < 0.11);
  });

  it('permutes every index exactly once', () => {
    const p = Rng.fromSeed(5).permutation(1000);
    assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
    assert.notDeepEqual([...p.subarray(0, 10)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects seeds that are not non-negative integers', () => {
    assert.throws(() => Rng.fromSeed(-1), /seed/);
    assert.throws(() => Rng.fromSeed(1.5), /seed/);
  });
});
