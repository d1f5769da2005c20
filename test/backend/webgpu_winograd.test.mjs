// The Winograd F(2x2, 3x3) and F(4x4, 3x3) paths of filter_acts (wgsl/winograd.wgsl,
// src/backend/webgpu/ops/winograd.ts, geometry.ts winogradFor): the transform matrices (float64),
// which steps take which variant, the scratch it needs, and its outputs against the float64 oracle
// (test/reference/conv.mjs filterActsC01b + bias + nonlinearity) on this machine's WebGPU
// (SwiftShader on a CPU), inference and training plans, each in both variants. Shapes first, then
// values.
//
// Tolerance. Winograd is exact in exact arithmetic but sums other terms than the direct GEMM: per
// output, sum over c of A^T [(G g G^T) . (B^T d B)] A over the whole (m+2)x(m+2) input patch d.
// Counting the roundings on each path any float32 evaluation errs by at most gamma_K times the same
// expression evaluated on magnitudes, |A^T| [(|G||g||G^T|) . (|B^T||d||B|)] |A| (the "Winograd
// magnitude", computed here in float64 with the variant's matrices; typically 10-20x the direct
// magnitude sum |x||w| for F(2x2), some 100x for F(4x4)), K the rounding depth:
//   F(2x2): weight transform 4 deep, input transform 2, the product and the sum over C channels
//     C + 1, output transform 4, the bias 1: K = C + 12;
//   F(4x4) (winograd.wgsl g6, bt6, at4): weight transform 2 x 4 (G's constants 1/6, 1/12, 1/24 are
//     rounded themselves), input transform 2 x 3, product and sum C + 1, output transform 2 x 3, the
//     bias 1: K = C + 22.
// The test uses test/reference/layers.mjs tolerance(C + slack, L, winograd magnitude + |bias|,
// value), slack 16 (F(2x2): gamma_{C+18}) or 26 (F(4x4): gamma_{C+28}), L the nonlinearity's
// Lipschitz constant, plus 1e-6 of the value for the nonlinearity's own rounding. A wrong index,
// matrix entry or transform errs by O(1) and fails it.
//
// Skips the device tests, saying why, when the `webgpu` package or an adapter is missing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testDevice } from './env.mjs';
import { filterActsC01b } from '../reference/conv.mjs';
import { cropAxes12 } from '../reference/array.mjs';
import { nonlinearity as phi, lipschitz, tolerance } from '../reference/layers.mjs';
import { rand, expectClose, expectExact } from '../support/check.mjs';
import { convLen, convStep as filterActsStep } from '../support/steps.mjs';
import { Param } from '../../dist/layers/base.js';
import { prepareWebGpu, prepareWebGpuTraining, stepPlan, launchOf, scratchNeeds, webgpuBackend, DEFAULT_GPU_LIMITS } from '../../dist/backend/webgpu/index.js';
import { winogradFor, winogradVariant, arenaBufferBytes, WINOGRAD_MIN_CHANNELS, WINOGRAD_MIN_FILTERS, WINOGRAD_F4_MIN_OUT } from '../../dist/backend/webgpu/geometry.js';
import { filterActsScratchBytes } from '../../dist/backend/webgpu/ops/filter_acts.js';
import { withScratch } from '../../dist/ops/plan.js';

const { device, reason } = await testDevice({ limits: true });
if (reason) console.log(`  SKIP webgpu winograd (device tests): ${reason}`);

const test = suite('webgpu winograd');
const it = reason ? test.skip : test;
test.after(() => device?.destroy());

/** A 3x3 filter_acts step (ckkf weights, correlation) over tensors `input` -> `output` (steps.mjs convStep, k 3 unless given). */
const convStep = (o) => filterActsStep({ k: 3, ...o });

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

/**
 * The two variants' matrices (Lavin & Gray 2016): G ((m+2) x 3), B^T ((m+2) x (m+2)), A^T (m x (m+2)).
 * F(4x4, 3x3): interpolation points 0, 1, -1, 2, -2, infinity, scaled as in the paper.
 */
