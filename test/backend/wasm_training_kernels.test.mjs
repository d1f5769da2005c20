// The training C kernels of build/kernels.wasm (src/backend/wasm/c/elementwise.c and training.c),
// called directly on a fresh instance of the module and compared with the float64 oracles of
// test/reference/training_ops.mjs on random inputs: element count first, then values.
//
// Tolerances (u = 2^-24), each stated where it is used; each fails when a term is dropped, doubled
// or misplaced. Exact ops (copy, weight_form, pack_filters, the dropout mask and its kept values)
// are compared bit for bit.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { wasmBackend, kernelsModule } from '../../dist/backend/wasm/index.js';
import { packFilters } from '../../dist/backend/wasm/layout.js';
import { LOSS_CODES, UPDATE_CODES, lossWeight } from '../../dist/backend/wasm/training.js';
import { activationOf } from '../../dist/ops/codes.js';
import { updateScalar } from '../../dist/ops/training.js';
import {
  activationRef, softmaxRef, softmaxGradRef, dropoutMaskRef, globalPoolRef, globalPoolGradRef, lossRef, penaltyRef,
  updateRef, UPDATE_DEFAULTS, weightFormRef,
} from '../reference/training_ops.mjs';
import { kernelGradToParam } from '../reference/backward.mjs';
import { lipschitz, tolerance } from '../reference/layers.mjs';
import { mulberry32 } from '../reference/random.mjs';
import { rand, expectClose, expectExact } from '../support/check.mjs';
import { kernelsInstance } from '../support/wasm_instance.mjs';

const u = 2 ** -24;
const available = await wasmBackend.available();
if (!available) {
  const s = suite('wasm training kernels');
  s('skipped: the WASM backend is not available here', () => console.log('  SKIP wasm training kernels'));
  s.run();
}
const mod = available ? await kernelsModule() : null;

const kernels = () => kernelsInstance(mod);

const NL = [
  ['linear', []], ['rectify', []], ['leaky_rectify', [0.1]], ['sigmoid', []], ['tanh', []],
  ['scaled_tanh', [0.5, 2.27]], ['elu', []], ['selu', [1.0507009873554805, 1.6732632423543772]], ['softplus', []],
];

const Fwd = suite('wasm training kernels: forward extras');

Fwd('copy_floats: exact, any length, in place', () => {
  for (const n of [1, 3, 4, 17, 100]) {
    const K = kernels();
    const x = rand(n, n);
    const px = K.put(x);
    const py = K.alloc(n);
    assert.is(K.k.copy_floats(px, py, n), 0);
    expectExact(K.read(py, n), x, `copy ${n}`);
    assert.is(K.k.copy_floats(px, px, n), 0);
    expectExact(K.read(px, n), x, `copy ${n} in place`);
  }
  assert.is(kernels().k.copy_floats(16, 32, -1), -1);
});

// activation: the kernel evaluates act on the float32 x; its error is a few ulp of the result
// plus the rounding of the scaled input (scaled_tanh, selu): 16 u (|ref| + L |x|), L = lipschitz.
Fwd('activation: every nonlinearity, lengths around the SIMD width, in place', () => {
  let seed = 1;
  for (const [kind, params] of NL) {
    const { code, params: [p0, p1] } = activationOf({ kind, params }, 'l');
    for (const n of [1, 3, 4, 7, 64, 65]) {
      const K = kernels();
      const x = rand(n, seed++, -4, 4);
      const px = K.put(x);
      const inPlace = n % 2 === 1;
      const py = inPlace ? px : K.alloc(n);
      assert.is(K.k.activation(px, py, n, code, p0, p1), 0);
      const ref = activationRef(kind, params, x);
      const L = lipschitz(kind, params);
      expectClose(K.read(py, n), ref, (i) => 16 * u * (Math.abs(ref[i]) + L * Math.abs(x[i])) + 1e-30, `${kind} n=${n}`);
    }
  }
  assert.is(kernels().k.activation(16, 16, 4, 99, 0, 0), -1, 'unknown activation code');
});

