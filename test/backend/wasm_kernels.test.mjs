// The C kernels of build/kernels.wasm, each run through the WASM backend's glue (prepareWasm) as a
// one-step plan and compared with the naive float64 oracles of test/reference: shape first, then
// values. Tolerance for the sums (filter_acts, nin): test/reference/layers.mjs tolerance(), i.e.
// gamma_{N+2} * sum|terms| * L + 1e-6 |value| with N terms per output (C k^2 or C, plus the bias),
// u = 2^-24: the worst case of ANY float32 summation order (Higham 3.1), magnified by the
// nonlinearity's Lipschitz constant L, plus the float32 libm error of the nonlinearity. For
// C k^2 = 9 .. 1089 terms that is ~1e-7 .. 7e-5 of the magnitude; it fails as soon as a single
// term is dropped, doubled or misplaced. Pooling and transposes move values: compared bit for bit.
import { suite } from 'uvu';
import { rejects } from './env.mjs';
import * as assert from 'uvu/assert';
import { prepareWasm, packFilters, subBatchPlan, batchAxes, planBatch, wasmBackend, kernelsModule } from '../../dist/backend/wasm/index.js';
import { RuntimeError, ValueError } from '../../dist/errors.js';
import { convNd, filterActsC01b } from '../reference/conv.mjs';
import { max_pool_2d } from '../reference/pool.mjs';
import { transpose } from '../reference/array.mjs';
import { nonlinearity, lipschitz, tolerance } from '../reference/layers.mjs';
import { size, randArray, expectClose, expectExact } from '../support/check.mjs';

// Without Emscripten the package builds with an empty kernels module: say so and skip.
const available = await wasmBackend.available();
const reason = available ? '' : await kernelsModule().then(() => 'no WebAssembly SIMD', (e) => e.message);
if (!available) {
  const s = suite('wasm kernels');
  s(`skipped: the WASM backend is not available here (${reason})`, () => console.log(`  SKIP wasm: ${reason}`));
  s.run();
}

/** A parameter as the backend sees it; `set` bumps the version like Param.setValue. */
function param(name, value) {
  let v = value;
  let version = 0;
  return {
    name,
    get version() { return version; },
    getValue: () => ({ data: v.data.slice(), shape: [...v.shape] }),
    get valueRef() { return v; },
    set(nv) { v = nv; version++; },
  };
}

/** A plan over `shapes` (tensor id = index) laid out one after the other, 256-byte aligned. */
function planOf(shapes, steps, inputs, outputs) {
  let offset = 0;
  const tensors = shapes.map((shape, id) => {
    const bytes = 4 * size(shape);
    const t = { id, shape, bytes, offset };
    offset += Math.ceil(bytes / 256) * 256;
    return t;
  });
  return { steps: steps.map((s, index) => ({ layer: `l${index}`, index, ...s })), tensors, inputs, outputs, arenaBytes: offset, alignment: 256 };
}

async function runPlan(plan, params, inputs, options = { threads: 1 }) {
  const net = await prepareWasm(plan, params, options);
  try {
    return await net.run(inputs);
  } finally {
    net.dispose();
  }
}

const NONLINEARITIES = [
  ['linear', []], ['rectify', []], ['leaky_rectify', [0.01]], ['leaky_rectify', [0]], ['sigmoid', []], ['tanh', []],
  ['scaled_tanh', [2 / 3, 1.7159]], ['elu', []], ['selu', [1.0507009873554805, 1.6732632423543772]], ['softplus', []],
];

// ---------------------------------------------------------------------------------------------
// filter_acts

/**
 * One conv step on a c01b input (C, H, W, B) with a weight stored as (F, C, k, k) or (C, k, k, F);
 * returns ours and the float64 reference (value and magnitude) in c01b (F, outH, outW, B).
 */
