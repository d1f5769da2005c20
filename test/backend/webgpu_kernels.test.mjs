// The WGSL kernels (wgsl/*.wgsl through src/backend/webgpu), one op at a time, against the naive
// float64 oracles of test/reference on random inputs, through WebGPU on this machine (SwiftShader on a
// CPU). Steps are written by hand (src/ops/steps.ts) and run through stepPlan + prepareWebGpu, so
// every kernel variant is reached directly: vec4 and scalar paths (batch % 4), partial filter and
// column tiles, several K chunks, every nonlinearity and bias mode.
//
// Checks: shape first, then values. Transposes and max-pooling move values without arithmetic, so
// they must be bit-exact. The GEMM kernels sum N = C*k*k (conv) or C (NIN) float32 products and add a
// bias: whatever the order, that errs by at most gamma_{N+2} * sum|terms| (Higham 3.1, u = 2^-24),
// magnified by at most the nonlinearity's Lipschitz constant L, plus the float32 rounding of the
// nonlinearity itself (1e-6 relative). That is test/reference/layers.mjs tolerance(), evaluated per
// element with sum|terms| computed by the same oracle on |x|, |w|, |b|.
//
// Skips, saying why, when the `webgpu` package or an adapter is missing.
import { suite } from 'uvu';
import { testDevice, rejects } from './env.mjs';
import * as assert from 'uvu/assert';
import { filterActsC01b, convNd } from '../reference/conv.mjs';
import { max_pool_2d } from '../reference/pool.mjs';
import { transpose, cropAxes12 } from '../reference/array.mjs';
import { uniform, randn, toFloat32 } from '../reference/random.mjs';
import { nonlinearity as phi, lipschitz, tolerance } from '../reference/layers.mjs';
import { convStep } from '../support/steps.mjs';
import { Param } from '../../dist/layers/base.js';
import { prepareWebGpu, stepPlan } from '../../dist/backend/webgpu/index.js';
import { filterTileWidth, filterRegisterTile, filterActsTile, gemmTileProblem, ninTile, ninTileShape } from '../../dist/backend/webgpu/geometry.js';


const { device, reason } = await testDevice({ limits: true });
if (reason) console.log(`  SKIP webgpu kernels: ${reason}`);

const test = suite('webgpu kernels');
const it = reason ? test.skip : test;
test.after(() => device?.destroy());

const f32 = toFloat32;
const size = (shape) => shape.reduce((n, d) => n * d, 1);
const absOf = (a) => ({ data: Float64Array.from(a.data, Math.abs), shape: a.shape });

/**
 * Prepares a plan on the test device inside a validation scope, runs it once, disposes it. The
 * kernels are the GPU variants (what a real GPU runs) unless options.cpuVariants says otherwise.
 */
async function runPlan(plan, params, inputs, options = {}) {
  device.pushErrorScope('validation');
  let net = null;
  try {
    net = await prepareWebGpu(plan, params, { device, cpuVariants: false, ...options });
    return await net.run(inputs);
  } finally {
    net?.dispose();
    const err = await device.popErrorScope();
    assert.is(err, null, `validation error: ${err && err.message}`);
  }
}

/** Shape, then |got - want| <= tol(i) everywhere (tol 0: bit-exact). */
function expectClose(got, want, tol, label) {
  assert.equal(got.shape, want.shape, `${label}: shape`);
  assert.ok(got.data instanceof Float32Array, `${label}: Float32Array`);
  assert.is(got.data.length, want.data.length, `${label}: length`);
  for (let i = 0; i < want.data.length; i++) {
    const err = Math.abs(got.data[i] - want.data[i]);
    const t = tol(i);
    if (!(err <= t)) assert.unreachable(`${label}: element ${i} is ${got.data[i]}, expected ${want.data[i]} (|error| ${err} > tolerance ${t})`);
  }
}

/** The c01b conv oracle on Lasagne's grid: FilterActs cropped, + bias, then phi; or the magnitude with abs. */
function convOracle(x, w, b, step, abs = false) {
  const X = abs ? absOf(x) : x;
  const Wt = abs ? absOf(w) : w;
  const y = cropAxes12(filterActsC01b(X, Wt, step.pad, step.stride), step.outRows, step.outCols);
  const [F, R, S, B] = y.shape;
  for (let f = 0; f < F; f++)
    for (let r = 0; r < R; r++)
      for (let c = 0; c < S; c++)
        for (let n = 0; n < B; n++) {
          const i = ((f * R + r) * S + c) * B + n;
          let bv = 0;
          if (step.biasMode === 'tied') bv = b.data[f];
          if (step.biasMode === 'untied') bv = b.data[(f * R + r) * S + c];
          y.data[i] += abs ? Math.abs(bv) : bv;
          if (!abs) y.data[i] = phi(step.nonlinearity.kind, step.nonlinearity.params, y.data[i]);
        }
  return y;
}

/** tolerance() per element of a GEMM step with N terms per output. */
function gemmTol(N, kind, params, magnitude, value) {
  const L = lipschitz(kind, params);
  return (i) => tolerance(N, L, magnitude.data[i], value.data[i]);
}

