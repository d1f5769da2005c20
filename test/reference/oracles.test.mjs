import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { convNd, filterActsC01b } from './conv.mjs';
import { max_pool_1d, max_pool_2d, poolWindows } from './pool.mjs';
import { mulberry32, uniform, randn, toFloat32 } from './random.mjs';
import { cropAxes12, flipSpatial, maxAbsDiff, transpose } from './array.mjs';

const arr = (rows, shape) => ({ data: Float64Array.from(rows.flat(Infinity)), shape });
const close = (a, b, what, tol = 1e-12) => {
  assert.equal(a.shape, b.shape, `${what}: shapes differ`);
  const d = maxAbsDiff(a, b);
  assert.ok(d <= tol, `${what}: max |a - b| = ${d}`);
};

// x = [[1,2,3],[4,5,6],[7,8,9]] (bc01 1x1x3x3), K = [[1,2],[3,4]] (1x1x2x2)
const x = arr([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [1, 1, 3, 3]);
const K = arr([[1, 2], [3, 4]], [1, 1, 2, 2]);

const Random = suite('random');

Random('mulberry32 gives the same sequence for the same seed and another for another seed', () => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  const c = mulberry32(8);
  const sa = [a(), a(), a()];
  assert.equal([b(), b(), b()], sa);
  assert.not.equal([c(), c(), c()], sa);
  for (const v of sa) assert.ok(v >= 0 && v < 1, `${v} outside [0, 1)`);
});

Random('uniform stays in its interval and randn has roughly zero mean and unit variance', () => {
  const u = uniform([1000], 3, -1, 1);
  assert.ok(u.data.every((v) => v >= -1 && v < 1));
  assert.ok(Math.min(...u.data) < -0.9 && Math.max(...u.data) > 0.9);
  const n = randn([20000], 5);
  const mean = n.data.reduce((s, v) => s + v, 0) / n.data.length;
  const varr = n.data.reduce((s, v) => s + (v - mean) ** 2, 0) / n.data.length;
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(varr - 1) < 0.05, `variance ${varr}`);
  // the two values of each Box-Muller pair are independent
  let pairs = 0;
  for (let i = 0; i < n.data.length; i += 2) pairs += n.data[i] * n.data[i + 1];
  assert.ok(Math.abs(pairs / (n.data.length / 2)) < 0.05, `pair correlation ${pairs / (n.data.length / 2)}`);
  assert.instance(toFloat32(u).data, Float32Array);
});

const ConvNd = suite('convNd');

ConvNd('valid is a true convolution: correlation with the flipped kernel (hand-computed)', () => {
  // [[1,2],[4,5]] . [[4,3],[2,1]] = 4+6+8+5 = 23, and so on.
  close(convNd(x, K, 'valid'), arr([[23, 33], [53, 63]], [1, 1, 2, 2]), 'valid');
  close(convNd(x, K, 0), arr([[23, 33], [53, 63]], [1, 1, 2, 2]), 'pad 0');
});

ConvNd('full has size H + k - 1 and strided full subsamples it (hand-computed)', () => {
  const full = convNd(x, K, 'full');
  assert.equal(full.shape, [1, 1, 4, 4]);
  assert.is(full.data[0], 1); // x[0,0] K[0,0]
  assert.is(full.data[15], 36); // x[2,2] K[1,1]
  assert.is(full.data[1 * 4 + 1], 23);
  // full[::2, ::2] = [[1, 3 + 4], [7 + 12, 9 + 16 + 18 + 20]]
  close(convNd(x, K, 'full', 2), arr([[1, 7], [19, 63]], [1, 1, 2, 2]), 'full, stride 2');
  // int pad k - 1 equals 'full'
  close(convNd(x, K, 1), full, 'pad 1 vs full');
});

ConvNd('same keeps the input size and sums over channels (hand-computed)', () => {
  const ones3 = arr(new Array(9).fill(1), [1, 1, 3, 3]);
  // 3x3 box sum: corner 1+2+4+5 = 12, centre 45
  close(convNd(x, ones3, 'same'), arr([[12, 21, 16], [27, 45, 33], [24, 39, 28]], [1, 1, 3, 3]), 'same');
  const x2 = { data: Float64Array.from([...x.data, ...x.data.map((v) => 10 * v)]), shape: [1, 2, 3, 3] };
  const k2 = { data: Float64Array.from([...ones3.data, ...ones3.data]), shape: [1, 2, 3, 3] };
  // an even kernel shifts by (k - 1) // 2 = 0: the top-left H x W of the full output
  const full = convNd(x, K, 'full');
  const topLeft = { data: Float64Array.from([0, 1, 2, 4, 5, 6, 8, 9, 10].map((i) => full.data[i])), shape: [1, 1, 3, 3] };
  close(convNd(x, K, 'same'), topLeft, 'same, even kernel');
  close(convNd(x2, k2, 'same'), arr([[12, 21, 16], [27, 45, 33], [24, 39, 28]].map((r) => r.map((v) => 11 * v)), [1, 1, 3, 3]), 'two channels');
});

const FilterActs = suite('filterActsC01b');

FilterActs('is a correlation on the untruncated grid ceil((I + 2p - k) / s) + 1 (hand-computed)', () => {
  const img = transpose(x, [1, 2, 3, 0]); // bc01 -> c01b
  const filters = transpose(K, [1, 2, 3, 0]); // (F, C, k, k) -> (C, k, k, F), not flipped
  close(filterActsC01b(img, filters, 0, 1), arr([[37, 47], [67, 77]], [1, 2, 2, 1]), 's=1');
  // I=3, k=2, s=2: n = 1, grid ceil(1/2) + 1 = 2 (Lasagne keeps 1); the extra modules read zeros.
  close(filterActsC01b(img, filters, 0, 2), arr([[37, 3 + 18], [7 + 16, 9]], [1, 2, 2, 1]), 's=2');
  // pad 1: the first module sees only x[0,0] under filter[1,1]
  const padded = filterActsC01b(img, filters, 1, 1);
  assert.equal(padded.shape, [1, 4, 4, 1]);
  assert.is(padded.data[0], 4);
  assert.is(padded.data[15], 9);
});

