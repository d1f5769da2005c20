// The Winograd F(2x2, 3x3) path of filter_acts (wgsl/winograd.wgsl, src/backend/webgpu/ops/winograd.ts,
// geometry.ts winogradFor): which steps take it, the scratch it needs, and its outputs against the
// float64 oracle (test/reference/conv.mjs filterActsC01b + bias + nonlinearity) on this machine's
// WebGPU (SwiftShader on a CPU), inference and training plans. Shapes first, then values.
//
// Tolerance. Winograd is exact in exact arithmetic but sums other terms than the direct GEMM: per
// output, sum over c of A^T [(G g G^T) . (B^T d B)] A over the whole 4x4 input patch d. Counting the
// roundings on each path (weight transform 4 deep, input transform 2, the product and the sum over
// C channels C + 1, output transform 4, the bias 1) any float32 evaluation errs by at most
// gamma_{C+12} times the same expression evaluated on magnitudes, |A^T| [(|G||g||G^T|) . (|B^T||d||B|)] |A|
// (the "Winograd magnitude", computed here in float64; typically 10-20x the direct magnitude
// sum |x||w|). The test uses test/reference/layers.mjs tolerance(C + 16, L, winograd magnitude +
// |bias|, value): gamma_{C+18}, L the nonlinearity's Lipschitz constant, plus 1e-6 of the value for
// the nonlinearity's own rounding. A wrong index or transform errs by O(1) and fails it.
//
// Skips the device tests, saying why, when the `webgpu` package or an adapter is missing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testDevice } from './env.mjs';
import { filterActsC01b } from '../reference/conv.mjs';
import { cropAxes12 } from '../reference/array.mjs';
import { nonlinearity as phi, lipschitz, tolerance } from '../reference/layers.mjs';
import { rand, expectClose, expectExact } from '../support/check.mjs';
import { Param } from '../../dist/layers/base.js';
import { prepareWebGpu, prepareWebGpuTraining, stepPlan, launchOf, scratchNeeds, webgpuBackend, DEFAULT_GPU_LIMITS } from '../../dist/backend/webgpu/index.js';
import { winogradFor, arenaBufferBytes, WINOGRAD_MIN_CHANNELS, WINOGRAD_MIN_FILTERS } from '../../dist/backend/webgpu/geometry.js';
import { filterActsScratchBytes } from '../../dist/backend/webgpu/ops/filter_acts.js';
import { withScratch } from '../../dist/ops/plan.js';

const { device, reason } = await testDevice({ limits: true });
if (reason) console.log(`  SKIP webgpu winograd (device tests): ${reason}`);

const test = suite('webgpu winograd');
const it = reason ? test.skip : test;
test.after(() => device?.destroy());

const convLen = (I, k, s, p) => Math.ceil((I + 2 * p - k + 1) / s);

/** A filter_acts step (ckkf weights, correlation) over tensors `input` -> `output`. */
function convStep(o) {
  const { C, H, W, B, F, k = 3, s = 1, pad = 0 } = o;
  return {
    op: 'filter_acts', index: o.index ?? 0, layer: o.layer ?? 'conv', input: o.input ?? 0, output: o.output ?? 1,
    weight: o.weight ?? 0, weightLayout: 'ckkf', flipFilters: false,
    bias: o.bias ?? -1, biasMode: o.biasMode ?? 'none', nonlinearity: o.nonlinearity ?? { kind: 'linear', params: [] },
    channels: C, rows: H, cols: W, batch: B, filters: F, filterSize: k, stride: s, pad,
    outRows: convLen(H, k, s, pad), outCols: convLen(W, k, s, pad),
  };
}