it("Lasagne's conv2d_test_sets (bc01, flipFilters: true, via the two transposes) match convNd: shapes and values", async () => {
  // input (B, 1, 11, 16) with B varying per case, kernel (16, 1, k, k): tensor 3i input, 3i+1 c01b,
  // 3i+2 conv output c01b, then back to bc01 in tensor 3n + i.
  const cases = [];
  for (const pad of [0, 1, 2, 'full', 'same'])
    for (const stride of [1, 2, 3])
      for (const k of [1, 3]) if (stride <= k) cases.push({ pad, stride, k });
  assert.is(cases.length, 20);
  cases.push({ pad: 'valid', stride: 1, k: 3 }, { pad: 0, stride: 1, k: 3, correlation: true });
  const batches = [3, 1, 2, 4, 5, 7, 8, 13, 3, 6, 9, 12, 1, 16, 11, 3, 4, 10, 2, 5, 3, 3];
  const shapes = [];
  const steps = [];
  const params = [];
  const inputs = [];
  const expected = [];
  cases.forEach((c, i) => {
    const B = batches[i];
    const p = c.pad === 'full' ? c.k - 1 : c.pad === 'same' ? (c.k - 1) >> 1 : c.pad === 'valid' ? 0 : c.pad;
    const x = f32(uniform([B, 1, 11, 16], 10 + i));
    const kernel = f32(uniform([16, 1, c.k, c.k], 100 + i));
    params.push(new Param(`W${i}`, kernel));
    const step = convStep({ C: 1, H: 11, W: 16, B, F: 16, k: c.k, s: c.stride, pad: p, weight: i, weightLayout: 'fckk', flipFilters: !c.correlation });
    const t = shapes.length;
    shapes.push([B, 1, 11, 16], [1, 11, 16, B], [16, step.outRows, step.outCols, B], [B, 16, step.outRows, step.outCols]);
    steps.push(
      { op: 'transpose', index: 0, layer: `in${i}`, input: t, output: t + 1, perm: [1, 2, 3, 0], inShape: [B, 1, 11, 16] },
      { ...step, input: t + 1, output: t + 2 },
      { op: 'transpose', index: 0, layer: `out${i}`, input: t + 2, output: t + 3, perm: [3, 0, 1, 2], inShape: [16, step.outRows, step.outCols, B] },
    );
    inputs.push(x.data);
    // convNd is a true convolution; flipFilters: false is a correlation, i.e. convNd with the kernel flipped
    const ref = convNd(x, c.correlation ? { data: flipKernel(kernel), shape: kernel.shape } : kernel, c.pad, c.stride);
    expected.push({ ref, terms: c.k * c.k, label: `pad ${c.pad} stride ${c.stride} k ${c.k}${c.correlation ? ' correlation' : ''} batch ${B}` });
  });
  steps.forEach((s, i) => (s.index = i));
  const outIds = expected.map((_, i) => 4 * i + 3);
  const plan = stepPlan(shapes, steps, expected.map((_, i) => 4 * i), outIds);
  const outs = await runPlan(plan, params, inputs);
  expected.forEach(({ ref, terms, label }, i) => {
    // inputs and kernels are in [0, 1): every term is non-negative, so the magnitude is the value
    expectClose({ data: outs[i], shape: plan.tensors[outIds[i]].shape }, ref, (j) => tolerance(terms, 1, ref.data[j], ref.data[j]), label);
  });
});

function flipKernel(kernel) {
  const [F, C, R, S] = kernel.shape;
  const out = new Float32Array(kernel.data.length);
  for (let f = 0; f < F; f++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < R; i++)
        for (let j = 0; j < S; j++) out[((f * C + c) * R + i) * S + j] = kernel.data[((f * C + c) * R + (R - 1 - i)) * S + (S - 1 - j)];
  return out;
}

const C01B_CONFIGS = [
    { C: 1, H: 5, W: 7, k: 3, s: 1, pad: 1, F: 16, B: 1 },
    { C: 2, H: 6, W: 5, k: 3, s: 2, pad: 0, F: 32, B: 2 },
    { C: 3, H: 9, W: 8, k: 5, s: 1, pad: 2, F: 48, B: 3 },
    { C: 4, H: 5, W: 6, k: 3, s: 1, pad: 1, F: 80, B: 4 },
    { C: 8, H: 5, W: 5, k: 3, s: 3, pad: 1, F: 16, B: 5 },
    { C: 16, H: 4, W: 6, k: 3, s: 1, pad: 0, F: 64, B: 8 },
    { C: 3, H: 7, W: 7, k: 4, s: 2, pad: 1, F: 128, B: 12 },
    { C: 4, H: 5, W: 4, k: 1, s: 1, pad: 0, F: 16, B: 31 },
    { C: 3, H: 4, W: 5, k: 3, s: 1, pad: 1, F: 32, B: 64 },
    { C: 2, H: 4, W: 3, k: 2, s: 1, pad: 0, F: 16, B: 127 },
    { C: 1, H: 3, W: 4, k: 3, s: 1, pad: 1, F: 16, B: 128 },
    { C: 1, H: 3, W: 3, k: 3, s: 2, pad: 1, F: 16, B: 129 },
    { C: 4, H: 3, W: 3, k: 3, s: 1, pad: 0, F: 32, B: 130 },
    { C: 16, H: 3, W: 3, k: 3, s: 1, pad: 2, F: 16, B: 6 },
    // K = 800 (50 chunks of 16), vec4 and scalar
    { C: 32, H: 6, W: 6, k: 5, s: 1, pad: 2, F: 64, B: 4 },
    { C: 32, H: 5, W: 5, k: 5, s: 1, pad: 2, F: 32, B: 3 },
    // F = 96 in three tiles of 32 (WG_F 8), vec4 and scalar
    { C: 2, H: 9, W: 9, k: 5, s: 1, pad: 1, F: 96, B: 5 },
    { C: 3, H: 9, W: 9, k: 5, s: 2, pad: 0, F: 96, B: 8 },
    // 8 filters per thread (RF 2: F % 128 == 0, at least 128 tiles of 128 x 64), vec4 and scalar, K in 2 chunks;
    // the same with F = 96 (one tile of 8 * 12 filters, 192 threads)
    { C: 2, H: 8, W: 8, k: 3, s: 1, pad: 1, F: 128, B: 128 },
    { C: 2, H: 8, W: 8, k: 3, s: 1, pad: 1, F: 128, B: 129 },
    { C: 2, H: 8, W: 8, k: 3, s: 1, pad: 1, F: 96, B: 128 },
    { C: 2, H: 8, W: 8, k: 3, s: 1, pad: 1, F: 96, B: 129 },
];