const VARIANTS = {
  2: {
    G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
    BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
    slack: 16,
  },
  4: {
    G: [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
    BT: [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
    AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
    slack: 26,
  },
};
const absM = (m) => m.map((r) => r.map(Math.abs));
/** P Q for small dense matrices (arrays of rows). */
const mul = (P, Q) => P.map((r) => Q[0].map((_, j) => r.reduce((s, v, k) => s + v * Q[k][j], 0)));
const tr = (P) => P[0].map((_, j) => P.map((r) => r[j]));

/** The m x m tile A^T [(G g G^T) . (B^T d B)] A of one (m+2)x(m+2) patch d and 3x3 filter g, in float64. */
function winogradTile({ G, BT, AT }, d, g) {
  const U = mul(mul(G, g), tr(G));
  const V = mul(mul(BT, d), tr(BT));
  return mul(mul(AT, U.map((r, i) => r.map((u, j) => u * V[i][j]))), tr(AT));
}

/** The largest |winogradTile - direct correlation| over a few random patches and filters. */
function winogradIdentityError(mats, m, seed) {
  const n = m + 2;
  let err = 0;
  for (let trial = 0; trial < 4; trial++) {
    const dr = rand(n * n, seed + trial, -1, 1);
    const gr = rand(9, seed + 100 + trial, -1, 1);
    const d = [...Array(n)].map((_, i) => [...Array(n)].map((_, j) => dr[i * n + j]));
    const g = [0, 1, 2].map((i) => [0, 1, 2].map((j) => gr[3 * i + j]));
    const Y = winogradTile(mats, d, g);
    for (let y = 0; y < m; y++) for (let x = 0; x < m; x++) {
      let direct = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) direct += d[y + i][x + j] * g[i][j];
      err = Math.max(err, Math.abs(Y[y][x] - direct));
    }
  }
  return err;
}

/** The variant a forced tile or the rule gives a step (for the launch's entry points). */
const variantOf = (tile, step) => (tile?.winograd === 2 || tile?.winograd === 4 ? tile.winograd : winogradVariant(step));
/** The entry points of a variant's launch: the first dispatch, then its follow-ups. */
const entryPoints = (m) => {
  const sfx = m === 4 ? '_f4' : '';
  return [`weight_transform${sfx}`, `input_transform${sfx}`, 'gemm', `output_transform${sfx}`];
};

/**
 * The Winograd magnitude of every output (c01b (F, OH, OW, B)) in variant m: sum over c of
 * |A^T| [(|G||g||G^T|) . (|B^T||d||B|)] |A|, d the (m+2)x(m+2) input patch of the output's tile.
 */
function winogradMagnitude(x, w, step, m) {
  const { channels: C, rows: H, cols: W, batch: B, filters: F, pad, outRows: OH, outCols: OW } = step;
  const v = VARIANTS[m];
  const n = m + 2;
  const [aG, aBT, aAT] = [absM(v.G), absM(v.BT), absM(v.AT)];
  const out = new Float64Array(F * OH * OW * B);
  const TH = Math.ceil(OH / m);
  const TW = Math.ceil(OW / m);
  // |U| per (c, f), |V| per (c, tile, b)
  const U = [];
  for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) {
    const g = [0, 1, 2].map((i) => [0, 1, 2].map((j) => Math.abs(w[((c * 3 + i) * 3 + j) * F + f])));
    U.push(mul(mul(aG, g), tr(aG)));
  }
  const idx = [...Array(n).keys()];
  for (let ty = 0; ty < TH; ty++) for (let tx = 0; tx < TW; tx++) for (let b = 0; b < B; b++) {
    const V = [];
    for (let c = 0; c < C; c++) {
      const d = idx.map((i) => idx.map((j) => {
        const y = m * ty + i - pad;
        const xx = m * tx + j - pad;
        return y < 0 || xx < 0 || y >= H || xx >= W ? 0 : Math.abs(x[((c * H + y) * W + xx) * B + b]);
      }));
      V.push(mul(mul(aBT, d), tr(aBT)));
    }
    for (let f = 0; f < F; f++) {
      const M = idx.map(() => idx.map(() => 0));
      for (let c = 0; c < C; c++) {
        const u = U[c * F + f];
        for (let r = 0; r < n; r++) for (let s = 0; s < n; s++) M[r][s] += u[r][s] * V[c][r][s];
      }
      const Y = mul(mul(aAT, M), tr(aAT));
      for (let dy = 0; dy < m; dy++) for (let dx = 0; dx < m; dx++) {
        const oy = m * ty + dy;
        const ox = m * tx + dx;
        if (oy < OH && ox < OW) out[((f * OH + oy) * OW + ox) * B + b] = Y[dy][dx];
      }
    }
  }
  return out;
}

