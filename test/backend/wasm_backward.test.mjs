// The backward C kernels of build/kernels.wasm (src/backend/wasm/c: act_grad.c, img_acts.c, weight_acts.c,
// max_pool_grad.c, nin_grad.c), called directly on a fresh instance of the module and compared with
// the float64 oracles of test/reference/backward.mjs (themselves checked against finite
// differences) on random inputs: shape (element count) first, then values. Steps go through the
// glue (src/backend/wasm/backward.ts runBackwardStep); the kernels' own argument checks directly.
//
// Tolerances. A kernel that sums N float32 products errs, in any order, by at most
// gamma_{N+2} sum|terms| (Higham 3.1, u = 2^-24): test/reference/layers.mjs tolerance(N, 1, mag,
// value) with mag = the same oracle on |inputs|. N: img_acts k^2 F; weight_acts outRows outCols B
// plus the M/P - 1 additions of the partial sums; NIN C or N; bias sums their run length; max-pool
// ceil(P/s)^2 (overlapping windows). The derivative: actGradTolerance (a few u of its terms). Each
// bound fails as soon as one term is dropped, doubled or misplaced.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { wasmBackend, kernelsModule } from '../../dist/backend/wasm/index.js';
import { weightActsStep, checkDerivativeFromOutput } from '../../dist/ops/backward.js';
import { runBackwardStep, backwardScratchBytes } from '../../dist/backend/wasm/backward.js';
import { RuntimeError } from '../../dist/errors.js';
import { ValueError, NotImplementedError } from '../../dist/errors.js';
import { actGrad, actGradTolerance, imgActsC01b, weightActsC01b, maxPoolGradC01b, ninGrad, biasGrad, ccGrid, kernelGradToParam } from '../reference/backward.mjs';
import { max_pool_2d } from '../reference/pool.mjs';
import { layerBackward } from '../reference/backward.mjs';
import { layerForward } from '../reference/layers.mjs';
import { kernelWeights } from '../../dist/ops/weights.js';
import * as lasagne from '../../dist/index.js';
import { Conv2DCCLayer, NINLayer_c01b } from '../../dist/layers/cuda_convnet.js';
import { transpose } from '../reference/array.mjs';
import { mulberry32 } from '../reference/random.mjs';
import { nonlinearity, tolerance } from '../reference/layers.mjs';
import { size, randArray, expectClose, f64, absOf } from '../support/check.mjs';
import { NL, convLen } from '../support/backward_cases.mjs';
import { kernelsInstance } from '../support/wasm_instance.mjs';

const available = await wasmBackend.available();
if (!available) {
  const reason = await kernelsModule().then(() => 'no WebAssembly SIMD', (e) => e.message);
  const s = suite('wasm backward kernels');
  s(`skipped: the WASM backend is not available here (${reason})`, () => console.log(`  SKIP wasm backward: ${reason}`));
  s.run();
}
const mod = available ? await kernelsModule() : null;

const kernels = () => kernelsInstance(mod);

const Act = suite('wasm bias_act_grad');