/** The device's kernel limits as the backend reads them (submit.ts limitsOf), with a forced tile. */
function deviceLimits(tile, cpu = false) {
  const l = device.limits;
  return {
    cpu, tile,
    minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
}

/** The float64 oracle: FilterActs on Lasagne's grid + bias, then the nonlinearity. */
function oracle(x, w, b, step) {
  const y = cropAxes12(
    filterActsC01b({ data: Float64Array.from(x), shape: [step.channels, step.rows, step.cols, step.batch] }, { data: Float64Array.from(w), shape: [step.channels, 3, 3, step.filters] }, step.pad, 1),
    step.outRows, step.outCols,
  );
  const { kind, params } = step.nonlinearity;
  y.data = y.data.map((v, i) => phi(kind, params, v + biasOf(b, step, i)));
  return y;
}

/** The bias of output element i (c01b (F, OH, OW, B)). */
function biasOf(b, step, i) {
  const pos = Math.floor(i / step.batch);
  if (step.biasMode === 'tied') return b[Math.floor(pos / (step.outRows * step.outCols))];
  if (step.biasMode === 'untied') return b[pos];
  return 0;
}

const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];
const BT = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]];
const AT = [[1, 1, 1, 0], [0, 1, -1, -1]];
const absM = (m) => m.map((r) => r.map(Math.abs));
/** P Q for small dense matrices (arrays of rows). */
const mul = (P, Q) => P.map((r) => Q[0].map((_, j) => r.reduce((s, v, k) => s + v * Q[k][j], 0)));
const tr = (P) => P[0].map((_, j) => P.map((r) => r[j]));

/**
 * The Winograd magnitude of every output (c01b (F, OH, OW, B)): sum over c of
 * |A^T| [(|G||g||G^T|) . (|B^T||d||B|)] |A|, d the 4x4 input patch of the output's tile.
 */
function winogradMagnitude(x, w, step) {
  const { channels: C, rows: H, cols: W, batch: B, filters: F, pad, outRows: OH, outCols: OW } = step;
  const [aG, aBT, aAT] = [absM(G), absM(BT), absM(AT)];
  const out = new Float64Array(F * OH * OW * B);
  const TH = Math.ceil(OH / 2);
  const TW = Math.ceil(OW / 2);
  // |U| per (c, f), |V| per (c, tile, b)
  const U = [];
  for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) {
    const g = [0, 1, 2].map((i) => [0, 1, 2].map((j) => Math.abs(w[((c * 3 + i) * 3 + j) * F + f])));
    U.push(mul(mul(aG, g), tr(aG)));
  }
  for (let ty = 0; ty < TH; ty++) for (let tx = 0; tx < TW; tx++) for (let b = 0; b < B; b++) {
    const V = [];
    for (let c = 0; c < C; c++) {
      const d = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => {
        const y = 2 * ty + i - pad;
        const xx = 2 * tx + j - pad;
        return y < 0 || xx < 0 || y >= H || xx >= W ? 0 : Math.abs(x[((c * H + y) * W + xx) * B + b]);
      }));
      V.push(mul(mul(aBT, d), tr(aBT)));
    }
    for (let f = 0; f < F; f++) {
      const M = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
      for (let c = 0; c < C; c++) {
        const u = U[c * F + f];
        for (let r = 0; r < 4; r++) for (let s = 0; s < 4; s++) M[r][s] += u[r][s] * V[c][r][s];
      }
      const Y = mul(mul(aAT, M), tr(aAT));
      for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
        const oy = 2 * ty + dy;
        const ox = 2 * tx + dx;
        if (oy < OH && ox < OW) out[((f * OH + oy) * OW + ox) * B + b] = Y[dy][dx];
      }
    }
  }
  return out;
}

/** The tolerance of each output of a Winograd step (see the file's head). */
function winogradTol(x, w, b, step, ref) {
  const mag = winogradMagnitude(x, w, step);
  const L = lipschitz(step.nonlinearity.kind, step.nonlinearity.params);
  return (i) => tolerance(step.channels + 16, L, mag[i] + Math.abs(biasOf(b, step, i)), ref.data[i]);
}

/**
 * Runs configs (one step each) in one plan with options (e.g. a forced tile), checking each step's
 * launch family on the prepared plan (with its scratch) first; returns the outputs and checks.
 */