/** The tolerance of each output of a Winograd step in variant m (see the file's head). */
function winogradTol(x, w, b, step, ref, m) {
  assert.ok(m === 2 || m === 4, `variant ${m}`);
  const mag = winogradMagnitude(x, w, step, m);
  const L = lipschitz(step.nonlinearity.kind, step.nonlinearity.params);
  return (i) => tolerance(step.channels + VARIANTS[m].slack, L, mag[i] + Math.abs(biasOf(b, step, i)), ref.data[i]);
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
      if (family === 'winograd') {
        const m = variantOf(options.tile, s);
        checks[s.index].m = m;
        assert.equal([l.entryPoint, ...l.then.map((f) => f.entryPoint)], entryPoints(m), `${checks[s.index].label}: F(${m}x${m})`);
        assert.is(winogradFor(s, limits).m, m);
      }
    }
    outs = await net.run(inputs);
  } finally {
    net?.dispose();
    const err = await device.popErrorScope();
    assert.is(err, null, `validation error: ${err && err.message}`);
  }
  return { outs, checks, plan };
}

// pad 0, 1, 2; odd and even OH, OW (a tile clipped at odd ones, one output only); OH, OW not
// multiples of 4 (F(4x4)'s tiles clipped by 1, 2 or 3 rows and columns); C and F not multiples of any
// tile (F 12, 20, 36, 68, 16, 24: partial GEMM filter tiles; C 70: a partial K chunk); tied, untied
// and no bias; rectify, tanh, leaky_rectify, linear; batch 4 and 8. The last two have OH, OW >= 8:
// the rule (tile.winograd: true) runs them as F(4x4), the others as F(2x2).
const CONFIGS = [
  { C: 5, H: 7, W: 6, B: 4, F: 12, pad: 1, biasMode: 'tied', nonlinearity: { kind: 'rectify', params: [] } },
  { C: 3, H: 6, W: 8, B: 8, F: 20, pad: 0, biasMode: 'untied', nonlinearity: { kind: 'tanh', params: [] } },
  { C: 9, H: 5, W: 5, B: 4, F: 36, pad: 2, biasMode: 'none', nonlinearity: { kind: 'leaky_rectify', params: [0.1] } },
  { C: 17, H: 9, W: 4, B: 8, F: 68, pad: 0, biasMode: 'tied', nonlinearity: { kind: 'linear', params: [] } },
  { C: 2, H: 3, W: 3, B: 4, F: 4, pad: 0, biasMode: 'untied', nonlinearity: { kind: 'rectify', params: [] } },
  { C: 70, H: 6, W: 5, B: 4, F: 64, pad: 1, biasMode: 'tied', nonlinearity: { kind: 'rectify', params: [] } },
  { C: 6, H: 11, W: 13, B: 4, F: 16, pad: 0, biasMode: 'untied', nonlinearity: { kind: 'tanh', params: [] } },
  { C: 33, H: 10, W: 8, B: 8, F: 24, pad: 2, biasMode: 'tied', nonlinearity: { kind: 'leaky_rectify', params: [0.1] } },
];

/** The largest |out - ref| and its ratio to the tolerance (reported at the end, WINOGRAD_ERRORS=1). */
function errorVsTol(out, ref, tol) {
  let err = 0;
  let ratio = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const e = Math.abs(out[i] - ref.data[i]);
    err = Math.max(err, e);
    ratio = Math.max(ratio, e / tol(i));
  }
  return { err, ratio };
}
const errors = [];
test.after(() => {
  if (!process.env.WINOGRAD_ERRORS) return;
  for (const m of [2, 4]) {
    const es = errors.filter((e) => e.m === m);
    if (es.length === 0) continue;
    const worst = es.reduce((a, e) => (e.ratio > a.ratio ? e : a));
    const largest = es.reduce((a, e) => (e.err > a.err ? e : a));
    console.log(`  F(${m}x${m}): ${es.length} checks, max |error| ${largest.err.toExponential(2)} (${largest.label}), max error / tolerance ${worst.ratio.toExponential(2)} (${worst.label})`);
  }
});

function checkOutputs({ outs, checks, plan }) {
  checks.forEach(({ x, w, b, step, label, m }, i) => {
    const ref = oracle(x, w, b, step);
    assert.equal(plan.tensors[2 * i + 1].shape, [step.filters, step.outRows, step.outCols, step.batch], `${label}: output shape`);
    assert.equal(ref.shape, plan.tensors[2 * i + 1].shape, `${label}: oracle shape`);
    expectClose(outs[i], ref, winogradTol(x, w, b, step, ref, m), `${label} F(${m}x${m})`);
    errors.push({ m, label, ...errorVsTol(outs[i], ref, winogradTol(x, w, b, step, ref, m)) });
  });
}