async function conv({ C, H, W = H, B, F, k, s = 1, pad = 0, layout = 'ckkf', flip = false, biasMode = 'tied', act = ['linear', []], seed = 1, options }) {
  const outRows = Math.ceil((H + 2 * pad - k + 1) / s);
  const outCols = Math.ceil((W + 2 * pad - k + 1) / s);
  const x = randArray([C, H, W, B], seed);
  const wStored = randArray(layout === 'fckk' ? [F, C, k, k] : [C, k, k, F], seed + 1);
  const bShape = biasMode === 'tied' ? [F] : biasMode === 'untied' ? [F, outRows, outCols] : null;
  const b = bShape && randArray(bShape, seed + 2);
  const params = [param('W', wStored)];
  if (b) params.push(param('b', b));
  const step = {
    op: 'filter_acts', input: 0, output: 1, weight: 0, weightLayout: layout, flipFilters: flip, bias: b ? 1 : -1, biasMode,
    nonlinearity: { kind: act[0], params: act[1] }, channels: C, rows: H, cols: W, batch: B, filters: F, filterSize: k,
    stride: s, pad, outRows, outCols,
  };
  const plan = planOf([[C, H, W, B], [F, outRows, outCols, B]], [step], [0], [1]);
  const [ours] = await runPlan(plan, params, [x.data], options);

  // reference: (C, k, k, F) correlation weights from the stored layout, flipped like Lasagne
  let fckk = layout === 'fckk' ? wStored : transpose(wStored, [3, 0, 1, 2]);
  if (flip) {
    const d = new Float32Array(fckk.data.length);
    for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++)
      d[((f * C + c) * k + i) * k + j] = fckk.data[((f * C + c) * k + (k - 1 - i)) * k + (k - 1 - j)];
    fckk = { data: d, shape: fckk.shape };
  }
  const ckkf = transpose(fckk, [1, 2, 3, 0]);
  const abs = (a) => ({ data: a.data.map(Math.abs), shape: a.shape });
  const raw = filterActsC01b(x, ckkf, pad, s);
  const mag = filterActsC01b(abs(x), abs(ckkf), pad, s);
  const [, R, S] = raw.shape;
  const n = F * outRows * outCols * B;
  const ref = new Float64Array(n);
  const bound = new Float64Array(n);
  const L = lipschitz(act[0], act[1]);
  for (let f = 0; f < F; f++) for (let y = 0; y < outRows; y++) for (let xx = 0; xx < outCols; xx++) for (let bb = 0; bb < B; bb++) {
    const i = ((f * outRows + y) * outCols + xx) * B + bb;
    const r = ((f * R + y) * S + xx) * B + bb;
    const bv = !b ? 0 : biasMode === 'tied' ? b.data[f] : b.data[(f * outRows + y) * outCols + xx];
    ref[i] = nonlinearity(act[0], act[1], raw.data[r] + bv);
    bound[i] = tolerance(C * k * k + 1, L, mag.data[r] + Math.abs(bv), ref[i]);
  }
  return { ours, ref, bound, shape: [F, outRows, outCols, B], x, wStored, b };
}

const FilterActs = suite('filter_acts kernel');

FilterActs('runs all 20 pad/stride/filter cases of Lasagne conv2d_test_sets (flipped, vs convNd) on an 11x16 image', async () => {
  // test_conv.py conv2d_test_sets: input (3, 1, 11, 16), kernel (16, 1, k, k), flip_filters True
  for (const pad of [0, 1, 2, 'full', 'same'])
    for (const s of [1, 2, 3])
      for (const k of [1, 3]) {
        if (s > k) continue;
        const p = pad === 'full' ? k - 1 : pad === 'same' ? (k - 1) / 2 : pad;
        const label = `pad=${pad} stride=${s} k=${k}`;
        const r = await conv({ C: 1, H: 11, W: 16, B: 3, F: 16, k, s, pad: p, layout: 'fckk', flip: true, biasMode: 'none', seed: 7 });
        // Lasagne's own reference: a true convolution of the bc01 input with the (F, C, k, k) kernel
        const expected = convNd(transpose(r.x, [3, 0, 1, 2]), r.wStored, pad, s);
        assert.equal([expected.shape[1], expected.shape[2], expected.shape[3], expected.shape[0]], r.shape, `${label}: shape`);
        const expectedC01b = transpose(expected, [1, 2, 3, 0]).data;
        expectClose(r.ours, expectedC01b, (i) => r.bound[i], label);
        expectClose(r.ours, r.ref, (i) => r.bound[i], `${label} (FilterActs oracle)`);
      }
});

