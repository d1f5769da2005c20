// The helpers the kernel and training tests share: seeded random inputs, and the comparisons of a
// float32 result with its float64 reference (element count first, then each value within a stated
// tolerance, the worst offender named), or bit for bit.
import * as assert from 'uvu/assert';
import { mulberry32 } from '../reference/random.mjs';

/** Elements of a tensor of `shape`. */
export const size = (shape) => shape.reduce((n, d) => n * d, 1);

/** A { data, shape } array's float64 copy. */
export const f64 = (a) => ({ data: Float64Array.from(a.data), shape: [...a.shape] });

/** A { data, shape } array's magnitudes, in float64 (the bound on a sum's rounding takes sums of |terms|). */
export const absOf = (a) => ({ data: Float64Array.from(a.data, Math.abs), shape: a.shape });

/** `n` float32 values uniform in [lo, hi), from mulberry32(seed). */
export function rand(n, seed, lo = -1, hi = 1) {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/** A { data, shape } array of `shape`, its float32 values uniform in [lo, hi) from mulberry32(seed). */
export function randArray(shape, seed, lo = -1, hi = 1) {
  return { data: rand(size(shape), seed, lo, hi), shape: [...shape] };
}

/**
 * Checks the element count, then every value within tol(i) (a number, or a function of the index)
 * of the reference `ref` (an array, or a { data, shape } array); names the element that misses by
 * the most. A NaN misses.
 */
export function expectClose(ours, ref, tol, label) {
  const r = ArrayBuffer.isView(ref) || Array.isArray(ref) ? ref : ref.data;
  assert.is(ours.length, r.length, `${label}: element count`);
  const t = typeof tol === 'function' ? tol : () => tol;
  let at = -1;
  let excess = 0;
  for (let i = 0; i < ours.length; i++) {
    const e = Math.abs(ours[i] - r[i]) - t(i);
    if (!(e <= 0) && (at < 0 || e > excess)) {
      at = i;
      excess = e;
    }
  }
  assert.ok(at < 0, `${label}: element ${at} is ${ours[at]}, reference ${r[at]} (tolerance ${at >= 0 ? t(at) : 0})`);
}

const show = (v) => (Object.is(v, -0) ? '-0' : String(v));

/** Checks the element count, then every value the same as `ref`'s bit for bit (Object.is: -0 is not 0, NaN is NaN). */
export function expectExact(ours, ref, label) {
  assert.is(ours.length, ref.length, `${label}: element count`);
  for (let i = 0; i < ours.length; i++) {
    if (!Object.is(ours[i], ref[i])) assert.unreachable(`${label}: element ${i} is ${show(ours[i])}, expected exactly ${show(ref[i])}`);
  }
}

/** A tolerance of r times the reference's magnitude, plus `abs`: tol(i) = r |ref[i]| + abs. */
export const relative = (ref, r, abs = 0) => (i) => r * Math.abs(ref[i]) + abs;