/** Runs c01b convs of the given configs and checks each against the oracle; returns the outputs. */
async function checkC01bConvs(configs, options = {}) {
  const shapes = [];
  const steps = [];
  const params = [];
  const inputs = [];
  const checks = [];
  configs.forEach((c, i) => {
    const step = convStep({ ...c, index: i, input: 2 * i, output: 2 * i + 1, weight: i });
    const x = f32(uniform([c.C, c.H, c.W, c.B], 300 + i, -1, 1));
    const w = f32(uniform([c.C, c.k, c.k, c.F], 400 + i, -1, 1));
    shapes.push(x.shape, [c.F, step.outRows, step.outCols, c.B]);
    steps.push(step);
    params.push(new Param(`W${i}`, w));
    inputs.push(x.data);
    checks.push({ x, w, step, label: JSON.stringify(c) });
  });
  const plan = stepPlan(shapes, steps, configs.map((_, i) => 2 * i), configs.map((_, i) => 2 * i + 1));
  const outs = await runPlan(plan, params, inputs, options);
  checks.forEach(({ x, w, step, label }, i) => {
    const ref = convOracle(x, w, null, step);
    const mag = convOracle(x, w, null, step, true);
    expectClose({ data: outs[i], shape: plan.tensors[2 * i + 1].shape }, ref, gemmTol(step.channels * step.filterSize ** 2, 'linear', [], mag, ref), label);
  });
  return outs;
}

it('filter_acts in c01b: batch 1..130 (vec4 and scalar paths), channels 1..32, partial filter tiles, partial K chunks', async () => {
  // every filter tile width filterTileWidth picks is reached: 4, 8 (also for F = 96, not 16), 16
  const widths = new Set(C01B_CONFIGS.map((c) => filterTileWidth(c.F)));
  for (const w of [4, 8, 16]) assert.ok(widths.has(w), `some config has WG_F ${w}`);
  assert.ok(C01B_CONFIGS.some((c) => c.F === 96 && c.B % 4 === 0) && C01B_CONFIGS.some((c) => c.F === 96 && c.B % 4 !== 0), 'F = 96 on both paths');
  assert.is(filterTileWidth(96), 8);
  assert.is(filterTileWidth(80), 8);
  assert.is(filterTileWidth(128), 16);
  assert.is(filterTileWidth(384), 16);
  // RF 2 is reached on both paths with WG_F 16 and 12, and RF 1 with F = 128 (few tiles); the benchmark's L1-L5 and A1 take RF 2
  const tiles = C01B_CONFIGS.map((c) => {
    const s = convStep(c);
    return filterRegisterTile(c.F, s.outRows * s.outCols * c.B);
  });
  for (const wgF of [16, 12]) {
    for (const vec4 of [true, false]) {
      assert.ok(tiles.some((t, i) => t.rf === 2 && t.wgF === wgF && (C01B_CONFIGS[i].B % 4 === 0) === vec4), `RF 2 with WG_F ${wgF}, vec4 ${vec4}`);
    }
  }
  assert.equal(filterRegisterTile(128, 56 * 56 * 128), { wgF: 16, rf: 2, rn: 1 });
  assert.equal(filterRegisterTile(384, 11 * 11 * 128), { wgF: 16, rf: 2, rn: 1 });
  assert.equal(filterRegisterTile(96, 118 * 118 * 128), { wgF: 12, rf: 2, rn: 2 });
  assert.equal(filterRegisterTile(96, 10 * 10 * 128), { wgF: 12, rf: 2, rn: 1 });
  assert.equal(filterRegisterTile(128, 10 * 10 * 128), { wgF: 16, rf: 2, rn: 1 });
  assert.equal(filterRegisterTile(128, 64 * 64), { wgF: 16, rf: 1, rn: 1 });
  assert.equal(filterRegisterTile(32, 32 * 32 * 128), { wgF: 8, rf: 1, rn: 1 });
  assert.equal(filterRegisterTile(64, 8 * 8 * 128), { wgF: 16, rf: 1, rn: 1 });
  assert.ok(tiles.some((t, i) => t.rf === 1 && C01B_CONFIGS[i].F === 128), 'RF 1 with F = 128');
  await checkC01bConvs(C01B_CONFIGS);
});

it('the CPU variants (short K chunks, chosen on SwiftShader) match the oracle and the GPU variants bit for bit', async () => {
  // Within a thread the sum runs over K in ascending order whatever the chunk size, so the variants
  // must agree exactly.
  const configs = [C01B_CONFIGS[5], C01B_CONFIGS[4], C01B_CONFIGS[12], C01B_CONFIGS[2], C01B_CONFIGS[14], C01B_CONFIGS[15]];
  // (split K, which GPU variants take for few tiles and long K, sums in another order: not here)
  const gpu = await checkC01bConvs(configs, { cpuVariants: false, tile: { split: 1 } });
  const cpu = await checkC01bConvs(configs, { cpuVariants: true });
  gpu.forEach((g, i) => assert.ok(g.every((v, j) => Object.is(v, cpu[i][j])), `config ${i}: bit-identical`));
});