async function runConfigs(configs, options, family) {
  const shapes = [];
  const steps = [];
  const params = [];
  const inputs = [];
  const checks = [];
  configs.forEach((c, i) => {
    const biasMode = c.biasMode ?? 'none';
    const step = convStep({ ...c, index: i, input: 2 * i, output: 2 * i + 1, weight: 2 * i, bias: biasMode === 'none' ? -1 : 2 * i + 1, biasMode });
    const x = rand(c.C * c.H * c.W * c.B, 500 + i);
    const w = rand(c.C * 9 * c.F, 600 + i, -0.5, 0.5);
    const nb = biasMode === 'tied' ? c.F : c.F * step.outRows * step.outCols;
    const b = rand(nb, 700 + i);
    shapes.push([c.C, c.H, c.W, c.B], [c.F, step.outRows, step.outCols, c.B]);
    steps.push(step);
    params.push(new Param(`W${i}`, { data: w, shape: [c.C, 3, 3, c.F] }), new Param(`b${i}`, { data: b, shape: [nb] }));
    inputs.push(x);
    checks.push({ x, w, b, step, label: JSON.stringify(c) });
  });
  const plan = stepPlan(shapes, steps, configs.map((_, i) => 2 * i), configs.map((_, i) => 2 * i + 1));
  device.pushErrorScope('validation');
  let net = null;
  let outs;
  try {
    net = await prepareWebGpu(plan, params, { device, ...options });
    const limits = deviceLimits(options.tile, options.cpuVariants ?? true);
    for (const s of net.plan.steps) {
      const l = launchOf(net.plan, s, limits);
      assert.is(l.family, family, `${s.layer} ${checks[s.index].label}: runs ${family}`);
      if (family === 'winograd') assert.equal(l.then.map((f) => f.entryPoint), ['input_transform', 'gemm', 'output_transform']);
    }
    outs = await net.run(inputs);
  } finally {
    net?.dispose();
    const err = await device.popErrorScope();
    assert.is(err, null, `validation error: ${err && err.message}`);
  }
  return { outs, checks, plan };
}

// pad 0, 1, 2; odd and even OH, OW (a tile clipped at odd ones, one output only); C and F not
// multiples of any tile (F 12, 20, 36, 68: partial GEMM filter tiles; C 70: a partial K chunk);
// tied, untied and no bias; rectify, tanh, leaky_rectify, linear; batch 4 and 8
const CONFIGS = [
  { C: 5, H: 7, W: 6, B: 4, F: 12, pad: 1, biasMode: 'tied', nonlinearity: { kind: 'rectify', params: [] } },
  { C: 3, H: 6, W: 8, B: 8, F: 20, pad: 0, biasMode: 'untied', nonlinearity: { kind: 'tanh', params: [] } },
  { C: 9, H: 5, W: 5, B: 4, F: 36, pad: 2, biasMode: 'none', nonlinearity: { kind: 'leaky_rectify', params: [0.1] } },
  { C: 17, H: 9, W: 4, B: 8, F: 68, pad: 0, biasMode: 'tied', nonlinearity: { kind: 'linear', params: [] } },
  { C: 2, H: 3, W: 3, B: 4, F: 4, pad: 0, biasMode: 'untied', nonlinearity: { kind: 'rectify', params: [] } },
  { C: 70, H: 6, W: 5, B: 4, F: 64, pad: 1, biasMode: 'tied', nonlinearity: { kind: 'rectify', params: [] } },
];

function checkOutputs({ outs, checks, plan }) {
  checks.forEach(({ x, w, b, step, label }, i) => {
    const ref = oracle(x, w, b, step);
    assert.equal(plan.tensors[2 * i + 1].shape, [step.filters, step.outRows, step.outCols, step.batch], `${label}: output shape`);
    assert.equal(ref.shape, plan.tensors[2 * i + 1].shape, `${label}: oracle shape`);
    expectClose(outs[i], ref, winogradTol(x, w, b, step, ref), label);
  });
}

it('forced Winograd (tile.winograd: true) matches the float64 oracle: pads 0-2, odd and even outputs, partial tiles, every bias mode, batch 4 and 8', async () => {
  const pads = new Set(CONFIGS.map((c) => c.pad));
  assert.equal([...pads].sort(), [0, 1, 2]);
  const outsOdd = CONFIGS.map((c) => convLen(c.H, 3, 1, c.pad) % 2);
  assert.ok(outsOdd.includes(0) && outsOdd.includes(1), 'odd and even output rows');
  const gpu = await runConfigs(CONFIGS, { tile: { winograd: true }, cpuVariants: false }, 'winograd');
  checkOutputs(gpu);
  // SwiftShader's own variant (K_CHUNK <= 2): the same sums in the same order, bit for bit
  const cpu = await runConfigs(CONFIGS, { tile: { winograd: true }, cpuVariants: true }, 'winograd');
  checkOutputs(cpu);
  gpu.outs.forEach((o, i) => expectExact(cpu.outs[i], o, `config ${i}: GPU and CPU K chunks`));
});

