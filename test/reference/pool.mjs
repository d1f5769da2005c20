/**
 * Lasagne's max-pooling test reference (lasagne/tests/layers/test_pool.py, the cuda-convnet
 * variant): windows start at 0, s, 2s, ... while the start is inside the axis; each window covers
 * {i .. i + P - 1} clipped to the axis and is kept only if it adds an index that no earlier window
 * covered. Float64, plain loops.
 *
 * Values follow cuda-convnet's kernel (kLocalPool): the running maximum starts at the seed -2e38
 * (as float32) and takes fmaxf of each element, so NaN never wins, nothing is below the seed, and
 * -0 < +0 (the order the backends document).
 */

/** cuda-convnet's start value, float32(-2e38). */
export const POOL_SEED = Math.fround(-2e38);

/** fmaxf(m, x) as the pooling rule uses it: NaN loses, +0 beats -0. */
export function poolMax(m, x) {
  if (Number.isNaN(x)) return m;
  if (x > m || (x === 0 && m === 0 && Object.is(m, -0))) return x;
  return m;
}
import { transpose } from './array.mjs';

/** The index sets of the kept windows along an axis of length L. */
export function poolWindows(L, P, s) {
  const used = new Set();
  const windows = [];
  for (let i = 0; i < L; i += s) {
    const set = [];
    for (let t = i; t < i + P && t < L; t++) set.push(t);
    if (set.some((t) => !used.has(t))) {
      windows.push(set);
      for (const t of set) used.add(t);
    }
  }
  return windows;
}

/** max_pool_1d(data, pool_size, stride) over the last axis; stride defaults to pool_size. */
export function max_pool_1d(data, poolSize, stride = poolSize) {
  const L = data.shape[data.shape.length - 1];
  const outer = data.data.length / L;
  const windows = poolWindows(L, poolSize, stride);
  const out = new Float64Array(outer * windows.length);
  for (let o = 0; o < outer; o++)
    windows.forEach((w, n) => {
      let m = POOL_SEED;
      for (const t of w) m = poolMax(m, data.data[o * L + t]);
      out[o * windows.length + n] = m;
    });
  return { data: out, shape: [...data.shape.slice(0, -1), windows.length] };
}

function swapLastTwo(a) {
  const n = a.shape.length;
  const perm = [...Array(n).keys()];
  [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
  return transpose(a, perm);
}

/** max_pool_2d(data, [Pr, Pc], [sr, sc]): the last axis first, then the second-last. */
export function max_pool_2d(data, poolSize, stride = poolSize) {
  let out = max_pool_1d(data, poolSize[1], stride[1]);
  out = swapLastTwo(out);
  out = max_pool_1d(out, poolSize[0], stride[0]);
  return swapLastTwo(out);
}