// softmax: exp(x - m) errs by u (|x| + |m|) relative (the subtraction) plus an ulp; the sum of U
// terms by gamma_U relative; the division by an ulp: |ref| (u (|x| + |m|) + (U + 6) u).
Fwd('softmax over (U, B): shapes across the column blocks, large logits', () => {
  let seed = 100;
  for (const [U, B] of [[1, 1], [1, 5], [3, 1], [10, 7], [5, 64], [4, 65], [7, 130]]) {
    const K = kernels();
    const x = rand(U * B, seed++, -30, 30);
    const px = K.put(x);
    const py = K.alloc(U * B);
    assert.is(K.k.softmax(px, py, U, B), 0);
    const ref = softmaxRef(x, U, B);
    const m = Float64Array.from({ length: B }, (_, b) => Math.max(...Array.from({ length: U }, (_, v) => x[v * B + b])));
    const tol = (i) => Math.abs(ref[i]) * (u * (Math.abs(x[i]) + Math.abs(m[i % B])) + (U + 6) * u) + 1e-37;
    expectClose(K.read(py, U * B), ref, tol, `softmax (${U}, ${B})`);
  }
});

// softmax_grad: d_b = sum of U products (gamma_{U+2} sum |g p|), then p (g - d): tolerance(U + 2)
// on the magnitude p (|g| + sum_v |g p|).
Fwd('softmax_grad: dz = p (g - sum g p), in place too', () => {
  let seed = 200;
  for (const [U, B] of [[1, 3], [3, 1], [10, 7], [4, 65], [6, 130]]) {
    const K = kernels();
    const p = Float32Array.from(softmaxRef(rand(U * B, seed++, -3, 3), U, B));
    const g = rand(U * B, seed++);
    const pp = K.put(p);
    const pg = K.put(g);
    const inPlace = B % 2 === 1;
    const pdz = inPlace ? pg : K.alloc(U * B);
    assert.is(K.k.softmax_grad(pp, pg, pdz, U, B), 0);
    const ref = softmaxGradRef(p, g, U, B);
    const sgp = Float64Array.from({ length: B }, (_, b) => {
      let s = 0;
      for (let v = 0; v < U; v++) s += Math.abs(g[v * B + b] * p[v * B + b]);
      return s;
    });
    const tol = (i) => tolerance(U + 2, 1, p[i] * (Math.abs(g[i]) + sgp[i % B]), ref[i]);
    expectClose(K.read(pdz, U * B), ref, tol, `softmax_grad (${U}, ${B})${inPlace ? ' in place' : ''}`);
  }
});

Fwd('dropout: the mask bit for bit against dropoutMaskRef, kept values exactly x * scale, slices by flat index', () => {
  const cases = [
    // [count, seed, p, counter]
    [1, 0, 0.5, 0], [7, 3, 0.5, 1], [64, 0xfffffff0, 0.2, 0xdeadbeef], [1000, 12345, 0.9, 7], [333, 1, 0, 2], [50, 2, 1, 3],
  ];
  for (const [n, seed, p, counter] of cases) {
    const threshold = Math.round(p * 2 ** 24);
    const scale = p < 1 ? 1 / (1 - p) : 1;
    const fscale = Math.fround(scale);
    const K = kernels();
    const x = rand(n, n + 5);
    const px = K.put(x);
    const py = K.alloc(n);
    assert.is(K.k.dropout(px, py, 1, n, n, 0, seed, counter, threshold, scale), 0);
    const mask = dropoutMaskRef(n, seed, threshold, counter);
    const want = Float32Array.from(x, (v, i) => (mask[i] ? Math.fround(v * fscale) : 0));
    const got = K.read(py, n);
    assert.ok(x.every((v) => v !== 0), 'no zero inputs, so the output shows the mask');
    expectExact(Uint8Array.from(got, (v) => (v !== 0 ? 1 : 0)), mask, `mask n=${n} p=${p}`);
    expectExact(got, want, `values n=${n} p=${p}`);
    if (p > 0 && p < 1 && n >= 64) {
      const kept = mask.reduce((a, b) => a + b, 0) / n;
      assert.ok(Math.abs(kept - (1 - p)) < 0.1, `keep rate ${kept} for p=${p}`);
    }
    // in place, as (rows, B) with B = the row length
    if (n % 7 === 0 || n % 10 === 0) {
      const B = n % 7 === 0 ? 7 : 10;
      assert.is(K.k.dropout(px, px, n / B, B, B, 0, seed, counter, threshold, scale), 0);
      expectExact(K.read(px, n), want, `in place as (${n / B}, ${B})`);
    }
  }
  // a batch-last (R, B) tensor cut into column slices [b0, b1): each slice, laid out (R, b1 - b0),
  // draws the full tensor's mask at flat indices r B + b
  const R = 5;
  const B = 11;
  const x = rand(R * B, 77);
  const mask = dropoutMaskRef(R * B, 9, Math.round(0.5 * 2 ** 24), 4);
  for (const [b0, b1] of [[0, 4], [4, 9], [9, 11]]) {
    const w = b1 - b0;
    const part = Float32Array.from({ length: R * w }, (_, i) => x[Math.floor(i / w) * B + b0 + (i % w)]);
    const K = kernels();
    const pp = K.put(part);
    assert.is(K.k.dropout(pp, pp, R, w, B, b0, 9, 4, Math.round(0.5 * 2 ** 24), 2), 0);
    const want = Float32Array.from(part, (v, i) => (mask[Math.floor(i / w) * B + b0 + (i % w)] ? Math.fround(v * 2) : 0));
    expectExact(K.read(pp, R * w), want, `slice [${b0}, ${b1})`);
  }
});