Act('every nonlinearity x bias mode x batch size: dz = dy act\'(y) and the bias gradient; in place too', () => {
  let seed = 1;
  for (const [kind, params] of NL)
    for (const mode of ['none', 'tied', 'untied'])
      for (const [F, P, B] of [[3, 5, 1], [2, 4, 3], [4, 3, 4], [1, 7, 9], [2, 2, 16]]) {
        const x = randArray([F, P, B], seed++, -3, 3);
        const y = { data: Float32Array.from(x.data, (v) => nonlinearity(kind, params, v)), shape: x.shape };
        const dy = randArray([F, P, B], seed++);
        const K = kernels();
        const py = K.put(y);
        const pdy = K.put(dy);
        const inPlace = seed % 2 === 0;
        const pdz = inPlace ? pdy : K.alloc(dy.data.length);
        const nb = mode === 'tied' ? F : F * P;
        const pdb = K.alloc(nb);
        const ids = [py, pdy, pdz, pdb];
        const step = { op: 'bias_act_grad', index: 0, layer: 'l', output: 0, outputGrad: 1, preActGrad: 2, biasGrad: mode === 'none' ? -1 : 3, biasMode: mode, nonlinearity: { kind, params }, units: F, positions: P, batch: B };
        runBackwardStep(K.k, step, { tensor: (id) => ids[id], weight: () => 0 });
        const label = `${kind} ${mode} (${F}, ${P}, ${B})${inPlace ? ' in place' : ''}`;
        const dz = K.read(pdz, dy.data.length);
        const ref = actGrad(kind, params, f64(y), f64(dy));
        const tolDz = (i) => actGradTolerance(kind, params, y.data[i], dy.data[i]);
        expectClose(dz, ref, tolDz, `${label} dz`);
        if (mode === 'none') continue;
        const db = biasGrad(ref, mode);
        const mag = biasGrad(absOf(ref), mode);
        const run = mode === 'tied' ? P * B : B;
        // the float32 dz errors, summed, plus the summation's own rounding
        const dzErr = biasGrad({ data: Float64Array.from(dy.data, (_, i) => tolDz(i)), shape: dy.shape }, mode);
        expectClose(K.read(pdb, nb), db, (i) => tolerance(run, 1, mag.data[i], db.data[i]) + dzErr.data[i], `${label} db`);
      }
});

Act('the step builder refuses derivatives the output cannot give', () => {
  assert.throws(() => checkDerivativeFromOutput('conv', 'leaky_rectify', [-0.5]), (e) => e instanceof NotImplementedError && /leakiness >= 0.*leakiness=-0.5/.test(e.message));
  assert.throws(() => checkDerivativeFromOutput('conv', 'selu', [-1, 1]), (e) => e instanceof NotImplementedError && /scale=-1/.test(e.message));
  assert.throws(() => checkDerivativeFromOutput('out', 'softmax', []), (e) => e instanceof NotImplementedError && /softmax/.test(e.message));
  for (const [kind, params] of NL) checkDerivativeFromOutput('conv', kind, params);
});

// Conv geometries: pads, strides (truncated cuda-convnet grids where (I + 2p - k) % s != 0), every
// batch remainder mod 4 and mod 16, F not a multiple of 4 reached through odd configs too.
const CONV = [
  { C: 1, H: 5, W: 7, k: 3, s: 1, pad: 1, F: 16, B: 1 },
  { C: 2, H: 6, W: 5, k: 3, s: 2, pad: 0, F: 16, B: 2 },
  { C: 3, H: 9, W: 8, k: 5, s: 1, pad: 2, F: 32, B: 3 },
  { C: 4, H: 5, W: 6, k: 3, s: 1, pad: 1, F: 16, B: 4 },
  { C: 2, H: 7, W: 7, k: 3, s: 3, pad: 1, F: 16, B: 5 },
  { C: 3, H: 7, W: 6, k: 4, s: 2, pad: 1, F: 48, B: 12 },
  { C: 2, H: 6, W: 6, k: 2, s: 2, pad: 0, F: 16, B: 17 },
  { C: 3, H: 4, W: 5, k: 3, s: 1, pad: 2, F: 16, B: 33 },
  { C: 2, H: 5, W: 5, k: 3, s: 2, pad: 1, F: 6, B: 7 },
];

const Conv = suite('wasm img_acts / weight_acts');