it('filter_acts tile variants (forced): every register tile, workgroup shape and stage length agrees with the oracle and with each other', async () => {
  // K = 800 in several chunks, partial filter and column tiles, vec4 and scalar batches. Each variant
  // is a pipeline; the tiles cover 1 to 4 loads per thread of either operand (the shader's Loads).
  const configs = [C01B_CONFIGS[14], C01B_CONFIGS[15], C01B_CONFIGS[2], C01B_CONFIGS[12], C01B_CONFIGS[6], C01B_CONFIGS[9]];
  const limits = { maxComputeWorkgroupStorageSize: 16384 };
  const variants = [
    { rf: 2, rn: 2, wgF: 12, wgN: 16, kChunk: 16, split: 1 }, // F = 96's tile: 192 threads, 8 x 8 each, 2 loads of each operand
    { rf: 1, rn: 1, wgF: 8, wgN: 16, kChunk: 32, split: 1 }, // the long stage: 4 input loads per thread
    { rf: 2, rn: 1, wgF: 16, wgN: 16, kChunk: 16, split: 1 },
    { rf: 2, rn: 1, wgF: 4, wgN: 16, kChunk: 16, split: 1 }, // 64 threads: 2 weight and 4 input loads each
    { rf: 1, rn: 1, wgF: 16, wgN: 4, kChunk: 8, split: 1 }, // 2 weight loads, one input load for half the threads
    { rf: 1, rn: 2, wgF: 8, wgN: 8, kChunk: 16, split: 1 }, // two column groups, one filter group
  ];
  for (const t of variants) assert.is(gemmTileProblem(t, false, limits), null, JSON.stringify(t));
  // the forced tile reaches the launch: an impossible one is refused by prepareWebGpu
  await rejects(() => checkC01bConvs([configs[0]], { tile: { rf: 3 } }), (e) => /filter_acts: rf and rn must be 1 or 2/.test(e.message), 'rf 3');
  const outs = [];
  for (const tile of variants) outs.push(await checkC01bConvs(configs, { tile }));
  // the chosen tile without split is the reference: a thread sums K in ascending order whatever its tile, so all agree exactly
  const chosen = await checkC01bConvs(configs, { tile: { split: 1 } });
  outs.forEach((o, v) => o.forEach((g, i) => assert.ok(g.every((x, j) => Object.is(x, chosen[i][j])), `variant ${v}, config ${i}: bit-identical`)));
});

it('split K (forced: 2, 3 and 4 slices, one slice shorter; vec4 and scalar) matches the oracle', async () => {
  // partial sums of each slice go to scratch past the arena, split_sum adds them with the bias and
  // the nonlinearity; K = 800 (configs 14, 15), 75 and 36 in slices of whole stages
  const configs = [C01B_CONFIGS[14], C01B_CONFIGS[15], C01B_CONFIGS[2], C01B_CONFIGS[12], C01B_CONFIGS[13]];
  for (const tile of [{ split: 2 }, { split: 3, kChunk: 8 }, { split: 4, kChunk: 4, rf: 1, rn: 2, wgF: 4, wgN: 16 }]) {
    await checkC01bConvs(configs, { tile });
  }
});

it('filterActsTile: the benchmark layers get their measured tiles; limits shrink K_CHUNK; impossible tiles are refused', () => {
  const big = { maxComputeWorkgroupStorageSize: 49152 };
  const small = { maxComputeWorkgroupStorageSize: 16384 };
  const cpu = { maxComputeWorkgroupStorageSize: 16384, cpu: true };
  // L2 (F 128, K 5184: RF 2, RN 1, so 8 rows per stage), L1 (F 96: 8 x 8 per thread, 16 rows), C2
  // (256 tiles, K 800: 32 rows per stage where 48 KiB allow it), C3 (128 tiles: K in 4 slices), L4
  // (200 tiles: 3 slices, 8 rows)
  const tile = (wgN, wgF, rf, rn, kChunk, split) => ({ wgN, wgF, rf, rn, kChunk, split });
  assert.equal(filterActsTile(128, 5184, 56 * 56 * 128, true, big), tile(16, 16, 2, 1, 8, 1));
  assert.equal(filterActsTile(96, 363, 118 * 118 * 128, true, big), tile(16, 12, 2, 2, 16, 1));
  assert.equal(filterActsTile(32, 800, 16 * 16 * 128, true, big), tile(32, 8, 1, 1, 32, 1));
  assert.equal(filterActsTile(32, 800, 16 * 16 * 128, true, small), tile(32, 8, 1, 1, 16, 1));
  assert.equal(filterActsTile(64, 800, 8 * 8 * 128, true, big), tile(16, 16, 1, 1, 16, 4));
  assert.equal(filterActsTile(128, 6272, 10 * 10 * 128, true, big), tile(16, 16, 2, 1, 8, 3));
  // no split for a short K, nor on a CPU device
  assert.is(filterActsTile(64, 75, 8 * 8 * 128, true, big).split, 1);
  assert.equal(filterActsTile(128, 5184, 56 * 56 * 128, true, cpu).kChunk, 2);
  assert.is(filterActsTile(64, 800, 8 * 8 * 128, true, cpu).split, 1);
  // every chosen tile fits the 16 KiB default on both paths
  for (const [F, K, N] of [[96, 363, 1e6], [128, 5184, 4e5], [384, 3456, 15488], [32, 75, 131072], [32, 800, 32768], [64, 800, 8192], [16, 9, 5]]) {
    for (const vec4 of [true, false]) assert.is(gemmTileProblem(filterActsTile(F, K, N, vec4, small), vec4, small), null);
  }
  assert.match(gemmTileProblem(tile(32, 16, 1, 1, 16, 1), true, big), /exceeds 256 invocations/);
  assert.match(gemmTileProblem(tile(8, 8, 3, 1, 16, 1), true, big), /rf and rn must be 1 or 2/);
  assert.match(gemmTileProblem(tile(8, 4, 1, 1, 64, 1), true, big), /more than 4 loads per thread/);
  assert.match(gemmTileProblem(tile(16, 16, 2, 1, 32, 1), true, small), /needs 24832 bytes of workgroup memory, the device allows 16384/);
  assert.match(gemmTileProblem(tile(16, 16, 2, 1, 16, 0), true, small), /positive integers/);
  assert.throws(() => filterActsTile(128, 9, 4096, true, { maxComputeWorkgroupStorageSize: 256 }), /filter_acts: the tile needs \d+ bytes of workgroup memory, the device allows 256/);
});