FilterActs('matches the Lasagne extras: no bias, untied biases, pad valid, flip_filters false', async () => {
  for (const [label, opts] of [
    ['b=None', { biasMode: 'none', flip: true }],
    ['untie_biases', { biasMode: 'untied', flip: true }],
    ['tied bias', { biasMode: 'tied', flip: true }],
    ['flip_filters=False', { biasMode: 'tied', flip: false }],
  ]) {
    const r = await conv({ C: 1, H: 11, W: 16, B: 3, F: 16, k: 3, layout: 'fckk', seed: 11, ...opts });
    assert.equal(r.shape, [16, 9, 14, 3]);
    expectClose(r.ours, r.ref, (i) => r.bound[i], label);
  }
  // test_dimshuffle_false_get_output_for: c01b (4, 5, 5, 8), kernel (4, 3, 3, 16), no bias, no flip
  const r = await conv({ C: 4, H: 5, B: 8, F: 16, k: 3, layout: 'ckkf', biasMode: 'none', seed: 12 });
  assert.equal(r.shape, [16, 3, 3, 8]);
  expectClose(r.ours, r.ref, (i) => r.bound[i], 'dimshuffle=False');
});

FilterActs('is right for every batch size from 1 to 130 (both micro-kernels, all remainders)', async () => {
  for (let B = 1; B <= 130; B++) {
    const r = await conv({ C: 2, H: 5, W: 6, B, F: 16, k: 3, pad: 1, biasMode: 'tied', act: ['rectify', []], seed: 100 + B });
    expectClose(r.ours, r.ref, (i) => r.bound[i], `batch ${B}`);
  }
});

FilterActs('fuses every nonlinearity with every bias mode', async () => {
  for (const act of NONLINEARITIES)
    for (const biasMode of ['none', 'tied', 'untied'])
      for (const B of [5, 8]) {
        const r = await conv({ C: 3, H: 6, W: 7, B, F: 16, k: 3, pad: 1, biasMode, act, seed: 300 + B });
        expectClose(r.ours, r.ref, (i) => r.bound[i], `${act[0]}(${act[1]}) bias ${biasMode} batch ${B}`);
      }
});

FilterActs('accumulates across tap chunks (C k^2 > 256) and output blocks, with large filters, strides and pads', async () => {
  for (const c of [
    { C: 40, H: 6, B: 4, F: 32, k: 3, pad: 1 },
    { C: 40, H: 6, B: 7, F: 32, k: 3, pad: 1 },
    { C: 3, H: 23, B: 4, F: 16, k: 11, s: 4 },
    { C: 3, H: 23, B: 3, F: 16, k: 11, s: 4, pad: 2 },
    { C: 8, H: 9, W: 12, B: 12, F: 48, k: 5, s: 2, pad: 4 },
    { C: 9, H: 11, B: 2, F: 64, k: 11, s: 3, pad: 10 },
    // several blocks of output positions (128 Ki floats of output per block) times several tap chunks
    { C: 32, H: 9, B: 64, F: 64, k: 3, pad: 1 },
    { C: 30, H: 20, W: 15, B: 6, F: 160, k: 3, pad: 1 },
  ]) {
    const r = await conv({ ...c, biasMode: 'untied', act: ['tanh', []], seed: 500 + c.C });
    expectClose(r.ours, r.ref, (i) => r.bound[i], JSON.stringify(c));
  }
});

FilterActs('handles filter counts that are not multiples of 8 or 4', async () => {
  for (const F of [4, 12, 18, 20, 33])
    for (const B of [3, 4]) {
      const r = await conv({ C: 4, H: 5, B, F, k: 3, biasMode: 'tied', seed: 600 + F });
      expectClose(r.ours, r.ref, (i) => r.bound[i], `F=${F} B=${B}`);
    }
});

FilterActs('packs filters in blocks of 4 then 1, as filter_acts.c reads them', () => {
  const K = 3;
  const F = 6;
  const ckkf = Float32Array.from({ length: K * F }, (_, i) => i); // value = q * F + f
  const p = packFilters(ckkf, K, F);
  // block f0 = 0 (width 4) at 0: [q][t]; then blocks of width 1 at K*4 and K*5
  assert.equal(Array.from(p.subarray(0, 8)), [0, 1, 2, 3, 6, 7, 8, 9]);
  assert.equal(Array.from(p.subarray(12, 15)), [4, 10, 16]);
  assert.equal(Array.from(p.subarray(15, 18)), [5, 11, 17]);
});