test('the transform matrices: A^T [(G g G^T) . (B^T d B)] A is the 3x3 correlation of d with g, in float64, for both variants; any one entry off by 0.01 breaks it', () => {
  for (const m of [2, 4]) {
    const v = VARIANTS[m];
    assert.equal([v.G.length, v.G[0].length, v.BT.length, v.BT[0].length, v.AT.length, v.AT[0].length], [m + 2, 3, m + 2, m + 2, m, m + 2]);
    const err = winogradIdentityError(v, m, 40 + m);
    assert.ok(err < 1e-13, `F(${m}x${m}): error ${err}`);
    // the identity check can fail: every single perturbed entry of G, B^T and A^T is caught
    for (const key of ['G', 'BT', 'AT']) {
      v[key].forEach((row, i) => row.forEach((_, j) => {
        const bad = { ...v, [key]: v[key].map((r, ii) => r.map((e, jj) => (ii === i && jj === j ? e + 0.01 : e))) };
        assert.ok(winogradIdentityError(bad, m, 40 + m) > 1e-4, `F(${m}x${m}): ${key}[${i}][${j}] + 0.01 goes unnoticed`);
      }));
    }
  }
});

for (const forced of [2, 4]) {
  it(`forced F(${forced}x${forced}) (tile.winograd: ${forced}) matches the float64 oracle: pads 0-2, odd and even outputs, partial tiles, every bias mode, batch 4 and 8; GPU and CPU variants bit for bit`, async () => {
    const pads = new Set(CONFIGS.map((c) => c.pad));
    assert.equal([...pads].sort(), [0, 1, 2]);
    const outsOdd = CONFIGS.map((c) => convLen(c.H, 3, 1, c.pad) % 2);
    assert.ok(outsOdd.includes(0) && outsOdd.includes(1), 'odd and even output rows');
    const rem4 = new Set(CONFIGS.flatMap((c) => [convLen(c.H, 3, 1, c.pad) % 4, convLen(c.W, 3, 1, c.pad) % 4]));
    assert.equal([...rem4].sort(), [0, 1, 2, 3], 'OH, OW leave every remainder mod 4');
    const gpu = await runConfigs(CONFIGS, { tile: { winograd: forced }, cpuVariants: false }, 'winograd');
    assert.ok(gpu.checks.every((c) => c.m === forced));
    checkOutputs(gpu);
    // SwiftShader's own variant (K_CHUNK <= 2): the same sums in the same order, bit for bit
    const cpu = await runConfigs(CONFIGS, { tile: { winograd: forced }, cpuVariants: true }, 'winograd');
    checkOutputs(cpu);
    gpu.outs.forEach((o, i) => expectExact(cpu.outs[i], o, `config ${i}: GPU and CPU K chunks`));
  });
}

it('tile.winograd: true forces Winograd in the variant of the rule (F(4x4) where OH, OW >= 8) and matches the oracle', async () => {
  const r = await runConfigs(CONFIGS, { tile: { winograd: true }, cpuVariants: true }, 'winograd');
  assert.equal(r.checks.map((c) => c.m), [2, 2, 2, 2, 2, 2, 4, 4]);
  checkOutputs(r);
});

it('tile.winograd: false runs the same steps on the direct kernel (and the default rule leaves small layers there); Winograd and direct agree within tolerance', async () => {
  const configs = CONFIGS.slice(0, 3);
  // (the CPU variants: the direct kernel's GPU variants take SwiftShader minutes to compile)
  const direct = await runConfigs(configs, { tile: { winograd: false }, cpuVariants: true }, 'filter_acts');
  const chosen = await runConfigs(configs, { cpuVariants: true }, 'filter_acts');
  direct.outs.forEach((o, i) => expectExact(chosen.outs[i], o, `config ${i}: C < ${WINOGRAD_MIN_CHANNELS} stays direct`));
  for (const m of [2, 4]) {
    const wino = await runConfigs(configs, { tile: { winograd: m }, cpuVariants: true }, 'winograd');
    direct.checks.forEach(({ x, w, b, step, label }, i) => {
      const ref = oracle(x, w, b, step);
      // both within the Winograd tolerance of the oracle (the direct one is far tighter): within twice it of each other
      const tol = winogradTol(x, w, b, step, ref, m);
      expectClose(direct.outs[i], wino.outs[i], (j) => 2 * tol(j), `${label}: direct vs Winograd F(${m}x${m})`);
    });
  }
});