it('tile.winograd: false runs the same steps on the direct kernel (and the default rule leaves small layers there); Winograd and direct agree within tolerance', async () => {
  const configs = CONFIGS.slice(0, 3);
  // (the CPU variants: the direct kernel's GPU variants take SwiftShader minutes to compile)
  const direct = await runConfigs(configs, { tile: { winograd: false }, cpuVariants: true }, 'filter_acts');
  const chosen = await runConfigs(configs, { cpuVariants: true }, 'filter_acts');
  direct.outs.forEach((o, i) => expectExact(chosen.outs[i], o, `config ${i}: C < ${WINOGRAD_MIN_CHANNELS} stays direct`));
  const wino = await runConfigs(configs, { tile: { winograd: true }, cpuVariants: true }, 'winograd');
  direct.checks.forEach(({ x, w, b, step, label }, i) => {
    const ref = oracle(x, w, b, step);
    // both within the Winograd tolerance of the oracle (the direct one is far tighter): within twice it of each other
    const tol = winogradTol(x, w, b, step, ref);
    expectClose(direct.outs[i], wino.outs[i], (j) => 2 * tol(j), `${label}: direct vs Winograd`);
  });
});

it('the default rule (C >= 64, F >= 64) takes Winograd without forcing, and matches the oracle', async () => {
  const configs = [{ C: 64, H: 5, W: 4, B: 4, F: 64, pad: 1, biasMode: 'untied', nonlinearity: { kind: 'rectify', params: [] } }];
  checkOutputs(await runConfigs(configs, { cpuVariants: true }, 'winograd'));
});

test('winogradFor: 3x3 stride 1, B and F multiples of 4, the size rule, the override, one binding', () => {
  const big = { ...DEFAULT_GPU_LIMITS, maxStorageBufferBindingSize: 2 ** 31 };
  // L5 (384 x 13 x 13, 384 filters, pad 0, batch 128): 6 x 6 tiles, N = 4608
  const L5 = convStep({ C: 384, H: 13, W: 13, B: 128, F: 384 });
  const g = winogradFor(L5, big);
  assert.ok(g !== null, 'L5 runs Winograd with a 2 GiB binding');
  assert.equal([g.tilesH, g.tilesW, g.n], [6, 6, 4608]);
  assert.is(g.vAt, 16 * 384 * 384);
  assert.is(g.mAt, 16 * 384 * 384 + 16 * 384 * 4608);
  assert.is(g.bytes, 4 * 16 * (384 * 384 + 384 * 4608 + 384 * 4608));
  assert.is(g.bytes, 235929600);
  // with WebGPU's guaranteed 128 MiB binding L5's 236 MB of scratch do not fit: direct
  assert.is(winogradFor(L5, DEFAULT_GPU_LIMITS), null);
  assert.is(winogradFor({ ...L5, batch: 16 }, DEFAULT_GPU_LIMITS)?.bytes, 4 * 16 * (384 * 384 + 2 * 384 * 36 * 16));
  // the rule and the override
  const small = convStep({ C: 32, H: 8, W: 8, B: 4, F: 64, pad: 1 });
  assert.is(winogradFor(small, big), null, 'C < 64');
  assert.is(winogradFor({ ...small, channels: 64, filters: 32 }, big), null, 'F < 64');
  assert.ok(winogradFor({ ...small, channels: WINOGRAD_MIN_CHANNELS, filters: WINOGRAD_MIN_FILTERS }, big) !== null, 'C = F = 64');
  assert.ok(winogradFor(small, { ...big, tile: { winograd: true } }) !== null, 'forced on');
  assert.is(winogradFor(L5, { ...big, tile: { winograd: false } }), null, 'forced off');
  // what it never takes, forced or not
  const on = { ...big, tile: { winograd: true } };
  assert.is(winogradFor({ ...L5, filterSize: 5, outRows: 9, outCols: 9 }, on), null, '5x5');
  assert.is(winogradFor({ ...L5, stride: 2, outRows: 6, outCols: 6 }, on), null, 'stride 2');
  assert.is(winogradFor({ ...L5, batch: 6 }, on), null, 'B % 4 != 0 (the scalar path)');
  assert.is(winogradFor({ ...L5, filters: 382 }, on), null, 'F % 4 != 0');
  assert.is(winogradFor(L5, { ...on, maxStorageBufferBindingSize: 2 ** 28 }), null, 'input + output + scratch beyond one binding');
});