FilterActs('refuses softmax and plans that do not match their tensors', async () => {
  const step = {
    op: 'filter_acts', input: 0, output: 1, weight: 0, weightLayout: 'ckkf', flipFilters: false, bias: -1, biasMode: 'none',
    nonlinearity: { kind: 'softmax', params: [] }, channels: 1, rows: 5, cols: 5, batch: 2, filters: 16, filterSize: 3,
    stride: 1, pad: 0, outRows: 3, outCols: 3,
  };
  const w = param('W', randArray([1, 3, 3, 16], 1));
  await rejects(() => prepareWasm(planOf([[1, 5, 5, 2], [16, 3, 3, 2]], [step], [0], [1]), [w]), (e) => e instanceof ValueError && /softmax/.test(e.message), 'softmax');
  const bad = { ...step, nonlinearity: { kind: 'linear', params: [] }, outRows: 4 };
  await rejects(() => prepareWasm(planOf([[1, 5, 5, 2], [16, 4, 3, 2]], [bad], [0], [1]), [w]), (e) => e instanceof RuntimeError && /4x3 output/.test(e.message), 'output too large');
  const wrongTensor = { ...step, nonlinearity: { kind: 'linear', params: [] } };
  await rejects(() => prepareWasm(planOf([[1, 5, 5, 2], [16, 3, 3, 3]], [wrongTensor], [0], [1]), [w]), (e) => e instanceof RuntimeError && /writes 288 elements/.test(e.message), 'tensor mismatch');
  const net = await prepareWasm(planOf([[1, 5, 5, 2], [16, 3, 3, 2]], [wrongTensor], [0], [1]), [param('W', randArray([1, 3, 3, 8], 1))], { threads: 1 });
  await rejects(() => net.run([new Float32Array(50)]), (e) => e instanceof ValueError && /needs 144/.test(e.message), 'parameter size');
  net.dispose();
});

if (available) FilterActs.run();

// ---------------------------------------------------------------------------------------------
// max_pool

async function pool({ C, H, W = H, B, P, s = P, seed = 1, lo = -3, hi = 3 }) {
  // Lasagne pool_output_length for the cuda-convnet layer: ceil((I - P) / s) + 1, and 1 when P >= I
  const len = (I) => (I <= P ? 1 : Math.ceil((I - P) / s) + 1);
  const [R, S] = [len(H), len(W)];
  const x = randArray([C, H, W, B], seed, lo, hi);
  const step = { op: 'max_pool', input: 0, output: 1, channels: C, rows: H, cols: W, batch: B, poolSize: P, stride: s, outRows: R, outCols: S };
  const [ours] = await runPlan(planOf([[C, H, W, B], [C, R, S, B]], [step], [0], [1]), [], [x.data]);
  // Lasagne's reference pools bc01 arrays
  const ref = transpose(max_pool_2d(transpose(x, [3, 0, 1, 2]), [P, P], [s, s]), [1, 2, 3, 0]);
  return { ours, ref: Float32Array.from(ref.data), refShape: ref.shape, shape: [C, R, S, B] };
}

const MaxPool = suite('max_pool kernel');

MaxPool('matches Lasagne test_get_output_for for (P, s) in (2,1) (2,2) (3,1) (3,2) (3,3) bit for bit', async () => {
  const sizes = { '2,1': 15, '2,2': 8, '3,1': 14, '3,2': 8, '3,3': 6 };
  for (const [P, s] of [[2, 1], [2, 2], [3, 1], [3, 2], [3, 3]]) {
    const r = await pool({ C: 16, H: 16, B: 8, P, s, seed: P * 10 + s });
    assert.equal(r.shape, [16, sizes[`${P},${s}`], sizes[`${P},${s}`], 8]);
    assert.equal(r.refShape, r.shape, `P=${P} s=${s}: shape`);
    expectExact(r.ours, r.ref, `P=${P} s=${s}`);
  }
});

MaxPool('pools non-square images with partial windows excluded, not zero', async () => {
  for (const c of [{ C: 3, H: 11, W: 16, B: 3, P: 3, s: 2 }, { C: 2, H: 7, W: 5, B: 4, P: 3, s: 3 }, { C: 5, H: 5, W: 9, B: 1, P: 2, s: 2 }, { C: 1, H: 2, W: 9, B: 6, P: 3, s: 1 }]) {
    const r = await pool({ ...c, seed: 3 });
    assert.equal(r.refShape, r.shape, `${JSON.stringify(c)}: shape`);
    expectExact(r.ours, r.ref, JSON.stringify(c));
    // all inputs negative: a zero-filled border would show up as 0
    const neg = await pool({ ...c, seed: 4, lo: -3, hi: -1 });
    expectExact(neg.ours, neg.ref, `${JSON.stringify(c)} again`);
  }
  const step = { op: 'max_pool', input: 0, output: 1, channels: 1, rows: 3, cols: 3, batch: 1, poolSize: 2, stride: 2, outRows: 2, outCols: 2 };
  const x = Float32Array.from([-5, -4, -3, -2, -1, -6, -7, -8, -9]);
  const [y] = await runPlan(planOf([[1, 3, 3, 1], [1, 2, 2, 1]], [step], [0], [1]), [], [x]);
  assert.equal(Array.from(y), [-1, -3, -7, -9]);
});