it('the default rule (C >= 64, F >= 64) takes Winograd without forcing, F(2x2) below 8 outputs a side and F(4x4) from 8, and matches the oracle', async () => {
  const configs = [
    { C: 64, H: 5, W: 4, B: 4, F: 64, pad: 1, biasMode: 'untied', nonlinearity: { kind: 'rectify', params: [] } },
    { C: 64, H: 10, W: 11, B: 4, F: 64, pad: 0, biasMode: 'tied', nonlinearity: { kind: 'rectify', params: [] } },
  ];
  const r = await runConfigs(configs, { cpuVariants: true }, 'winograd');
  assert.equal(r.checks.map((c) => c.m), [2, 4]);
  checkOutputs(r);
});

test('winogradFor: 3x3 stride 1, B and F multiples of 4, the size rule, the variant rule, the override, one binding', () => {
  const big = { ...DEFAULT_GPU_LIMITS, maxStorageBufferBindingSize: 2 ** 31 };
  // L5 (384 x 13 x 13, 384 filters, pad 0, batch 128; OH = OW = 11): by the rule F(4x4), 3 x 3
  // tiles, N = 1152, 36 GEMMs
  const L5 = convStep({ C: 384, H: 13, W: 13, B: 128, F: 384 });
  const g = winogradFor(L5, big);
  assert.ok(g !== null, 'L5 runs Winograd with a 2 GiB binding');
  assert.equal([g.m, g.points, g.tilesH, g.tilesW, g.n], [4, 36, 3, 3, 1152]);
  assert.is(g.vAt, 36 * 384 * 384);
  assert.is(g.mAt, 36 * 384 * 384 + 36 * 384 * 1152);
  assert.is(g.bytes, 4 * 36 * (384 * 384 + 384 * 1152 + 384 * 1152));
  assert.is(g.bytes, 148635648);
  // forced F(2x2): 6 x 6 tiles, N = 4608, 16 GEMMs, 236 MB
  const g2 = winogradFor(L5, { ...big, tile: { winograd: 2 } });
  assert.equal([g2.m, g2.points, g2.tilesH, g2.tilesW, g2.n], [2, 16, 6, 6, 4608]);
  assert.is(g2.vAt, 16 * 384 * 384);
  assert.is(g2.mAt, 16 * 384 * 384 + 16 * 384 * 4608);
  assert.is(g2.bytes, 4 * 16 * (384 * 384 + 384 * 4608 + 384 * 4608));
  assert.is(g2.bytes, 235929600);
  assert.equal(winogradFor(L5, { ...big, tile: { winograd: 4 } }), g, 'forced 4 on L5: what the rule gives');
  assert.equal(winogradFor(L5, { ...big, tile: { winograd: true } }), g, 'true: the rule\'s variant');
  // W1 (128 x 28 x 28, 128 filters, pad 1): F(4x4), 7 x 7 tiles
  const W1 = convStep({ C: 128, H: 28, W: 28, B: 128, F: 128, pad: 1 });
  const w1 = winogradFor(W1, big);
  assert.equal([w1.m, w1.tilesH, w1.n, w1.bytes], [4, 7, 49 * 128, 4 * 36 * (128 * 128 + 2 * 128 * 49 * 128)]);
  // the variant rule: F(4x4) where OH and OW are both >= WINOGRAD_F4_MIN_OUT (8)
  assert.is(WINOGRAD_F4_MIN_OUT, 8);
  const at = (OH, OW) => winogradFor(convStep({ C: 64, H: OH + 2, W: OW + 2, B: 4, F: 64 }), big).m;
  assert.equal([at(8, 8), at(7, 8), at(8, 7), at(7, 7), at(9, 30), at(2, 30), at(1, 1)], [4, 2, 2, 2, 4, 2, 2]);
  assert.is(winogradVariant(convStep({ C: 1, H: 10, W: 10, B: 4, F: 4 })), 4);
  assert.is(winogradVariant(convStep({ C: 1, H: 9, W: 10, B: 4, F: 4 })), 2);
  // the override picks either variant whatever the outputs: F(4x4) on a 1 x 1 output (one tile, 15 of 16 clipped)
  const tiny = convStep({ C: 4, H: 3, W: 3, B: 4, F: 4 });
  assert.equal(winogradFor(tiny, { ...big, tile: { winograd: 4 } }), { m: 4, points: 36, tilesH: 1, tilesW: 1, n: 4, vAt: 36 * 16, mAt: 36 * 16 + 36 * 16, bytes: 4 * 36 * 48 });
  assert.is(winogradFor(tiny, { ...big, tile: { winograd: 2 } }).m, 2);
  assert.is(winogradFor(tiny, { ...big, tile: { winograd: true } }).m, 2);
  assert.is(winogradFor(tiny, big), null, 'C < 64 unforced');
  assert.throws(() => winogradFor(tiny, { ...big, tile: { winograd: 3 } }), /tile.winograd must be true, false, 2 or 4/);
  // with WebGPU's guaranteed 128 MiB binding neither of L5's scratches (149, 236 MB) fits: direct
  assert.is(winogradFor(L5, DEFAULT_GPU_LIMITS), null);
  assert.is(winogradFor(L5, { ...DEFAULT_GPU_LIMITS, tile: { winograd: 2 } }), null);
  assert.is(winogradFor({ ...L5, batch: 16 }, DEFAULT_GPU_LIMITS)?.bytes, 4 * 36 * (384 * 384 + 2 * 384 * 9 * 16));
  assert.is(winogradFor({ ...L5, batch: 16 }, { ...DEFAULT_GPU_LIMITS, tile: { winograd: 2 } })?.bytes, 4 * 16 * (384 * 384 + 2 * 384 * 36 * 16));
  // the rule and the override
  const small = convStep({ C: 32, H: 8, W: 8, B: 4, F: 64, pad: 1 });
  assert.is(winogradFor(small, big), null, 'C < 64');
  assert.is(winogradFor({ ...small, channels: 64, filters: 32 }, big), null, 'F < 64');
  assert.ok(winogradFor({ ...small, channels: WINOGRAD_MIN_CHANNELS, filters: WINOGRAD_MIN_FILTERS }, big) !== null, 'C = F = 64');
  assert.ok(winogradFor(small, { ...big, tile: { winograd: true } }) !== null, 'forced on');
  assert.is(winogradFor(small, { ...big, tile: { winograd: 4 } })?.m, 4, 'forced on as F(4x4)');
  assert.is(winogradFor(small, { ...big, tile: { winograd: 2 } })?.m, 2, 'forced on as F(2x2)');
  assert.is(winogradFor(L5, { ...big, tile: { winograd: false } }), null, 'forced off');
  // a training plan: only forced, in either variant
  assert.is(winogradFor(L5, { ...big, wholeArena: 2 ** 30 }), null, 'training plan');
  assert.is(winogradFor(L5, { ...big, wholeArena: 2 ** 30, tile: { winograd: 2 } })?.m, 2, 'training plan, forced 2');
  // what it never takes, forced or not
  for (const on of [{ ...big, tile: { winograd: true } }, { ...big, tile: { winograd: 2 } }, { ...big, tile: { winograd: 4 } }]) {
  assert.is(winogradFor({ ...L5, filterSize: 5, outRows: 9, outCols: 9 }, on), null, '5x5');
  assert.is(winogradFor({ ...L5, stride: 2, outRows: 6, outCols: 6 }, on), null, 'stride 2');
  assert.is(winogradFor({ ...L5, batch: 6 }, on), null, 'B % 4 != 0 (the scalar path)');
  assert.is(winogradFor({ ...L5, filters: 382 }, on), null, 'F % 4 != 0');
  assert.is(winogradFor(L5, { ...on, maxStorageBufferBindingSize: 2 ** 27 }), null, 'input + output + scratch beyond one binding');
  }
  // one binding: the input, output (2 * 128 * 384 * 169 floats and less) and scratch of the variant chosen
  const inOut = 4 * 128 * 384 * (169 + 121);
  assert.ok(winogradFor(L5, { ...big, maxStorageBufferBindingSize: inOut + 148635648 + 1024 }) !== null, 'F(4x4) fits exactly');
  assert.is(winogradFor(L5, { ...big, maxStorageBufferBindingSize: inOut + 148635648 + 1023 }), null, 'one byte short');
  assert.is(winogradFor(L5, { ...big, maxStorageBufferBindingSize: inOut + 235929600 + 1023, tile: { winograd: 2 } }), null, 'F(2x2): one byte short');
});