// global_pool: a sum of P float32 terms then a division: tolerance(P) on sum |x| / P.
Fwd('global_pool and global_pool_grad', () => {
  let seed = 300;
  for (const [C, P, B] of [[1, 1, 1], [2, 9, 3], [3, 16, 8], [1, 5, 70]]) {
    const K = kernels();
    const x = rand(C * P * B, seed++);
    const px = K.put(x);
    const py = K.alloc(C * B);
    assert.is(K.k.global_pool(px, py, C, P, B), 0);
    const ref = globalPoolRef(x, C, P, B);
    const mag = globalPoolRef(Float64Array.from(x, Math.abs), C, P, B);
    expectClose(K.read(py, C * B), ref, (i) => tolerance(P, 1, mag[i], ref[i]), `global_pool (${C}, ${P}, ${B})`);
    const dy = rand(C * B, seed++);
    const pdy = K.put(dy);
    const pdx = K.alloc(C * P * B);
    assert.is(K.k.global_pool_grad(pdy, pdx, C, P, B), 0);
    const gref = globalPoolGradRef(dy, C, P, B);
    expectClose(K.read(pdx, C * P * B), gref, (i) => u * Math.abs(gref[i]) + 1e-37, `global_pool_grad (${C}, ${P}, ${B})`);
  }
});

const Tr = suite('wasm training kernels: training ops');

Tr('weight_form: the kernel form exactly, both layouts, flipped or not; weight_grad_layout inverts it', () => {
  let seed = 400;
  for (const [C, k, F] of [[1, 1, 1], [2, 3, 5], [3, 2, 4]])
    for (const layout of ['fckk', 'ckkf'])
      for (const flip of [false, true]) {
        const K = kernels();
        const n = C * k * k * F;
        const w = rand(n, seed++);
        const pw = K.put(w);
        const pk = K.alloc(n);
        assert.is(K.k.weight_form(pw, pk, C, k, F, layout === 'fckk' ? 0 : 1, flip ? 1 : 0), 0);
        const kf = K.read(pk, n);
        expectExact(kf, Float32Array.from(weightFormRef(w, layout, flip, C, k, F)), `weight_form ${layout} flip=${flip} (${C}, ${k}, ${F})`);
        const back = K.alloc(n);
        assert.is(K.k.weight_grad_layout(pk, back, C, k, F, layout === 'fckk' ? 0 : 1, flip ? 1 : 0), 0);
        expectExact(K.read(back, n), w, `round trip ${layout} flip=${flip}`);
        const shape = layout === 'fckk' ? [F, C, k, k] : [C, k, k, F];
        const viaRef = kernelGradToParam({ data: Float64Array.from(kf), shape: [C, k, k, F] }, layout, flip);
        assert.equal(viaRef.shape, shape);
        expectExact(Float32Array.from(viaRef.data), w, `reference inverse ${layout} flip=${flip}`);
      }
  assert.is(kernels().k.weight_form(16, 32, 1, 1, 1, 2, 0), -1, 'bad layout');
});

Tr('pack_filters: the packed form of packFilters, F around the block width', () => {
  for (const [K_, F] of [[1, 1], [3, 3], [5, 4], [6, 7], [2, 9]]) {
    const K = kernels();
    const w = rand(K_ * F, K_ * 31 + F);
    const pw = K.put(w);
    const pp = K.alloc(K_ * F);
    assert.is(K.k.pack_filters(pw, pp, K_, F), 0);
    expectExact(K.read(pp, K_ * F), packFilters(w, K_, F), `pack (${K_}, ${F})`);
  }
});