Conv('img_acts matches the oracle: shapes, values, every geometry and batch size', () => {
  CONV.forEach((c, n) => {
    const R = convLen(c.H, c.k, c.s, c.pad);
    const S = convLen(c.W, c.k, c.s, c.pad);
    const dz = randArray([c.F, R, S, c.B], 100 + n);
    const w = randArray([c.C, c.k, c.k, c.F], 200 + n);
    const K = kernels();
    const pdz = K.put(dz);
    const pw = K.put(w);
    const nx = c.C * c.H * c.W * c.B;
    const pdx = K.alloc(nx);
    const step = { op: 'img_acts', index: 0, layer: 'conv', channels: c.C, rows: c.H, cols: c.W, batch: c.B, filters: c.F, filterSize: c.k, stride: c.s, pad: c.pad, outRows: R, outCols: S, preActGrad: 0, weight: 0, inputGrad: 1, scratch: 2 };
    const scratch = K.k.kernels_reserve(backwardScratchBytes(K.k, step), 16);
    runBackwardStep(K.k, step, { tensor: (id) => [pdz, pdx, scratch][id], weight: () => pw });
    assert.throws(() => runBackwardStep(K.k, { ...step, scratch: undefined }, { tensor: (id) => [pdz, pdx][id], weight: () => pw }), (e) => e instanceof RuntimeError && /but the plan gave it none/.test(e.message));
    const ref = imgActsC01b(f64(dz), f64(w), c.pad, c.s, c.H, c.W);
    assert.equal(ref.shape, [c.C, c.H, c.W, c.B]);
    const mag = imgActsC01b(absOf(dz), absOf(w), c.pad, c.s, c.H, c.W);
    expectClose(K.read(pdx, nx), ref, (i) => tolerance(c.k * c.k * c.F, 1, mag.data[i], ref.data[i]), `img_acts ${JSON.stringify(c)}`);
  });
});

/** The divisors of M. */
const divisors = (M) => [...Array(M).keys()].map((i) => i + 1).filter((d) => M % d === 0);

Conv('weight_acts: every legal partialSum (and 0) matches the oracle and each other; partials of (M/P, C, k, k, F)', () => {
  let runs = 0;
  CONV.forEach((c, n) => {
    const R = convLen(c.H, c.k, c.s, c.pad);
    const S = convLen(c.W, c.k, c.s, c.pad);
    const x = randArray([c.C, c.H, c.W, c.B], 300 + n);
    const dz = randArray([c.F, R, S, c.B], 400 + n);
    const ref = weightActsC01b(f64(x), f64(dz), c.k, c.pad, c.s, 0);
    const mag = weightActsC01b(absOf(x), absOf(dz), c.k, c.pad, c.s, 0).dw;
    const M = ccGrid(c.H, c.k, c.s, c.pad) * ccGrid(c.W, c.k, c.s, c.pad);
    const K = c.C * c.k * c.k * c.F;
    const results = [];
    for (const P of [0, ...divisors(M)]) {
      const step = weightActsStep({ layer: 'conv', channels: c.C, rows: c.H, cols: c.W, batch: c.B, filters: c.F, filterSize: c.k, stride: c.s, pad: c.pad, outRows: R, outCols: S }, P, { index: 0, input: 0, preActGrad: 1, weightGrad: 2 });
      assert.is(step.modules, M);
      assert.is(step.groups, P === 0 ? 1 : M / P);
      assert.is(step.scratchBytes, step.groups === 1 ? 0 : 4 * step.groups * K);
      const mem = kernels();
      const px = mem.put(x);
      const pdz = mem.put(dz);
      const pdw = mem.alloc(K);
      assert.is(backwardScratchBytes(mem.k, step), step.scratchBytes);
      const partials = step.scratchBytes ? mem.k.kernels_reserve(step.scratchBytes, 16) : 0;
      runBackwardStep(mem.k, { ...step, scratch: 3 }, { tensor: (id) => [px, pdz, pdw, partials][id], weight: () => 0 });
      const dw = mem.read(pdw, K);
      const N = R * S * c.B + step.groups;
      const tol = (i) => tolerance(N, 1, mag.data[i], ref.dw.data[i]);
      expectClose(dw, ref.dw, tol, `weight_acts ${JSON.stringify(c)} partialSum ${P}`);
      if (step.groups > 1) {
        // the partials are cuda-convnet's: group g sums modules [gP, gP + P) of the untruncated grid
        const refP = weightActsC01b(f64(x), f64(dz), c.k, c.pad, c.s, P).partials;
        const magP = weightActsC01b(absOf(x), absOf(dz), c.k, c.pad, c.s, P).partials;
        expectClose(mem.read(partials, step.groups * K), refP, (i) => tolerance(P * c.B, 1, magP.data[i], refP.data[i]), `partials P=${P}`);
      }
      results.push({ P, dw, tol });
      runs++;
    }
    // every legal partialSum gives the same dW within float rounding (both within their bound of the exact sum)
    for (const r of results)
      for (let i = 0; i < K; i++) assert.ok(Math.abs(r.dw[i] - results[0].dw[i]) <= 2 * r.tol(i), `partialSum ${r.P} vs 0, element ${i}`);
  });
  assert.ok(runs > 40, `${runs} partialSum runs`);
});