FilterActs('truncated to Lasagne size with flipped filters equals convNd for every conv2d test set', () => {
  const input = uniform([3, 2, 11, 16], 11);
  const img = transpose(input, [1, 2, 3, 0]);
  let cases = 0;
  for (const pad of [0, 1, 2, 'full', 'same'])
    for (const stride of [1, 2, 3])
      for (const k of [1, 3]) {
        if (stride > k) continue;
        const kernel = uniform([16, 2, k, k], 100 + k);
        const p = pad === 'same' ? Math.floor(k / 2) : pad === 'full' ? k - 1 : pad;
        const raw = filterActsC01b(img, transpose(flipSpatial(kernel), [1, 2, 3, 0]), p, stride);
        const expected = convNd(input, kernel, pad, stride);
        const [, , rows, cols] = expected.shape;
        assert.ok(raw.shape[1] >= rows && raw.shape[2] >= cols, 'the raw grid is never smaller');
        const actual = transpose(cropAxes12(raw, rows, cols), [3, 0, 1, 2]);
        close(actual, expected, `pad=${pad} stride=${stride} k=${k}`, 1e-9);
        cases++;
      }
  assert.is(cases, 20);
  // flip_filters=False: unflipped FilterActs equals convNd with kernel[:, :, ::-1, ::-1]
  const kernel = uniform([16, 2, 3, 3], 7);
  const corr = transpose(filterActsC01b(img, transpose(kernel, [1, 2, 3, 0]), 0, 1), [3, 0, 1, 2]);
  close(corr, convNd(input, flipSpatial(kernel), 'valid'), 'correlation', 1e-9);
});

FilterActs('raw grid and convNd sizes reproduce the 11x16, k=3 table of section 2.1', () => {
  const rows = [
    [0, 1, [9, 14], [9, 14]], [0, 2, [5, 7], [5, 8]], [0, 3, [3, 5], [4, 6]],
    [1, 2, [6, 8], [6, 9]], [1, 3, [4, 6], [5, 6]], [2, 2, [7, 9], [7, 10]], [2, 3, [5, 6], [5, 7]],
    ['full', 2, [7, 9], [7, 10]], ['full', 3, [5, 6], [5, 7]], ['same', 2, [6, 8], [6, 9]], ['same', 3, [4, 6], [5, 6]],
  ];
  const input = uniform([1, 1, 11, 16], 2);
  const kernel = uniform([1, 1, 3, 3], 3);
  const img = transpose(input, [1, 2, 3, 0]);
  const filters = transpose(kernel, [1, 2, 3, 0]);
  for (const [pad, s, lasagne, cc] of rows) {
    const p = pad === 'same' ? 1 : pad === 'full' ? 2 : pad;
    assert.equal(convNd(input, kernel, pad, s).shape.slice(2), lasagne, `Lasagne size, pad=${pad} s=${s}`);
    assert.equal(filterActsC01b(img, filters, p, s).shape.slice(1, 3), cc, `raw grid, pad=${pad} s=${s}`);
  }
});

const Pool = suite('max_pool');

Pool('max_pool_1d keeps partial windows and drops windows that add no new index (hand-computed)', () => {
  const v = arr([1, 3, 2, 5, 4], [5]);
  assert.equal(Array.from(max_pool_1d(v, 2, 2).data), [3, 5, 4]);
  assert.equal(Array.from(max_pool_1d(v, 3, 2).data), [3, 5]); // window {4} is already covered
  assert.equal(Array.from(max_pool_1d(v, 2, 1).data), [3, 3, 5, 5]);
  assert.equal(Array.from(max_pool_1d(v, 2).data), [3, 5, 4]); // stride defaults to pool size
  assert.equal(poolWindows(5, 3, 2), [[0, 1, 2], [2, 3, 4]]);
});

Pool('max_pool_2d pools the last two axes (hand-computed)', () => {
  const a = { data: Float64Array.from({ length: 32 }, (_, i) => (i < 16 ? i : -i)), shape: [2, 4, 4] };
  const out = max_pool_2d(a, [2, 2], [2, 2]);
  assert.equal(out.shape, [2, 2, 2]);
  assert.equal(Array.from(out.data), [5, 7, 13, 15, -16, -18, -24, -26]);
  // non-square pooling proves the axes are not swapped: 3 rows x 1 col windows on a 3x2 image
  const b = arr([[1, 2], [3, 0], [0, 9]], [3, 2]);
  assert.equal(Array.from(max_pool_2d(b, [3, 1], [3, 1]).data), [3, 9]);
});

Pool('window counts equal Lasagne pool_output_length for stride <= pool size', () => {
  for (let I = 1; I <= 20; I++)
    for (let P = 1; P <= 5; P++)
      for (let s = 1; s <= P; s++) {
        const expected = Math.max(0, Math.floor((I - P + s - 1) / s)) + 1;
        assert.is(poolWindows(I, P, s).length, expected, `I=${I} P=${P} s=${s}`);
      }
  const data = randn([2, 3, 16, 16], 9);
  for (const [P, s, n] of [[2, 1, 15], [2, 2, 8], [3, 1, 14], [3, 2, 8], [3, 3, 6]]) {
    assert.equal(max_pool_2d(data, [P, P], [s, s]).shape, [2, 3, n, n]);
  }
});

Random.run();
ConvNd.run();
FilterActs.run();
Pool.run();