test('scratch: filter_acts asks for at least U + V + M (4 * (m+2)^2 * (C F + C N + F N) bytes) where Winograd applies, the prepared plan holds it, and the launch falls back to direct without it', () => {
  const big = { ...DEFAULT_GPU_LIMITS, maxStorageBufferBindingSize: 2 ** 31 };
  const L5 = convStep({ C: 384, H: 13, W: 13, B: 128, F: 384 });
  assert.is(filterActsScratchBytes(L5, big), 148635648);
  assert.equal(scratchNeeds([L5], big), [148635648]);
  assert.is(filterActsScratchBytes(L5, { ...big, tile: { winograd: 2 } }), 235929600);
  assert.equal(scratchNeeds([L5], { ...big, tile: { winograd: 2 } }), [235929600]);
  // a forced-off step asks only for what the direct kernel takes (L5: no split)
  assert.is(filterActsScratchBytes(L5, { ...big, tile: { winograd: false } }), 0);
  const step = convStep({ C: 64, H: 6, W: 7, B: 4, F: 68, pad: 1 });
  const bare = stepPlan([[64, 6, 7, 4], [68, 6, 7, 4]], [step], [0], [1]);
  // OH 6, OW 7: the rule's F(2x2) (3 x 4 tiles), and F(4x4) forced (2 x 2 tiles)
  for (const [m, tile, need] of [
    [2, undefined, 4 * 16 * (64 * 68 + 64 * 3 * 4 * 4 + 68 * 3 * 4 * 4)],
    [4, { winograd: 4 }, 4 * 36 * (64 * 68 + 64 * 2 * 2 * 4 + 68 * 2 * 2 * 4)],
  ]) {
    const limits = { ...big, minStorageBufferOffsetAlignment: 256, tile };
    assert.is(winogradFor(step, limits).bytes, need);
    assert.is(filterActsScratchBytes(step, limits), need);
    assert.is(launchOf(bare, bare.steps[0], limits).family, 'filter_acts', 'no scratch tensor: direct');
    const plan = withScratch(bare, scratchNeeds(bare.steps, limits));
    const scratch = plan.tensors[plan.steps[0].scratch];
    assert.ok(scratch.bytes >= need && plan.arenaBytes >= scratch.offset + need, 'the scratch tensor holds U, V, M inside the arena');
    const l = launchOf(plan, plan.steps[0], limits);
    assert.is(l.family, 'winograd');
    assert.is(l.arena, 'vec4');
    assert.ok(l.arenaRange.offset + l.arenaRange.size <= arenaBufferBytes(plan.arenaBytes), 'the bound range lies inside the arena buffer');
    assert.equal([l.entryPoint, ...l.then.map((f) => f.entryPoint)], entryPoints(m));
    // the uniform's xi_count (word 19): the GEMM count; the gemm dispatch covers xi_count * tiles workgroups
    const u = new Uint32Array(l.uniform);
    assert.is(u[19], (m + 2) ** 2);
    assert.equal([u[10], u[11], u[12]], m === 2 ? [3, 4, 48] : [2, 2, 16]);
    const [gx, gy] = l.then[1].workgroups;
    assert.ok(gx * gy >= (m + 2) ** 2 * u[17] && gx * gy < (m + 2) ** 2 * u[17] + gx, 'gemm workgroups: xi_count * tiles');
    // a scratch tensor 4 bytes short, or a misaligned one: direct
    const short = { ...plan, tensors: plan.tensors.map((t) => (t.id === scratch.id ? { ...t, shape: [need / 4 - 1], bytes: need - 4 } : t)) };
    assert.is(launchOf(short, short.steps[0], limits).family, 'filter_acts');
    const skew = { ...plan, tensors: plan.tensors.map((t) => (t.id === scratch.id ? { ...t, offset: t.offset + 4 } : t)), arenaBytes: plan.arenaBytes + 4 };
    assert.is(launchOf(skew, skew.steps[0], limits).family, 'filter_acts');
  }
});