MaxPool('is exact for every batch size from 1 to 130', async () => {
  for (let B = 1; B <= 130; B++) {
    const r = await pool({ C: 2, H: 7, W: 6, B, P: 3, s: 2, seed: B });
    expectExact(r.ours, r.ref, `batch ${B}`);
  }
});

if (available) MaxPool.run();

// ---------------------------------------------------------------------------------------------
// transpose

const Transpose = suite('transpose kernel');

async function shuffle(perm, inShape, seed) {
  const x = randArray(inShape, seed);
  const outShape = perm.map((p) => inShape[p]);
  const step = { op: 'transpose', input: 0, output: 1, perm, inShape };
  const [ours] = await runPlan(planOf([inShape, outShape], [step], [0], [1]), [], [x.data]);
  return { ours, ref: transpose(x, perm).data };
}

Transpose('copies bc01 -> c01b and c01b -> bc01 exactly (Lasagne TestShuffleLayers and odd sizes)', async () => {
  for (const shape of [[1, 2, 3, 4], [3, 1, 11, 16], [5, 7, 3, 9], [33, 6, 5, 7], [2, 16, 16, 3], [64, 3, 8, 8], [1, 1, 1, 1], [4, 1, 1, 37]]) {
    for (const perm of [[1, 2, 3, 0], [3, 0, 1, 2]]) {
      const r = await shuffle(perm, shape, shape[0]);
      expectExact(r.ours, r.ref, `perm ${perm} of ${shape}`);
    }
  }
});

Transpose('is exact for every batch size from 1 to 130 on both axes', async () => {
  for (let B = 1; B <= 130; B++) {
    const a = await shuffle([1, 2, 3, 0], [B, 3, 5, 4], B);
    expectExact(a.ours, a.ref, `bc01 -> c01b batch ${B}`);
    const b = await shuffle([3, 0, 1, 2], [3, 5, 4, B], B);
    expectExact(b.ours, b.ref, `c01b -> bc01 batch ${B}`);
  }
});

if (available) Transpose.run();

// ---------------------------------------------------------------------------------------------
// nin

async function nin({ shape, U, biasMode = 'tied', act = ['linear', []], seed = 1, options }) {
  const C = shape[0];
  const B = shape[shape.length - 1];
  const positions = size(shape) / (C * B);
  const x = randArray(shape, seed);
  const w = randArray([U, C], seed + 1);
  const bShape = biasMode === 'tied' ? [U] : biasMode === 'untied' ? [U, ...shape.slice(1, -1)] : null;
  const b = bShape && randArray(bShape, seed + 2);
  const params = [param('W', w)];
  if (b) params.push(param('b', b));
  const outShape = [U, ...shape.slice(1)];
  const step = { op: 'nin', input: 0, output: 1, weight: 0, bias: b ? 1 : -1, biasMode, nonlinearity: { kind: act[0], params: act[1] }, channels: C, units: U, positions, batch: B };
  const [ours] = await runPlan(planOf([shape, outShape], [step], [0], [1]), params, [x.data], options);
  const N = positions * B;
  const ref = new Float64Array(U * N);
  const bound = new Float64Array(U * N);
  const L = lipschitz(act[0], act[1]);
  for (let u = 0; u < U; u++)
    for (let n = 0; n < N; n++) {
      let acc = 0;
      let mag = 0;
      for (let c = 0; c < C; c++) {
        acc += w.data[u * C + c] * x.data[c * N + n];
        mag += Math.abs(w.data[u * C + c] * x.data[c * N + n]);
      }
      const bv = !b ? 0 : biasMode === 'tied' ? b.data[u] : b.data[u * positions + Math.floor(n / B)];
      ref[u * N + n] = nonlinearity(act[0], act[1], acc + bv);
      bound[u * N + n] = tolerance(C + 1, L, mag + Math.abs(bv), ref[u * N + n]);
    }
  return { ours, ref, bound, outShape };
}