test('scratch: filter_acts asks for at least U + V + M where Winograd applies, the prepared plan holds it, and the launch falls back to direct without it', () => {
  const big = { ...DEFAULT_GPU_LIMITS, maxStorageBufferBindingSize: 2 ** 31 };
  const L5 = convStep({ C: 384, H: 13, W: 13, B: 128, F: 384 });
  assert.is(filterActsScratchBytes(L5, big), 235929600);
  assert.equal(scratchNeeds([L5], big), [235929600]);
  // a forced-off step asks only for what the direct kernel takes (L5: no split)
  assert.is(filterActsScratchBytes(L5, { ...big, tile: { winograd: false } }), 0);
  const step = convStep({ C: 64, H: 6, W: 7, B: 4, F: 68, pad: 1 });
  const need = 4 * 16 * (64 * 68 + 64 * 3 * 4 * 4 + 68 * 3 * 4 * 4);
  assert.is(winogradFor(step, big).bytes, need);
  const bare = stepPlan([[64, 6, 7, 4], [68, 6, 7, 4]], [step], [0], [1]);
  const limits = { ...big, minStorageBufferOffsetAlignment: 256 };
  assert.is(launchOf(bare, bare.steps[0], limits).family, 'filter_acts', 'no scratch tensor: direct');
  const plan = withScratch(bare, scratchNeeds(bare.steps, limits));
  const scratch = plan.tensors[plan.steps[0].scratch];
  assert.ok(scratch.bytes >= need && plan.arenaBytes >= scratch.offset + need, 'the scratch tensor holds U, V, M inside the arena');
  const l = launchOf(plan, plan.steps[0], limits);
  assert.is(l.family, 'winograd');
  assert.is(l.arena, 'vec4');
  assert.ok(l.arenaRange.offset + l.arenaRange.size <= arenaBufferBytes(plan.arenaBytes), 'the bound range lies inside the arena buffer');
  assert.equal(l.then.map((f) => f.entryPoint), ['input_transform', 'gemm', 'output_transform']);
  // a scratch tensor 4 bytes short, or a misaligned one: direct
  const short = { ...plan, tensors: plan.tensors.map((t) => (t.id === scratch.id ? { ...t, shape: [need / 4 - 1], bytes: need - 4 } : t)) };
  assert.is(launchOf(short, short.steps[0], limits).family, 'filter_acts');
  const skew = { ...plan, tensors: plan.tensors.map((t) => (t.id === scratch.id ? { ...t, offset: t.offset + 4 } : t)), arenaBytes: plan.arenaBytes + 4 };
  assert.is(launchOf(skew, skew.steps[0], limits).family, 'filter_acts');
});

it('a prepared network holds the scratch Winograd needs: its arena is the plan arenaBytes, which covers the scratch', async () => {
  const c = { C: 64, H: 6, W: 7, B: 4, F: 68, pad: 1 };
  const step = convStep(c);
  // the compiler asks the backend (WebGPU's guaranteed limits) and lays the answer out in the plan
  const [asked] = await webgpuBackend.scratchBytes([step], {});
  const g = winogradFor(step, DEFAULT_GPU_LIMITS);
  assert.ok(g !== null && asked >= g.bytes, `the compiled plan's scratch (${asked}) covers U + V + M (${g.bytes})`);
  const plan = withScratch(stepPlan([[64, 6, 7, 4], [68, 6, 7, 4]], [step], [0], [1]), [asked]);
  const w = rand(64 * 9 * 68, 11, -0.5, 0.5);
  const x = rand(64 * 6 * 7 * 4, 12);
  const net = await prepareWebGpu(plan, [new Param('W', { data: w, shape: [64, 3, 3, 68] })], { device });
  try {
    assert.is(net.plan, plan, 'no scratch added at prepare: the compiled plan had enough');
    assert.is(net.arenaBufferBytes, arenaBufferBytes(plan.arenaBytes));
    assert.is(launchOf(net.plan, net.plan.steps[0], deviceLimits(undefined, true)).family, 'winograd');
    const [y] = await net.run([x]);
    const ref = oracle(x, w, [], step);
    expectClose(y, ref, winogradTol(x, w, [], step, ref), 'prepared with the compiled scratch');
  } finally {
    net.dispose();
  }
});