for (const [H, W, m] of [[6, 7, 2], [10, 9, 4]]) {
  it(`a prepared network holds the scratch Winograd needs (${H} x ${W}, the rule's F(${m}x${m})): its arena is the plan arenaBytes, which covers the scratch`, async () => {
    const c = { C: 64, H, W, B: 4, F: 68, pad: 1 };
    const step = convStep(c);
    // the compiler asks the backend (WebGPU's guaranteed limits) and lays the answer out in the plan
    const [asked] = await webgpuBackend.scratchBytes([step], {});
    const g = winogradFor(step, DEFAULT_GPU_LIMITS);
    assert.ok(g !== null && g.m === m && asked >= g.bytes, `the compiled plan's scratch (${asked}) covers U + V + M (${g.bytes})`);
    const plan = withScratch(stepPlan([[64, H, W, 4], [68, H, W, 4]], [step], [0], [1]), [asked]);
    const w = rand(64 * 9 * 68, 11, -0.5, 0.5);
    const x = rand(64 * H * W * 4, 12);
    const net = await prepareWebGpu(plan, [new Param('W', { data: w, shape: [64, 3, 3, 68] })], { device });
    try {
      assert.is(net.plan, plan, 'no scratch added at prepare: the compiled plan had enough');
      assert.is(net.arenaBufferBytes, arenaBufferBytes(plan.arenaBytes));
      const l = launchOf(net.plan, net.plan.steps[0], deviceLimits(undefined, true));
      assert.is(l.family, 'winograd');
      assert.is(l.entryPoint, entryPoints(m)[0]);
      const [y] = await net.run([x]);
      const ref = oracle(x, w, [], step);
      expectClose(y, ref, winogradTol(x, w, [], step, ref, m), 'prepared with the compiled scratch');
    } finally {
      net.dispose();
    }
  });
}