/** Predictions and targets a loss kind is defined on. */
function lossInputs(kind, fused, targetForm, U, B, seed) {
  const next = mulberry32(seed);
  let pred;
  if (fused) pred = rand(U * B, seed, -20, 20);
  else if (kind === 'categorical_crossentropy') pred = Float32Array.from(softmaxRef(rand(U * B, seed, -2, 2), U, B));
  else if (kind === 'binary_crossentropy') pred = rand(U * B, seed, 0.05, 0.95);
  else pred = rand(U * B, seed, -2, 2);
  let targets;
  if (targetForm === 'index') targets = Float32Array.from({ length: B }, () => Math.floor(next() * U));
  else if (kind === 'categorical_crossentropy') {
    targets = Float32Array.from(softmaxRef(rand(U * B, seed + 1, -2, 2), U, B));
  } else if (kind === 'binary_hinge' || kind === 'multiclass_hinge') targets = Float32Array.from({ length: U * B }, () => (next() < 0.5 ? 0 : 1));
  else targets = rand(U * B, seed + 1, 0, 1);
  return { pred, targets };
}

// The loss: sums in float64 from the float32 inputs, rounded once: |loss| 4 u relative (plus the
// libm's exp/log: 1e-12 relative per term); each gradient element is one float64 expression
// rounded to float32: 2 u relative.
Tr('loss: every kind, fused softmax, index and dense targets, mean and sum', () => {
  const kinds = ['categorical_crossentropy', 'binary_crossentropy', 'squared_error', 'binary_hinge', 'multiclass_hinge'];
  let seed = 500;
  for (const kind of kinds)
    for (const fused of kind === 'categorical_crossentropy' ? [false, true] : [false])
      for (const targetForm of ['index', 'dense'])
        for (const aggregate of ['mean', 'sum'])
          for (const [U, B] of [[2, 1], [5, 3], [10, 17]]) {
            const { pred, targets } = lossInputs(kind, fused, targetForm, U, B, seed++);
            const K = kernels();
            const pp = K.put(pred);
            const pt = K.put(targets);
            const pg = K.alloc(U * B);
            const pl = K.alloc(1);
            const rc = K.k.loss(pp, pt, pg, pl, U, B, LOSS_CODES[kind], fused ? 1 : 0, targetForm === 'index' ? 1 : 0, lossWeight({ kind, units: U, aggregate }, B));
            assert.is(rc, 0);
            const ref = lossRef({ kind, fusedSoftmax: fused, targetForm, aggregate }, pred, targets, U, B);
            const label = `${kind}${fused ? ' fused' : ''} ${targetForm} ${aggregate} (${U}, ${B})`;
            const [l] = K.read(pl, 1);
            assert.ok(Math.abs(l - ref.loss) <= 4 * u * Math.abs(ref.loss) + 1e-12 * U * B, `${label}: loss ${l}, reference ${ref.loss}`);
            expectClose(K.read(pg, U * B), ref.grad, (i) => 2 * u * Math.abs(ref.grad[i]) + 1e-37, `${label}: gradient`);
          }
});

Tr('loss: index targets outside [0, U) or not integers are refused (code -2); bad kinds (-1)', () => {
  const K = kernels();
  const pp = K.put(rand(6, 1));
  const pg = K.alloc(6);
  const pl = K.alloc(1);
  for (const bad of [[0, 3], [-1, 0], [1.5, 0], [NaN, 0]]) {
    const pt = K.put(Float32Array.from(bad));
    assert.is(K.k.loss(pp, pt, pg, pl, 3, 2, LOSS_CODES.categorical_crossentropy, 1, 1, 0.5), -2, `targets ${bad}`);
  }
  const pt = K.put(Float32Array.from([0, 1]));
  assert.is(K.k.loss(pp, pt, pg, pl, 3, 2, 9, 0, 1, 1), -1);
  assert.is(K.k.loss(pp, pt, pg, pl, 3, 2, LOSS_CODES.squared_error, 1, 1, 1), -1, 'fused softmax on another loss');
  assert.is(K.k.loss(pp, pt, pg, pl, 1, 2, LOSS_CODES.multiclass_hinge, 0, 0, 1), -1, 'multiclass hinge with one unit');
});