Conv("an illegal partialSum raises pylearn2's ValueError; the kernel refuses it too", () => {
  // H = W = 6, k = 3, s = 2, pad 0: cuda-convnet's grid is 3 x 3 (Lasagne keeps 2 x 2), M = 9
  const geo = { layer: 'conv1', channels: 2, rows: 6, cols: 6, batch: 3, filters: 16, filterSize: 3, stride: 2, pad: 0, outRows: 2, outCols: 2 };
  const ids = { index: 0, input: 0, preActGrad: 1, weightGrad: 2 };
  for (const bad of [2, 4, 5, 10]) {
    assert.throws(() => weightActsStep(geo, bad, ids), (e) => e instanceof ValueError && e.message.startsWith(`partialSum must divide numModules, but partialSum=${bad} and numModules=9`));
  }
  // Lasagne's docstring would allow 2 (a divisor of 2 x 2 = 4): M counts the untruncated grid
  assert.throws(() => weightActsStep(geo, -1, ids), (e) => e instanceof ValueError && /partial_sum >= 0/.test(e.message));
  assert.is(weightActsStep(geo, null, ids).effectivePartialSum, 9);
  assert.is(weightActsStep(geo, 3, ids).scratchBytes, 4 * 3 * 2 * 9 * 16);
  const K = kernels();
  const px = K.put(randArray([2, 6, 6, 3], 1));
  const pdz = K.put(randArray([16, 2, 2, 3], 2));
  const pdw = K.alloc(2 * 9 * 16);
  const scratch = K.alloc(9 * 2 * 9 * 16);
  assert.is(K.k.weight_acts(px, pdz, pdw, scratch, 2, 6, 6, 3, 16, 3, 2, 0, 2, 2, 4), -1);
  assert.is(K.k.weight_acts(px, pdz, pdw, 0, 2, 6, 6, 3, 16, 3, 2, 0, 2, 2, 3), -1, 'no scratch for 3 groups');
  // the glue reports a refusal as a RuntimeError naming the layer and the op
  const step = { ...weightActsStep(geo, 3, ids), effectivePartialSum: 4, scratch: 3 };
  assert.throws(() => runBackwardStep(K.k, step, { tensor: (id) => [px, pdz, pdw, scratch][id], weight: () => 0 }), (e) => e instanceof RuntimeError && /conv1: the weight_acts kernel refused/.test(e.message));
});

Conv('weight_grad_layout maps the kernel-layout gradient back onto both parameter layouts, flipped or not, exactly', () => {
  const [C, k, F] = [3, 3, 5];
  const dwk = randArray([C, k, k, F], 31);
  for (const layout of ['fckk', 'ckkf'])
    for (const flip of [false, true]) {
      const K = kernels();
      const pin = K.put(dwk);
      const pout = K.alloc(dwk.data.length);
      const step = { op: 'weight_grad_layout', index: 0, layer: 'l', weightGrad: 0, paramGrad: 1, weightLayout: layout, flipFilters: flip, channels: C, filterSize: k, filters: F };
      runBackwardStep(K.k, step, { tensor: (id) => [pin, pout][id], weight: () => 0 });
      const ref = kernelGradToParam(f64(dwk), layout, flip);
      expectClose(K.read(pout, dwk.data.length), ref, () => 0, `weight_grad_layout ${layout} flip ${flip}`);
    }
});