const Nin = suite('nin kernel');

Nin('matches Lasagne TestNINLayer_c01b get_output_for: (3, 4, 5, 2) input, 6 units, tied / untied / no bias', async () => {
  for (const biasMode of ['tied', 'untied', 'none']) {
    const r = await nin({ shape: [3, 4, 5, 2], U: 6, biasMode, seed: 21 });
    assert.equal(r.outShape, [6, 4, 5, 2]);
    expectClose(r.ours, r.ref, (i) => r.bound[i], biasMode);
  }
});

Nin('is right for every batch size from 1 to 130, 2-D and 4-D inputs, any unit count', async () => {
  for (let B = 1; B <= 130; B++) {
    const a = await nin({ shape: [7, B], U: 10, seed: B });
    expectClose(a.ours, a.ref, (i) => a.bound[i], `2-D batch ${B}`);
    const b = await nin({ shape: [5, 2, 3, B], U: 3 + (B % 6), biasMode: 'untied', seed: B + 1000 });
    expectClose(b.ours, b.ref, (i) => b.bound[i], `4-D batch ${B}`);
  }
});

Nin('fuses every nonlinearity with every bias mode', async () => {
  for (const act of NONLINEARITIES)
    for (const biasMode of ['none', 'tied', 'untied']) {
      const r = await nin({ shape: [16, 3, 3, 5], U: 9, biasMode, act, seed: 77 });
      expectClose(r.ours, r.ref, (i) => r.bound[i], `${act[0]} ${biasMode}`);
    }
});

Nin('sums long channel axes within the float32 bound', async () => {
  const r = await nin({ shape: [1024, 2, 2, 4], U: 20, act: ['softplus', []], seed: 5 });
  expectClose(r.ours, r.ref, (i) => r.bound[i], 'C=1024');
});

if (available) Nin.run();

// ---------------------------------------------------------------------------------------------
// sub-batch plans (what each worker thread runs)

const Split = suite('subBatchPlan');

Split('keeps the tensors the planner kept apart apart, at every sub-batch size', () => {
  // tensors 0..3 with overlapping lifetimes packed tightly, as an arena planner would
  const shapes = [[16, 3, 5, 7], [3, 5, 7, 16], [32, 3, 3, 16], [32, 1, 1, 16]];
  const steps = [
    { op: 'transpose', input: 0, output: 1, perm: [1, 2, 3, 0], inShape: [16, 3, 5, 7] },
    { op: 'filter_acts', input: 1, output: 2, weight: 0, weightLayout: 'ckkf', flipFilters: false, bias: -1, biasMode: 'none', nonlinearity: { kind: 'linear', params: [] }, channels: 3, rows: 5, cols: 7, batch: 16, filters: 32, filterSize: 3, stride: 1, pad: 0, outRows: 3, outCols: 5 },
  ];
  const plan = planOf(shapes, steps, [0], [2]);
  plan.tensors[2].shape = [32, 3, 5, 16];
  plan.tensors = plan.tensors.slice(0, 3);
  // tight offsets: 0 and 1 adjacent, 2 reuses 0's bytes
  plan.tensors[0].offset = 0;
  plan.tensors[1].offset = 4 * 16 * 105;
  plan.tensors[2].offset = 0;
  plan.tensors[0].bytes = 4 * 16 * 105;
  plan.tensors[1].bytes = 4 * 16 * 105;
  plan.arenaBytes = 2 * 4 * 16 * 105;
  const exec = { ...plan, slots: [], stepSlots: [] };
  const axes = batchAxes(exec);
  assert.equal(axes, ['first', 'last', 'last']);
  assert.is(planBatch(exec.steps), 16);
  for (let sub = 1; sub <= 16; sub++) {
    const p = subBatchPlan(exec, axes, 16, sub);
    const [t0, t1, t2] = p.tensors;
    assert.equal(t0.shape, [sub, 3, 5, 7]);
    assert.equal(t1.shape, [3, 5, 7, sub]);
    assert.ok(t0.offset + t0.bytes <= t1.offset, `sub ${sub}: tensors 0 and 1 overlap`);
    assert.ok(t1.offset + t1.bytes <= p.arenaBytes && t2.offset + t2.bytes <= p.arenaBytes, `sub ${sub}: outside the arena`);
    assert.is(p.steps[0].inShape[0], sub);
    assert.is(p.steps[1].batch, sub);
  }
});

if (available) Split.run();