it('ninTile: N1 (U 160) gets RU 5 with 8 channels per stage, U 10 RU 1 with 16; forced fields are checked', () => {
  const big = { maxComputeWorkgroupStorageSize: 49152 };
  assert.equal(ninTile(160, big), { wgU: 8, ru: 5, wgN: 32, kChunk: 8 });
  assert.equal(ninTile(10, big), { wgU: 4, ru: 1, wgN: 64, kChunk: 16 });
  assert.equal(ninTile(10, { ...big, cpu: true }).kChunk, 2);
  assert.equal(ninTile(160, { ...big, ninTile: { wgN: 16, kChunk: 4 } }), { wgU: 8, ru: 5, wgN: 16, kChunk: 4 });
  assert.throws(() => ninTile(160, { ...big, ninTile: { wgN: 64 } }), /nin: a workgroup of 64 x 8 exceeds 256 invocations/);
  assert.throws(() => ninTile(160, { ...big, ninTile: { ru: 6 } }), /nin: ru must be 1\.\.5/);
  assert.throws(() => ninTile(160, { ...big, ninTile: { kChunk: 32 } }), /nin: a stage of 32 channels needs more than 4 loads per thread/);
  assert.throws(() => ninTile(160, { ...big, ninTile: { kChunk: 0 } }), /nin: fields must be positive integers/);
  assert.throws(() => ninTile(160, { maxComputeWorkgroupStorageSize: 4096, ninTile: { kChunk: 8 } }), /nin: the tile needs more than 4096 bytes of workgroup memory/);
});

const NONLINEARITIES = [
  ['linear', []], ['sigmoid', []], ['tanh', []], ['scaled_tanh', [0.5, 2.27]], ['rectify', []],
  ['leaky_rectify', [0.1]], ['elu', []], ['selu', [1.0507009873554805, 1.6732632423543772]], ['softplus', []],
];

/**
 * filter_acts fused with nonlinearities and bias modes, checked against the oracle (combos of
 * { B, kind, p, biasMode }; options for prepareWebGpu, e.g. a forced tile).
 */
async function checkEpilogues(combos, options = {}) {
  const C = 3;
  const H = 6;
  const W = 7;
  const shapes = [];
  const inputs = [];
  const params = [];
  const data = {};
  for (const B of [8, 5]) {
    // preactivations reach about +-20: the far tails of sigmoid, tanh, softplus and expm1
    const x = f32(uniform([C, H, W, B], 500 + B, -3, 3));
    const w = f32(uniform([C, 3, 3, 16], 600 + B, -1, 1));
    const tied = f32(uniform([16], 700 + B, -1, 1));
    const untied = f32(uniform([16, H, W], 800 + B, -1, 1));
    data[B] = { x, xId: shapes.length, w, wId: params.length, tied, untied };
    shapes.push(x.shape);
    inputs.push(x.data);
    params.push(new Param('W', w), new Param('b', tied), new Param('b_untied', untied));
  }
  const steps = [];
  const checks = [];
  for (const { B, kind, p, biasMode } of combos) {
    const d = data[B];
    const step = convStep({
      C, H, W, B, F: 16, k: 3, s: 1, pad: 1, index: steps.length, layer: `${kind}/${biasMode}/B${B}`, input: d.xId, output: shapes.length,
      weight: d.wId, bias: biasMode === 'tied' ? d.wId + 1 : biasMode === 'untied' ? d.wId + 2 : -1, biasMode, nonlinearity: { kind, params: p },
    });
    shapes.push([16, step.outRows, step.outCols, B]);
    steps.push(step);
    checks.push({ x: d.x, w: d.w, b: biasMode === 'tied' ? d.tied : d.untied, step });
  }
  const plan = stepPlan(shapes, steps, [data[8].xId, data[5].xId], steps.map((s) => s.output));
  const outs = await runPlan(plan, params, inputs, options);
  checks.forEach(({ x, w, b, step }, i) => {
    const ref = convOracle(x, w, b, step);
    const mag = convOracle(x, w, b, step, true);
    const { kind, params: p } = step.nonlinearity;
    expectClose({ data: outs[i], shape: plan.tensors[step.output].shape }, ref, gemmTol(step.channels * 9, kind, p, mag, ref), step.layer);
  });
}

const BIAS_MODES = ['none', 'tied', 'untied'];

it('filter_acts fuses every nonlinearity with every bias mode (vec4 batch), and each with one (scalar batch)', async () => {
  // every pair on the vec4 path (B = 8); on the scalar path (B = 5) every nonlinearity once, the bias
  // modes in turn (each pair is a pipeline, and SwiftShader compiles slowly)
  const combos = [];
  for (const [kind, p] of NONLINEARITIES) for (const biasMode of BIAS_MODES) combos.push({ B: 8, kind, p, biasMode });
  NONLINEARITIES.forEach(([kind, p], i) => combos.push({ B: 5, kind, p, biasMode: BIAS_MODES[i % 3] }));
  await checkEpilogues(combos);
});

it('split K applies the bias and the nonlinearity once, in split_sum: every bias mode on both paths', async () => {
  const combos = BIAS_MODES.flatMap((biasMode, i) => [
    { B: 8, kind: NONLINEARITIES[3 * i + 1][0], p: NONLINEARITIES[3 * i + 1][1], biasMode },
    { B: 5, kind: NONLINEARITIES[3 * i + 2][0], p: NONLINEARITIES[3 * i + 2][1], biasMode },
  ]);
  await checkEpilogues(combos, { tile: { split: 2 } });
});