Conv('a whole Conv2DCCLayer (bc01, flipped, untied, tanh): the chain bias_act_grad -> weight_acts -> img_acts -> weight_grad_layout gives the layer-level gradients', () => {
  // What a training plan will emit for this layer (src/ops/backward.ts), with the transposes of the
  // bc01 boundary done by the reference. The tolerance (1e-4 of the magnitude) is loose on purpose:
  // each kernel's rounding is checked above; this checks the layouts, the flip and the chaining,
  // where a mistake is of the order of the values.
  lasagne.random.setRng(new lasagne.random.RandomState(3));
  for (const [n, o] of [{ pad: 1, stride: 1, partialSum: 5 }, { pad: 2, stride: 2, partialSum: 0 }].entries()) {
    const [B, C, H, W, F, k] = [3, 2, 7, 5, 16, 3];
    const layer = new Conv2DCCLayer(new lasagne.layers.InputLayer([B, C, H, W]), F, k, { ...o, flipFilters: true, untieBiases: true, nonlinearity: lasagne.nonlinearities.tanh });
    const x = randArray([B, C, H, W], 40 + n);
    const y = layerForward(layer, x);
    const dy = randArray(y.shape, 50 + n);
    const ref = layerBackward(layer, x, y, dy);
    // the magnitudes: the same chain on |x|, |W|, |dy| (act' = 1 - y^2 >= 0 for tanh)
    const absLayer = Object.create(layer);
    const wAbs = absOf(layer.W.getValue());
    Object.defineProperty(absLayer, 'W', { value: { getValue: () => wAbs } });
    const mag = layerBackward(absLayer, absOf(x), y, absOf(dy));
    const [, , R, S] = y.shape;
    const f32 = (a) => Float32Array.from(a.data);
    const c01b = (a) => f32(transpose(f64(a), [1, 2, 3, 0]));
    const geo = { layer: 'conv', channels: C, rows: H, cols: W, batch: B, filters: F, filterSize: k, stride: o.stride, pad: layer.resolvedPad, outRows: R, outCols: S };
    const K = kernels();
    const wK = kernelWeights({ weightLayout: 'fckk', flipFilters: true, channels: C, filterSize: k, filters: F }, layer.W.getValue());
    // tensors: 0 x, 1 y, 2 dy (dz in place), 3 db, 4 dW kernel layout, 5 dW param layout, 6 dx, 7 partials, 8 img_acts scratch
    const addr = [K.put({ data: c01b(x) }), K.put({ data: c01b(y) }), K.put({ data: c01b(dy) }), K.alloc(F * R * S), K.alloc(wK.length), K.alloc(wK.length), K.alloc(x.data.length)];
    const pw = K.put({ data: wK });
    const steps = [
      { op: 'bias_act_grad', index: 0, layer: 'conv', output: 1, outputGrad: 2, preActGrad: 2, biasGrad: 3, biasMode: 'untied', nonlinearity: { kind: 'tanh', params: [] }, units: F, positions: R * S, batch: B },
      { ...weightActsStep(geo, o.partialSum, { index: 1, input: 0, preActGrad: 2, weightGrad: 4 }), scratch: 7 },
      { op: 'img_acts', index: 2, ...geo, preActGrad: 2, weight: 0, inputGrad: 6, scratch: 8 },
      { op: 'weight_grad_layout', index: 3, layer: 'conv', weightGrad: 4, paramGrad: 5, weightLayout: 'fckk', flipFilters: true, channels: C, filterSize: k, filters: F },
    ];
    addr.push(K.k.kernels_reserve(Math.max(16, backwardScratchBytes(K.k, steps[1])), 16), K.k.kernels_reserve(backwardScratchBytes(K.k, steps[2]), 16));
    for (const st of steps) runBackwardStep(K.k, st, { tensor: (id) => addr[id], weight: () => pw });
    const close = (ours, want, m, label) => expectClose(ours, want, (i) => 1e-4 * m.data[i] + 1e-6, label);
    const dxB = transpose({ data: K.read(addr[6], x.data.length), shape: [C, H, W, B] }, [3, 0, 1, 2]);
    assert.equal(dxB.shape, ref.dx.shape);
    close(dxB.data, ref.dx, mag.dx, `dx ${JSON.stringify(o)}`);
    close(K.read(addr[5], wK.length), ref.dW, mag.dW, `dW ${JSON.stringify(o)}`);
    close(K.read(addr[3], F * R * S), ref.db, mag.db, `db ${JSON.stringify(o)}`);
  }
});

