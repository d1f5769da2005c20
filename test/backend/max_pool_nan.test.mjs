// One NaN rule for max-pooling on every backend and kernel variant (issue 15, item 3): cuda-convnet's
// kLocalPool starts at the seed -2e38 and takes fmaxf, so NaN never wins and nothing is below the
// seed; -0 < +0. Every special value (NaN, +-Inf, -0, +0, a value below the seed) is put at every
// position of every window, over backgrounds of random values, NaN, -Inf and zeros, and the result
// is compared bit for bit with the float64 reference (test/reference/pool.mjs). Batch sizes reach
// every kernel variant: WASM's lanes-along-ox path (B < 4), its 4-lane batch path (B % 4 == 0) and
// scalar tail (B % 4 != 0); WebGPU's main_vec4 (B % 4 == 0) and main_scalar (otherwise).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { backendsHere } from './env.mjs';
import * as lasagne from 'lasagne-webgpu';
import { MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { max_pool_2d, POOL_SEED } from '../reference/pool.mjs';
import { transpose } from '../reference/array.mjs';
import { mulberry32 } from '../reference/random.mjs';

const { InputLayer } = lasagne.layers;
const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, -3e38, 1.5];
const BACKGROUND = [
  (r) => 2 * r() - 1,
  () => NaN,
  () => -Infinity,
  () => -0,
  () => 0,
];

/**
 * c01b input: channel c is one (window position, special value) case; batch entry b has background
 * (c + b) % 5; the special value is written at that position of every window (windows at
 * multiples of s, clipped to the image).
 */
function input(P, s, H, W, B) {
  const cases = [];
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) for (const v of SPECIAL) cases.push({ i, j, v });
  const C = cases.length;
  const r = mulberry32(P * 1000 + s * 100 + B);
  const data = new Float32Array(C * H * W * B);
  const at = (c, y, x, b) => ((c * H + y) * W + x) * B + b;
  cases.forEach(({ i, j, v }, c) => {
    for (let b = 0; b < B; b++) {
      const bg = BACKGROUND[(c + b) % BACKGROUND.length];
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[at(c, y, x, b)] = bg(r);
      for (let y0 = 0; y0 < H; y0 += s) {
        for (let x0 = 0; x0 < W; x0 += s) {
          if (y0 + i < H && x0 + j < W) data[at(c, y0 + i, x0 + j, b)] = v;
        }
      }
    }
  });
  return { data, shape: [C, H, W, B] };
}

function sameBits(ours, ref, label) {
  assert.equal(ours.shape, ref.shape, `${label}: shape`);
  for (let k = 0; k < ref.data.length; k++) {
    const want = Math.fround(ref.data[k]);
    if (!Object.is(ours.data[k], want)) {
      assert.unreachable(`${label}: element ${k} is ${Object.is(ours.data[k], -0) ? '-0' : ours.data[k]}, the rule gives ${Object.is(want, -0) ? '-0' : want}`);
    }
  }
}

const here = await backendsHere();

// the reference itself, on hand-checked windows
const ref = suite('max-pool NaN rule: the float64 reference');
ref('follows fmaxf from the seed: NaN loses, -inf and values below -2e38 give the seed, +0 beats -0', () => {
  const pool = (values) => max_pool_2d({ data: Float64Array.from(values), shape: [1, 1, 2, 2] }, [2, 2], [2, 2]).data[0];
  assert.is(pool([NaN, 1, 4, 5]), 5);
  assert.is(pool([NaN, NaN, NaN, NaN]), POOL_SEED);
  assert.is(pool([-Infinity, -Infinity, NaN, -Infinity]), POOL_SEED);
  assert.is(pool([-3e38, NaN, -Infinity, -3e38]), POOL_SEED);
  assert.is(pool([-1e38, NaN, -Infinity, -3e38]), -1e38);
  assert.ok(Object.is(pool([-0, 0, -0, NaN]), 0));
  assert.ok(Object.is(pool([-0, -0, NaN, -0]), -0));
  assert.is(pool([NaN, Infinity, NaN, 1]), Infinity);
  assert.is(POOL_SEED, Math.fround(-2e38));
});
ref.run();

for (const [backend, missing] of here) {
  const s = suite(`max-pool NaN rule on ${backend}`);
  if (missing) {
    s(`skipped: backend ${backend} is ${missing}`, () => console.log(`  SKIP ${backend}: ${missing}`));
    s.run();
    continue;
  }
  const options = backend === 'wasm' ? { backend, threads: 1 } : { backend };

  s('NaN, +-Inf, -0, +0 and -3e38 at every window position, every kernel variant (c01b), bit for bit', async () => {
    for (const [P, st, H, W] of [[2, 2, 5, 9], [3, 3, 8, 7], [3, 2, 7, 7]]) {
      for (const B of [1, 2, 3, 4, 5, 8]) {
        const x = input(P, st, H, W, B);
        const layer = new MaxPool2DCCLayer(new InputLayer(x.shape), P, { stride: st, dimshuffle: false });
        const network = await lasagne.compile(layer, options);
        try {
          const ours = await network.run(x);
          const want = transpose(max_pool_2d(transpose(x, [3, 0, 1, 2]), [P, P], [st, st]), [1, 2, 3, 0]);
          sameBits(ours, want, `P ${P} s ${st} ${H}x${W} B ${B}`);
        } finally {
          network.dispose();
        }
      }
    }
  });

  s('the same rule through dimshuffle: true (bc01), and the issue\'s window {NaN, 1, 4, 5} gives 5', async () => {
    const x = transpose(input(2, 2, 4, 6, 4), [3, 0, 1, 2]);
    const layer = new MaxPool2DCCLayer(new InputLayer(x.shape), 2);
    const small = new MaxPool2DCCLayer(new InputLayer([1, 1, 2, 2]), 2);
    const n1 = await lasagne.compile(layer, options);
    const n2 = await lasagne.compile(small, options);
    try {
      sameBits(await n1.run(x), max_pool_2d(x, [2, 2], [2, 2]), 'bc01');
      const y = await n2.run(lasagne.ndarray(Float32Array.of(NaN, 1, 4, 5), [1, 1, 2, 2]));
      assert.is(y.data[0], 5);
      const seed = await n2.run(lasagne.ndarray(Float32Array.of(NaN, NaN, -Infinity, NaN), [1, 1, 2, 2]));
      assert.is(seed.data[0], Math.fround(-2e38));
    } finally {
      n1.dispose();
      n2.dispose();
    }
  });
  s.run();
}