it('each nonlinearity is accurate to a few ulps from 2^-30 to 2^6, both signs (no WGSL tanh or log, which are coarse near 0)', async () => {
  // One NIN unit with W = 1 and no bias: the output is exactly the nonlinearity of the input. The
  // bound is WGSL's exp allowance, 3 + 2|x| ulps, plus one ulp for the arithmetic around it
  // (relative; sigmoid and softplus of a very negative x are e^x itself).
  const xs = [0];
  for (let e = -30; e <= 6; e += 0.25) xs.push(2 ** e, -(2 ** e));
  const x = Float32Array.from(xs);
  const N = x.length;
  const steps = NONLINEARITIES.map(([kind, p], i) => ({
    op: 'nin', index: i, layer: kind, input: 0, output: i + 1, weight: 0, bias: -1, biasMode: 'none',
    nonlinearity: { kind, params: p }, channels: 1, units: 1, positions: 1, batch: N,
  }));
  const plan = stepPlan(Array.from({ length: steps.length + 1 }, () => [1, N]), steps, [0], steps.map((s) => s.output));
  const outs = await runPlan(plan, [new Param('W', { data: Float32Array.of(1), shape: [1, 1] })], [x]);
  steps.forEach((step, i) => {
    const { kind, params: p } = step.nonlinearity;
    const ref = { data: Float64Array.from(x, (v) => phi(kind, p, v)), shape: [1, N] };
    expectClose({ data: outs[i], shape: [1, N] }, ref, (j) => (4 + 2 * Math.abs(x[j])) * 2 ** -23 * Math.abs(ref.data[j]) + 1e-37, kind);
  });
});

it('filter_acts with dimshuffle-style (F, C, k, k) weights and flipFilters matches the flipped correlation (kernelWeights)', async () => {
  const C = 4;
  const B = 4;
  const x = f32(uniform([C, 7, 6, B], 900, -1, 1));
  const wFckk = f32(uniform([32, C, 3, 3], 901, -1, 1));
  const shapes = [x.shape];
  const steps = [];
  const expected = [];
  for (const flip of [false, true]) {
    const step = convStep({ C, H: 7, W: 6, B, F: 32, k: 3, s: 2, pad: 1, index: steps.length, output: shapes.length, weightLayout: 'fckk', flipFilters: flip });
    shapes.push([32, step.outRows, step.outCols, B]);
    steps.push(step);
    // (F, C, k, k) -> (C, k, k, F), flipped in both spatial axes for flipFilters
    const wC01f = new Float64Array(C * 9 * 32);
    for (let f = 0; f < 32; f++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) {
            const [si, sj] = flip ? [2 - i, 2 - j] : [i, j];
            wC01f[((c * 3 + i) * 3 + j) * 32 + f] = wFckk.data[((f * C + c) * 3 + si) * 3 + sj];
          }
    const w = { data: wC01f, shape: [C, 3, 3, 32] };
    expected.push({ ref: convOracle(x, w, null, step), mag: convOracle(x, w, null, step, true), out: step.output });
  }
  const plan = stepPlan(shapes, steps, [0], expected.map((e) => e.out));
  const outs = await runPlan(plan, [new Param('W', wFckk)], [x.data]);
  expected.forEach(({ ref, mag, out }, i) =>
    expectClose({ data: outs[i], shape: plan.tensors[out].shape }, ref, gemmTol(C * 9, 'linear', [], mag, ref), `flip ${i === 1}`),
  );
});

/** The NIN oracle: out[u, n] = phi(sum_c W[u, c] in[c, n] + bias). */
function ninOracle(x, w, b, step, abs = false) {
  const { channels: C, units: U, positions: P, batch: B } = step;
  const N = P * B;
  const out = new Float64Array(U * N);
  const m = abs ? Math.abs : (v) => v;
  for (let u = 0; u < U; u++)
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let c = 0; c < C; c++) acc += m(w.data[u * C + c]) * m(x.data[c * N + n]);
      if (step.biasMode === 'tied') acc += m(b.data[u]);
      if (step.biasMode === 'untied') acc += m(b.data[u * P + Math.floor(n / B)]);
      out[u * N + n] = abs ? acc : phi(step.nonlinearity.kind, step.nonlinearity.params, acc);
    }
  return { data: out, shape: [U, ...x.shape.slice(1)] };
}