// penalty: the added value in float64, rounded once (plus the loss it is added to): 4 u; the
// gradient 2 l2 w + l1 sign(w) + g in float32: 4 u (|g| + |2 l2 w| + l1).
Tr('penalty: loss += l2 sum w^2 + l1 sum |w|, grad += 2 l2 w + l1 sign(w), sign(0) = 0', () => {
  for (const [n, l1, l2] of [[1, 0, 0.5], [9, 0.1, 0], [100, 0.01, 1e-3]]) {
    const K = kernels();
    const w = rand(n, n);
    if (n > 5) w[3] = 0;
    const g = rand(n, n + 1);
    const pw = K.put(w);
    const pg = K.put(g);
    const pl = K.put(Float32Array.of(1.25));
    assert.is(K.k.penalty(pw, pg, pl, n, l1, l2), 0);
    const ref = penaltyRef(w, g, Math.fround(l1), Math.fround(l2));
    const [l] = K.read(pl, 1);
    assert.ok(Math.abs(l - (1.25 + ref.penalty)) <= 4 * u * (1.25 + ref.penalty), `n=${n}: loss ${l}, reference ${1.25 + ref.penalty}`);
    expectClose(K.read(pg, n), ref.grad, (i) => 4 * u * (Math.abs(g[i]) + Math.abs(2 * l2 * w[i]) + l1) + 1e-37, `penalty grad n=${n}`);
  }
});

// update: three steps against updateRef in float64 from the same float32 start. Each step rounds
// p once (u |p|) and computes its increment from float32 state and hyperparameters (the rule's
// constants rounded to float32, their complements 1 - c from float64) with a relative error of a few dozen u: 4 u |p| + 64 u sum_t
// |increment_t| and 64 u |state|, with increments and state of the same rule run on |g| (the
// magnitudes the rounding scales with, since m and v cancel where g changes sign).
Tr('update_param: all 8 rules over 3 steps, state included', () => {
  let seed = 600;
  for (const rule of Object.keys(UPDATE_CODES)) {
    const o = { learningRate: 0.01, momentum: 0, rho: 0, beta1: 0, beta2: 0, epsilon: 0, ...UPDATE_DEFAULTS[rule] };
    for (const n of [1, 5, 37]) {
      const K = kernels();
      const p = rand(n, seed++);
      const pp = K.put(p);
      const ps0 = K.alloc(n);
      const ps1 = K.alloc(n);
      const ref = Float64Array.from(p);
      const state = [new Float64Array(n), new Float64Array(n)];
      const moved = new Float64Array(n);
      // the same rule on |g| from |p|: its state and increments are the magnitudes the float32
      // rounding errors scale with (m and v of momentum and adam cancel where g changes sign)
      const refAbs = Float64Array.from(p, Math.abs);
      const stateAbs = [new Float64Array(n), new Float64Array(n)];
      const movedAbs = new Float64Array(n);
      for (let t = 1; t <= 3; t++) {
        const g = rand(n, seed++, -2, 2);
        const pg = K.put(g);
        const lr = updateScalar({ rule, beta1: o.beta1, beta2: o.beta2 }, { learningRate: o.learningRate, t });
        assert.is(K.k.update_param(pp, pg, ps0, ps1, n, UPDATE_CODES[rule], lr, o.momentum, o.rho, o.beta1, o.beta2, o.epsilon, 1 - o.rho, 1 - o.beta1, 1 - o.beta2), 0);
        const before = Float64Array.from(ref);
        updateRef(rule, ref, g, state, o, t);
        for (let i = 0; i < n; i++) moved[i] += Math.abs(ref[i] - before[i]);
        const beforeAbs = Float64Array.from(refAbs);
        updateRef(rule, refAbs, Float64Array.from(g, Math.abs), stateAbs, o, t);
        for (let i = 0; i < n; i++) movedAbs[i] += Math.abs(refAbs[i] - beforeAbs[i]);
      }
      const label = `${rule} n=${n}`;
      expectClose(K.read(pp, n), ref, (i) => 4 * u * Math.abs(ref[i]) + 64 * u * movedAbs[i] + 1e-30, `${label}: parameter`);
      // the state tensors the rule keeps
      const keeps = { sgd: 0, momentum: 1, nesterov_momentum: 1, adagrad: 1, rmsprop: 1, adadelta: 2, adam: 2, adamax: 2 }[rule];
      for (let s = 0; s < keeps; s++) {
        expectClose(K.read(s === 0 ? ps0 : ps1, n), state[s], (i) => 64 * u * Math.abs(stateAbs[s][i]) + 1e-30, `${label}: state ${s}`);
      }
      // a step the parameter moves by at all (a dropped update would pass the tolerance otherwise)
      assert.ok(moved.every((m) => m > 0), `${label}: the reference moves every element`);
      const drift = K.read(pp, n).some((v, i) => v !== p[i]);
      assert.ok(drift, `${label}: the kernel moved the parameter`);
    }
  }
  assert.is(kernels().k.update_param(16, 32, 48, 64, 1, 8, 0.1, 0, 0, 0, 0, 0, 1, 1, 1), -1, 'unknown rule');
});

Fwd.run();
Tr.run();