for (const forcedTile of [{ winograd: true }, { winograd: 4 }]) {
  const m = forcedTile.winograd === 4 ? 4 : 2;
  it(`a training plan keeps the direct kernel by default (no Winograd scratch asked); forced (tile.winograd: ${forcedTile.winograd}) it runs Winograd F(${m}x${m}) with the weights and bias in the arena (W_ARENA) and matches the oracle`, async () => {
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
    const forced = { ...DEFAULT_GPU_LIMITS, tile: forcedTile };
    const wino = winogradFor(step, forced).bytes;
    assert.is(winogradFor(step, forced).m, m);
    assert.ok(winogradFor(step, DEFAULT_GPU_LIMITS) !== null, 'the same step in an inference plan takes Winograd by the default rule');
    assert.is(winogradFor(step, { ...DEFAULT_GPU_LIMITS, wholeArena: 1 << 20 }), null, 'in a training plan it does not');
    const [need] = await webgpuBackend.trainingScratchBytes([step], {});
    assert.ok(need < wino, `trainingScratchBytes asks for no Winograd scratch (${need} < ${wino})`);
    const scratch = tensor([Math.max(need, wino) / 4]);
    const plan = { tensors, arenaBytes: end, alignment: 256, steps: [{ ...step, scratch }], inputs: [x, wk, bias], targets: -1, loss: 0, outputs: [], params: [], digest: 'hand-written' };
    const whole = arenaBufferBytes(plan.arenaBytes);
    assert.is(launchOf(plan, plan.steps[0], { ...deviceLimits(undefined), wholeArena: whole }).family, 'filter_acts', 'default: direct');
    const launch = launchOf(plan, plan.steps[0], { ...deviceLimits(forcedTile), wholeArena: whole });
    assert.is(launch.family, 'winograd');
    assert.equal([launch.entryPoint, ...launch.then.map((f) => f.entryPoint)], entryPoints(m));
    assert.is(launch.constants.W_ARENA, 1, 'weight_transform reads the arena');
    assert.is(launch.then[2].constants.W_ARENA, 1, 'output_transform reads the bias from the arena');
    assert.is(launch.weight, undefined);
    const xs = rand(C * H * W * B, 80);
    const ws = rand(C * 9 * F, 81, -0.2, 0.2);
    const bs = rand(F, 82, -0.5, 0.5);
    const t = await prepareWebGpuTraining(plan, { device, cpuVariants: true, tile: forcedTile });
    try {
      const [yOut] = await t.run([xs, ws, bs], { learningRate: 0.1, t: 1, counter: 0 }, { update: false, read: [y] });
      const s = plan.steps[0];
      const ref = oracle(xs, ws, bs, s);
      expectClose(yOut, ref, winogradTol(xs, ws, bs, s, ref, m), `training filter_acts (Winograd F(${m}x${m}))`);
      errors.push({ m, label: 'training', ...errorVsTol(yOut, ref, winogradTol(xs, ws, bs, s, ref, m)) });
    } finally {
      t.dispose();
    }
  });
}

test.run();