it('nin: units 1..160, batch 2..130, N % 4 == 0 and not, every bias mode, 2-D and 4-D inputs', async () => {
  // [C, U, shape, bias, nonlinearity]: N % 4 == 0 with B % 4 != 0 puts two positions in one vec4
  // (untied bias per component); U = 1, 10, 17 and 160 reach every unit-tile width, 160 RU 5.
  const configs = [
    { C: 3, U: 10, shape: [3, 4, 5, 2], biasMode: 'untied', act: NONLINEARITIES[4] },
    { C: 4, U: 12, shape: [4, 2, 3, 130], biasMode: 'untied', act: NONLINEARITIES[4] },
    { C: 16, U: 6, shape: [16, 3, 3, 5], biasMode: 'tied', act: NONLINEARITIES[1] },
    { C: 20, U: 160, shape: [20, 2, 2, 8], biasMode: 'none', act: NONLINEARITIES[0] },
    { C: 7, U: 1, shape: [7, 3, 1, 3], biasMode: 'tied', act: NONLINEARITIES[1] },
    { C: 33, U: 17, shape: [33, 13], biasMode: 'tied', act: NONLINEARITIES[7] },
    // RU 2, 3, 4 (ninTileShape): U = 100 leaves the last group partial, U = 200 has two unit tiles
    { C: 18, U: 64, shape: [18, 5, 3, 4], biasMode: 'untied', act: NONLINEARITIES[1] },
    { C: 9, U: 96, shape: [9, 7, 3], biasMode: 'tied', act: NONLINEARITIES[4] },
    { C: 21, U: 100, shape: [21, 3, 2, 6], biasMode: 'tied', act: NONLINEARITIES[0] },
    { C: 5, U: 200, shape: [5, 9, 5], biasMode: 'untied', act: NONLINEARITIES[1] },
  ];
  assert.equal([...new Set(configs.map((c) => ninTileShape(c.U).ru))].sort(), [1, 2, 3, 4, 5], 'every RU');
  const shapes = [];
  const steps = [];
  const params = [];
  const inputs = [];
  const checks = [];
  configs.forEach((c, i) => {
    const B = c.shape[c.shape.length - 1];
    const P = size(c.shape.slice(1, -1));
    const x = f32(uniform(c.shape, 1000 + i, -2, 2));
    const w = f32(uniform([c.U, c.C], 1100 + i, -1, 1));
    const b = f32(uniform(c.biasMode === 'untied' ? [c.U, ...c.shape.slice(1, -1)] : [c.U], 1200 + i, -1, 1));
    const wi = params.length;
    params.push(new Param(`W${i}`, w), new Param(`b${i}`, b));
    const step = {
      op: 'nin', index: i, layer: `nin${i}`, input: 2 * i, output: 2 * i + 1, weight: wi, bias: c.biasMode === 'none' ? -1 : wi + 1,
      biasMode: c.biasMode, nonlinearity: { kind: c.act[0], params: c.act[1] }, channels: c.C, units: c.U, positions: P, batch: B,
    };
    shapes.push(c.shape, [c.U, ...c.shape.slice(1)]);
    steps.push(step);
    inputs.push(x.data);
    checks.push({ x, w, b, step, label: JSON.stringify(c) });
  });
  const plan = stepPlan(shapes, steps, configs.map((_, i) => 2 * i), configs.map((_, i) => 2 * i + 1));
  const outs = await runPlan(plan, params, inputs);
  checks.forEach(({ x, w, b, step, label }, i) => {
    const ref = ninOracle(x, w, b, step);
    const mag = ninOracle(x, w, b, step, true);
    const { kind, params: p } = step.nonlinearity;
    expectClose({ data: outs[i], shape: plan.tensors[2 * i + 1].shape }, ref, gemmTol(step.channels, kind, p, mag, ref), label);
  });
});

it('max_pool is bit-exact with partial windows, on square and non-square images, batch % 4 == 0 and not (bc01 via transposes)', async () => {
  const configs = [];
  for (const [P, s] of [[2, 1], [2, 2], [3, 1], [3, 2], [3, 3], [1, 1]]) configs.push({ P, s, B: 8, C: 16, H: 16, W: 16 });
  configs.push({ P: 3, s: 2, B: 3, C: 5, H: 7, W: 10 }, { P: 2, s: 2, B: 1, C: 2, H: 9, W: 4 }, { P: 3, s: 3, B: 130, C: 1, H: 5, W: 8 });
  configs.push({ P: 4, s: 3, B: 12, C: 3, H: 11, W: 6 }, { P: 5, s: 5, B: 2, C: 1, H: 5, W: 5 });
  // windows larger than the image, and larger pool sizes
  configs.push({ P: 4, s: 2, B: 4, C: 2, H: 3, W: 6 }, { P: 6, s: 4, B: 4, C: 2, H: 13, W: 9 }, { P: 7, s: 3, B: 3, C: 2, H: 8, W: 13 });
  const shapes = [];
  const steps = [];
  const inputs = [];
  const refs = [];
  const poolLen = (I, P, s) => Math.max(0, Math.floor((I - P + s - 1) / s)) + 1;
  configs.forEach((c, i) => {
    const OH = poolLen(c.H, c.P, c.s);
    const OW = poolLen(c.W, c.P, c.s);
    const x = f32(randn([c.B, c.C, c.H, c.W], 1300 + i));
    const t = shapes.length;
    shapes.push(x.shape, [c.C, c.H, c.W, c.B], [c.C, OH, OW, c.B], [c.B, c.C, OH, OW]);
    steps.push(
      { op: 'transpose', index: 0, layer: `in${i}`, input: t, output: t + 1, perm: [1, 2, 3, 0], inShape: x.shape },
      { op: 'max_pool', index: 0, layer: `pool${i}`, input: t + 1, output: t + 2, channels: c.C, rows: c.H, cols: c.W, batch: c.B, poolSize: c.P, stride: c.s, outRows: OH, outCols: OW },
      { op: 'transpose', index: 0, layer: `out${i}`, input: t + 2, output: t + 3, perm: [3, 0, 1, 2], inShape: [c.C, OH, OW, c.B] },
    );
    inputs.push(x.data);
    refs.push({ ref: max_pool_2d(x, [c.P, c.P], [c.s, c.s]), out: t + 3, label: JSON.stringify(c) });
  });
  steps.forEach((s, i) => (s.index = i));
  const plan = stepPlan(shapes, steps, configs.map((_, i) => 4 * i), refs.map((r) => r.out));
  const outs = await runPlan(plan, [], inputs);
  refs.forEach(({ ref, out, label }, i) => {
    assert.equal(plan.tensors[out].shape, ref.shape, `${label}: shape`);
    expectClose({ data: outs[i], shape: plan.tensors[out].shape }, ref, () => 0, label);
  });
});