it('a training plan keeps the direct kernel by default (no Winograd scratch asked); forced (tile.winograd: true) it runs Winograd with the weights and bias in the arena (W_ARENA) and matches the oracle', async () => {
  const [C, H, W, B, F, pad] = [64, 5, 6, 4, 64, 1];
  // tensors by hand at 256-byte boundaries, then the scratch
  const tensors = [];
  let end = 0;
  const tensor = (shape) => {
    const bytes = 4 * shape.reduce((n, d) => n * d, 1);
    tensors.push({ id: tensors.length, shape, bytes, offset: end, batchAxis: -1 });
    end += Math.ceil(bytes / 256) * 256;
    return tensors.length - 1;
  };
  const x = tensor([C, H, W, B]);
  const wk = tensor([C, 3, 3, F]);
  const bias = tensor([F]);
  const y = tensor([F, H, W, B]);
  const nl = { kind: 'leaky_rectify', params: [0.1] };
  const step = { ...convStep({ C, H, W, B, F, pad, input: x, output: y, weight: wk, bias, biasMode: 'tied', nonlinearity: nl }), phase: 'forward' };
  const forced = { ...DEFAULT_GPU_LIMITS, tile: { winograd: true } };
  const wino = winogradFor(step, forced).bytes;
  assert.ok(winogradFor(step, DEFAULT_GPU_LIMITS) !== null, 'the same step in an inference plan takes Winograd by the default rule');
  assert.is(winogradFor(step, { ...DEFAULT_GPU_LIMITS, wholeArena: 1 << 20 }), null, 'in a training plan it does not');
  const [need] = await webgpuBackend.trainingScratchBytes([step], {});
  assert.ok(need < wino, `trainingScratchBytes asks for no Winograd scratch (${need} < ${wino})`);
  const scratch = tensor([Math.max(need, wino) / 4]);
  const plan = { tensors, arenaBytes: end, alignment: 256, steps: [{ ...step, scratch }], inputs: [x, wk, bias], targets: -1, loss: 0, outputs: [], params: [], digest: 'hand-written' };
  const whole = arenaBufferBytes(plan.arenaBytes);
  assert.is(launchOf(plan, plan.steps[0], { ...deviceLimits(undefined), wholeArena: whole }).family, 'filter_acts', 'default: direct');
  const launch = launchOf(plan, plan.steps[0], { ...deviceLimits({ winograd: true }), wholeArena: whole });
  assert.is(launch.family, 'winograd');
  assert.is(launch.constants.W_ARENA, 1, 'weight_transform reads the arena');
  assert.is(launch.then[2].constants.W_ARENA, 1, 'output_transform reads the bias from the arena');
  assert.is(launch.weight, undefined);
  const xs = rand(C * H * W * B, 80);
  const ws = rand(C * 9 * F, 81, -0.2, 0.2);
  const bs = rand(F, 82, -0.5, 0.5);
  const t = await prepareWebGpuTraining(plan, { device, cpuVariants: true, tile: { winograd: true } });
  try {
    const [yOut] = await t.run([xs, ws, bs], { learningRate: 0.1, t: 1, counter: 0 }, { update: false, read: [y] });
    const s = plan.steps[0];
    const ref = oracle(xs, ws, bs, s);
    expectClose(yOut, ref, winogradTol(xs, ws, bs, s, ref), 'training filter_acts (Winograd)');
  } finally {
    t.dispose();
  }
});

test.run();