const Pool = suite('wasm max_pool_grad');

Pool('max_pool_grad matches the oracle, ties included: partial windows, overlaps, any channel count and batch', () => {
  const cases = [
    { C: 1, H: 7, W: 7, B: 1, P: 3, s: 2 },
    { C: 3, H: 6, W: 5, B: 4, P: 2, s: 2 },
    { C: 5, H: 8, W: 8, B: 7, P: 3, s: 3 },
    { C: 2, H: 5, W: 6, B: 9, P: 3, s: 1 },
    { C: 17, H: 4, W: 4, B: 2, P: 4, s: 1 },
  ];
  cases.forEach((c, n) => {
    // values on a coarse grid so that windows have tied maxima
    const next = mulberry32(500 + n);
    const x = { data: Float32Array.from({ length: c.C * c.H * c.W * c.B }, () => Math.floor(next() * 4)), shape: [c.C, c.H, c.W, c.B] };
    const yb = max_pool_2d(transpose(f64(x), [3, 0, 1, 2]), [c.P, c.P], [c.s, c.s]);
    const y = transpose(yb, [1, 2, 3, 0]);
    const [, R, S] = y.shape;
    const dy = randArray(y.shape, 600 + n);
    const K = kernels();
    const px = K.put(x);
    const py = K.put({ data: Float32Array.from(y.data), shape: y.shape });
    const pdy = K.put(dy);
    const pdx = K.alloc(x.data.length);
    const step = { op: 'max_pool_grad', index: 0, layer: 'pool', input: 0, output: 1, outputGrad: 2, inputGrad: 3, channels: c.C, rows: c.H, cols: c.W, batch: c.B, poolSize: c.P, stride: c.s, outRows: R, outCols: S };
    runBackwardStep(K.k, step, { tensor: (id) => [px, py, pdy, pdx][id], weight: () => 0 });
    const ref = maxPoolGradC01b(f64(x), f64(dy), c.P, c.s);
    const mag = maxPoolGradC01b(f64(x), absOf(dy), c.P, c.s);
    const overlap = Math.ceil(c.P / c.s) ** 2;
    let tied = 0;
    for (let i = 0; i < ref.data.length; i++) if (ref.data[i] !== 0) tied++;
    assert.ok(tied > R * S, `${tied} positions receive a gradient: ties are exercised`);
    expectClose(K.read(pdx, x.data.length), ref, (i) => tolerance(overlap, 1, mag.data[i], ref.data[i]), `max_pool_grad ${JSON.stringify(c)}`);
  });
});

const Nin = suite('wasm nin_grad_input / nin_grad_weight');