it('both transposes are exact copies for shapes that are not multiples of the 16 x 16 tile', async () => {
  const cases = [[1, 2, 3, 4], [3, 5, 7, 9], [17, 3, 5, 33], [130, 1, 2, 3], [2, 1, 1, 1]];
  const shapes = [];
  const steps = [];
  const inputs = [];
  const refs = [];
  cases.forEach((shape, i) => {
    const x = f32(randn(shape, 1400 + i));
    for (const perm of [[1, 2, 3, 0], [3, 0, 1, 2]]) {
      const t = shapes.length;
      const ref = transpose(x, perm);
      shapes.push(shape, ref.shape);
      steps.push({ op: 'transpose', index: steps.length, layer: `t${i}`, input: t, output: t + 1, perm, inShape: shape });
      inputs.push(x.data);
      refs.push({ ref, out: t + 1, label: `${shape} perm ${perm}` });
    }
  });
  const plan = stepPlan(shapes, steps, refs.map((r) => r.out - 1), refs.map((r) => r.out));
  const outs = await runPlan(plan, [], inputs);
  refs.forEach(({ ref, out, label }, i) => expectClose({ data: outs[i], shape: plan.tensors[out].shape }, ref, () => 0, label));
});

/** A small CIFAR-like chain on one arena: transpose, conv, pool, conv, NIN, transpose. */
function chainPlan(B) {
  const conv1 = convStep({ C: 3, H: 12, W: 12, B, F: 16, k: 5, s: 1, pad: 2, index: 1, input: 1, output: 2, weight: 0, bias: 1, biasMode: 'tied', nonlinearity: { kind: 'rectify', params: [] } });
  const pool = { op: 'max_pool', index: 2, layer: 'pool', input: 2, output: 3, channels: 16, rows: 12, cols: 12, batch: B, poolSize: 3, stride: 2, outRows: 6, outCols: 6 };
  const conv2 = convStep({ C: 16, H: 6, W: 6, B, F: 32, k: 3, s: 1, pad: 1, index: 3, input: 3, output: 4, weight: 2, bias: 3, biasMode: 'untied', nonlinearity: { kind: 'tanh', params: [] } });
  const nin = { op: 'nin', index: 4, layer: 'nin', input: 4, output: 5, weight: 4, bias: 5, biasMode: 'tied', nonlinearity: { kind: 'linear', params: [] }, channels: 32, units: 10, positions: 36, batch: B };
  const steps = [
    { op: 'transpose', index: 0, layer: 'in', input: 0, output: 1, perm: [1, 2, 3, 0], inShape: [B, 3, 12, 12] },
    conv1, pool, conv2, nin,
    { op: 'transpose', index: 5, layer: 'out', input: 5, output: 6, perm: [3, 0, 1, 2], inShape: [10, 6, 6, B] },
  ];
  const shapes = [[B, 3, 12, 12], [3, 12, 12, B], [16, 12, 12, B], [16, 6, 6, B], [32, 6, 6, B], [10, 6, 6, B], [B, 10, 6, 6]];
  const params = [
    new Param('W1', f32(uniform([3, 5, 5, 16], 1500, -0.3, 0.3))), new Param('b1', f32(uniform([16], 1501, -0.1, 0.1))),
    new Param('W2', f32(uniform([16, 3, 3, 32], 1502, -0.2, 0.2))), new Param('b2', f32(uniform([32, 6, 6], 1503, -0.1, 0.1))),
    new Param('W3', f32(uniform([10, 32], 1504, -0.5, 0.5))), new Param('b3', f32(uniform([10], 1505))),
  ];
  return { plan: stepPlan(shapes, steps, [0], [6]), params };
}

it('two runs give bit-identical outputs; a run in between with other inputs does not leak into them', async () => {
  for (const B of [8, 7]) {
    const { plan, params } = chainPlan(B);
    const a = f32(uniform([B, 3, 12, 12], 1600 + B, -1, 1));
    const b = f32(uniform([B, 3, 12, 12], 1700 + B, -1, 1));
    const net = await prepareWebGpu(plan, params, { device, cpuVariants: false });
    const [first] = await net.run([a.data]);
    const [other] = await net.run([b.data]);
    const [second] = await net.run([a.data]);
    net.dispose();
    assert.ok(first.some((v) => v !== 0), 'not all zero');
    assert.equal(Array.from(second), Array.from(first), `batch ${B}: bit-identical`);
    assert.not.equal(Array.from(other), Array.from(first));
  }
});

it('a run creates nothing on the device but its command encoder, also with runs in flight together', async () => {
  const { plan, params } = chainPlan(4);
  const x = f32(uniform([4, 3, 12, 12], 1800, -1, 1));
  const net = await prepareWebGpu(plan, params, { device });
  const counts = {};
  const methods = ['createBuffer', 'createBindGroup', 'createBindGroupLayout', 'createPipelineLayout', 'createCommandEncoder',
    'createComputePipeline', 'createComputePipelineAsync', 'createShaderModule', 'createQuerySet', 'createTexture', 'createSampler'];
  const originals = {};
  for (const m of methods) {
    originals[m] = device[m];
    counts[m] = 0;
    device[m] = function (...args) {
      counts[m]++;
      return originals[m].apply(this, args);
    };
  }
  try {
    for (let r = 0; r < 3; r++) await net.run([x.data]);
    params[0].setValue(f32(uniform([3, 5, 5, 16], 1801, -0.3, 0.3)));
    await net.run([x.data]);
    // runs in flight together (more than the readback slots) allocate nothing either
    await Promise.all([0, 1, 2, 3, 4].map(() => net.run([x.data])));
  } finally {
    for (const m of methods) device[m] = originals[m];
    net.dispose();
  }
  const created = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
  assert.equal(created, { createCommandEncoder: 9 });
});

test.run();