Nin('NIN gradients match the oracle for every N remainder mod 8 and channel remainder mod 4', () => {
  const cases = [[1, 1, 1], [3, 5, 7], [4, 16, 8], [7, 10, 13], [16, 32, 40], [5, 3, 129]];
  cases.forEach(([C, U, N], n) => {
    const x = randArray([C, N], 700 + n);
    const w = randArray([U, C], 800 + n);
    const dz = randArray([U, N], 900 + n);
    const K = kernels();
    const px = K.put(x);
    const pw = K.put(w);
    const pdz = K.put(dz);
    const pdx = K.alloc(C * N);
    const pdw = K.alloc(U * C);
    // N as positions x batch: the glue multiplies them back
    const geo = { index: 0, layer: 'nin', channels: C, units: U, positions: 1, batch: N };
    const at = { tensor: (id) => [px, pdz, pdx, pdw][id], weight: () => pw };
    runBackwardStep(K.k, { op: 'nin_grad_input', ...geo, preActGrad: 1, weight: 0, inputGrad: 2 }, at);
    runBackwardStep(K.k, { op: 'nin_grad_weight', ...geo, input: 0, preActGrad: 1, weightGrad: 3 }, at);
    const ref = ninGrad(f64(x), f64(w), f64(dz));
    const mag = ninGrad(absOf(x), absOf(w), absOf(dz));
    expectClose(K.read(pdx, C * N), ref.dx, (i) => tolerance(U, 1, mag.dx.data[i], ref.dx.data[i]), `nin dx C ${C} U ${U} N ${N}`);
    expectClose(K.read(pdw, U * C), ref.dw, (i) => tolerance(N, 1, mag.dw.data[i], ref.dw.data[i]), `nin dW C ${C} U ${U} N ${N}`);
  });
});

Act.run();
Conv.run();
Pool.run();
Nin('a whole NINLayer_c01b (untied, sigmoid): bias_act_grad -> nin_grad_weight -> nin_grad_input gives the layer-level gradients', () => {
  lasagne.random.setRng(new lasagne.random.RandomState(4));
  const [C, R, S, B, U] = [5, 3, 2, 6, 7];
  const layer = new NINLayer_c01b(new lasagne.layers.InputLayer([C, R, S, B]), U, { untieBiases: true, nonlinearity: lasagne.nonlinearities.sigmoid });
  const x = randArray([C, R, S, B], 60);
  const y = layerForward(layer, x);
  const dy = randArray(y.shape, 61);
  const ref = layerBackward(layer, x, y, dy);
  const absLayer = Object.create(layer);
  const wAbs = absOf(layer.W.getValue());
  Object.defineProperty(absLayer, 'W', { value: { getValue: () => wAbs } });
  const mag = layerBackward(absLayer, absOf(x), y, absOf(dy));
  const K = kernels();
  // tensors: 0 x, 1 y, 2 dy, 3 dz, 4 db, 5 dW, 6 dx
  const addr = [K.put(x), K.put({ data: Float32Array.from(y.data) }), K.put(dy), K.alloc(dy.data.length), K.alloc(U * R * S), K.alloc(U * C), K.alloc(x.data.length)];
  const pw = K.put(layer.W.getValue());
  const geo = { layer: 'nin', channels: C, units: U, positions: R * S, batch: B };
  const steps = [
    { op: 'bias_act_grad', index: 0, layer: 'nin', output: 1, outputGrad: 2, preActGrad: 3, biasGrad: 4, biasMode: 'untied', nonlinearity: { kind: 'sigmoid', params: [] }, units: U, positions: R * S, batch: B },
    { op: 'nin_grad_weight', index: 1, ...geo, input: 0, preActGrad: 3, weightGrad: 5 },
    { op: 'nin_grad_input', index: 2, ...geo, preActGrad: 3, weight: 0, inputGrad: 6 },
  ];
  for (const st of steps) runBackwardStep(K.k, st, { tensor: (id) => addr[id], weight: () => pw });
  const close = (ours, want, m, label) => expectClose(ours, want, (i) => 1e-4 * m.data[i] + 1e-6, label);
  close(K.read(addr[6], x.data.length), ref.dx, mag.dx, 'dx');
  close(K.read(addr[5], U * C), ref.dW, mag.dW, 'dW');
  assert.equal(ref.db.shape, [U, R, S]);
  close(K.read(addr[4], U * R * S), ref.db, mag.db, 'db');
});

Nin.run();
