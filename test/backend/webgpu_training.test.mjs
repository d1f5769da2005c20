// The WebGPU training executor (src/backend/webgpu/training.ts, webgpuBackend.prepareTraining) on
// hand-written TrainingPlans (tensors laid out by hand, each at its own 256-byte boundary, scratch
// from webgpuBackend.trainingScratchBytes), run on this machine's WebGPU (SwiftShader on a CPU) and
// compared with the float64 oracles of test/reference/training_ops.mjs, backward.mjs and conv.mjs on
// random inputs: element counts first, then values. Tolerances, stated per test:
// - data moves (copy, weight_form, dropout's kept values) exact; the dropout mask bit for bit
//   against dropoutMaskRef;
// - elementwise maths (activations, softmax, the loss's gradient, update rules) a few float32 ulps
//   relative to the value, plus the absolute error of WGSL's exp and log;
// - sums of N terms (global pool, loss, penalty, conv, weight and bias gradients) tolerance(N, 1,
//   magnitude, value) of test/reference/layers.mjs (any float32 summation order, Higham 3.1), the
//   magnitude being the same sum over absolute values.
// Reductions (loss, penalty) must be deterministic: two runs give the same bits.
//
// Skips, saying why, when the `webgpu` package or an adapter is missing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testDevice, rejects } from './env.mjs';
import { launchOf, prepareWebGpuTraining, webgpuBackend } from '../../dist/backend/webgpu/index.js';
import { weightActsStep } from '../../dist/ops/backward.js';
import { RuntimeError, ValueError } from '../../dist/errors.js';
import {
  activationRef, dropoutMaskRef, globalPoolGradRef, globalPoolRef, lossRef, penaltyRef, softmaxGradRef, softmaxRef, UPDATE_DEFAULTS, updateRef, weightFormRef,
} from '../reference/training_ops.mjs';
import { actGrad, biasGrad, imgActsC01b, kernelGradToParam, maxPoolGradC01b, ninGrad, weightActsC01b } from '../reference/backward.mjs';
import { poolWindows } from '../reference/pool.mjs';
import { filterActsC01b } from '../reference/conv.mjs';
import { nonlinearity, tolerance } from '../reference/layers.mjs';
import { size, rand, expectClose, relative } from '../support/check.mjs';

const { device, reason } = await testDevice();
if (reason) console.log(`  SKIP webgpu training executor: ${reason}`);

const ULP = 2 ** -23;

/** A training plan written by hand: tensors one after another at 256-byte boundaries. */
class PlanBuilder {
  constructor() {
    this.tensors = [];
    this.steps = [];
    this.end = 0;
  }
  tensor(shape) {
    const id = this.tensors.length;
    const bytes = 4 * size(shape);
    this.tensors.push({ id, shape: [...shape], bytes, offset: this.end, batchAxis: -1 });
    this.end += Math.ceil(Math.max(bytes, 4) / 256) * 256;
    return id;
  }
  step(s, phase = 'forward') {
    const index = this.steps.length;
    this.steps.push({ layer: `${s.op}${index}`, ...s, index, phase });
    return index;
  }
  /** The plan, with the scratch the backend asks for laid out after the tensors. */
  async plan({ inputs = [], targets = -1, loss = -1 } = {}) {
    const needs = await webgpuBackend.trainingScratchBytes(this.steps, {});
    assert.is(needs.length, this.steps.length, 'one scratch size per step');
    const steps = this.steps.map((s, i) => (needs[i] > 0 ? { ...s, scratch: this.tensor([needs[i] / 4]) } : s));
    return { tensors: this.tensors, arenaBytes: this.end, alignment: 256, steps, inputs, targets, loss: loss < 0 ? 0 : loss, outputs: [], params: [], digest: 'hand-written' };
  }
}

const prepare = (plan) => prepareWebGpuTraining(plan, { device, cpuVariants: true });
const hyper = (o = {}) => ({ learningRate: 0.1, t: 1, counter: 0, ...o });

const ops = suite('webgpu training executor');

ops('activation, copy, softmax, global_pool and the gradients softmax_grad, global_pool_grad; weight_form in both layouts', async () => {
  if (!device) return;
  const U = 5;
  const B = 3;
  const C = 2;
  const P = 3;
  const pb = new PlanBuilder();
  const x = pb.tensor([U, B]);
  const g = pb.tensor([U, B]);
  const xp = pb.tensor([C, P, B]);
  const gp = pb.tensor([C, B]);
  const kinds = [
    ['sigmoid', []], ['tanh', []], ['scaled_tanh', [0.66, 1.7]], ['rectify', []], ['leaky_rectify', [0.1]], ['elu', []], ['selu', [1.0507, 1.6733]], ['softplus', []], ['linear', []],
  ];
  const acts = kinds.map(([kind, params]) => {
    const out = pb.tensor([U, B]);
    pb.step({ op: 'activation', input: x, output: out, nonlinearity: { kind, params }, count: U * B, batch: B });
    return out;
  });
  const copied = pb.tensor([U * B]);
  pb.step({ op: 'copy', input: x, output: copied, count: U * B, batch: B });
  const sm = pb.tensor([U, B]);
  pb.step({ op: 'softmax', input: x, output: sm, units: U, batch: B });
  const pooled = pb.tensor([C, B]);
  pb.step({ op: 'global_pool', input: xp, output: pooled, channels: C, positions: P, batch: B });
  const dsm = pb.tensor([U, B]);
  pb.step({ op: 'softmax_grad', output: sm, outputGrad: g, inputGrad: dsm, units: U, batch: B }, 'backward');
  const dxp = pb.tensor([C, P, B]);
  pb.step({ op: 'global_pool_grad', outputGrad: gp, inputGrad: dxp, channels: C, positions: P, batch: B }, 'backward');
  const [F, Cw, k] = [4, 3, 3];
  const wf = pb.tensor([F, Cw, k, k]);
  const wc = pb.tensor([Cw, k, k, F]);
  const wfK = pb.tensor([Cw, k, k, F]);
  const wcK = pb.tensor([Cw, k, k, F]);
  pb.step({ op: 'weight_form', input: wf, output: wfK, weightLayout: 'fckk', flipFilters: true, channels: Cw, filterSize: k, filters: F });
  pb.step({ op: 'weight_form', input: wc, output: wcK, weightLayout: 'ckkf', flipFilters: false, channels: Cw, filterSize: k, filters: F });
  const plan = await pb.plan({ inputs: [x, g, xp, gp, wf, wc] });
  const data = [rand(U * B, 1, -4, 4), rand(U * B, 2), rand(C * P * B, 3), rand(C * B, 4), rand(F * Cw * k * k, 5), rand(F * Cw * k * k, 6)];
  // a large logit: the softmax subtracts the maximum
  data[0][0] = 60;
  const t = await prepare(plan);
  try {
    assert.is(t.bytes, plan.arenaBytes, 'the arena is the plan (a multiple of 16 here) and nothing else');
    const out = await t.run(data, hyper(), { update: false, read: [...acts, copied, sm, pooled, dsm, dxp, wfK, wcK] });
    kinds.forEach(([kind, params], i) => {
      const ref = activationRef(kind, params, data[0]);
      // a few ulps of the value, and exp's absolute error (3 + 2|x| ulps) carried through
      expectClose(out[i], ref, (j) => 8 * ULP * Math.abs(ref[j]) + (3 + 2 * Math.abs(data[0][j])) * ULP * 2, `activation ${kind}`);
    });
    let o = kinds.length;
    assert.equal(Array.from(out[o++]), Array.from(data[0]), 'copy is exact');
    const smRef = softmaxRef(data[0], U, B);
    expectClose(out[o++], smRef, (j) => 64 * ULP * Math.abs(smRef[j]) + 1e-9, 'softmax');
    const poolRef = globalPoolRef(data[2], C, P, B);
    const poolMag = globalPoolRef(data[2].map(Math.abs), C, P, B);
    expectClose(out[o++], poolRef, (j) => tolerance(P, 1, poolMag[j], poolRef[j]), 'global_pool');
    // softmax_grad from the device's own softmax output (its arithmetic, not the softmax's error)
    const dsmRef = softmaxGradRef(out[kinds.length + 1], data[1], U, B);
    const dsmMag = softmaxGradRef(out[kinds.length + 1], data[1].map(Math.abs), U, B).map(Math.abs);
    expectClose(out[o++], dsmRef, (j) => tolerance(U + 1, 1, dsmMag[j] + 2 * Math.abs(out[kinds.length + 1][j]), dsmRef[j]), 'softmax_grad');
    expectClose(out[o++], globalPoolGradRef(data[3], C, P, B), (j) => 2 * ULP * Math.abs(data[3][Math.floor(j / (P * B)) * B + (j % B)]), 'global_pool_grad');
    assert.equal(Array.from(out[o++]), Array.from(weightFormRef(data[4], 'fckk', true, Cw, k, F)), 'weight_form fckk flipped is an exact permutation');
    assert.equal(Array.from(out[o++]), Array.from(weightFormRef(data[5], 'ckkf', false, Cw, k, F)), 'weight_form ckkf is an exact copy');
  } finally {
    t.dispose();
  }
});

ops('dropout: the mask is dropoutMaskRef bit for bit, per counter and seed; kept values are x * scale exactly', async () => {
  if (!device) return;
  const n = 1000;
  const p = 0.3;
  const threshold = Math.round(p * 2 ** 24);
  const scale = Math.fround(1 / (1 - p));
  const pb = new PlanBuilder();
  const x = pb.tensor([n]);
  const y1 = pb.tensor([n]);
  const y2 = pb.tensor([n]);
  pb.step({ op: 'dropout', input: x, output: y1, count: n, batch: 10, p, threshold, scale, seed: 1 });
  pb.step({ op: 'dropout', input: x, output: y2, count: n, batch: 10, p, threshold, scale: 1, seed: 0xfffffffe });
  // its gradient: the same step (seed, counter) on the output gradient, in the backward phase
  const dy = pb.tensor([n]);
  const dx = pb.tensor([n]);
  pb.step({ op: 'dropout', input: dy, output: dx, count: n, batch: 10, p, threshold, scale, seed: 1 }, 'backward');
  const plan = await pb.plan({ inputs: [x, dy] });
  const xs = rand(n, 7, 0.5, 1.5);
  const dys = rand(n, 8, 0.5, 1.5);
  const t = await prepare(plan);
  try {
    const masks = [];
    for (const counter of [0, 1, 12345, 0xffffffff]) {
      const [a, b, d] = await t.run([xs, dys], hyper({ counter }), { update: false, read: [y1, y2, dx] });
      for (let i = 0; i < n; i++) {
        const want = a[i] !== 0 ? Math.fround(dys[i] * scale) : 0;
        if (d[i] !== want) assert.unreachable(`counter ${counter}: the gradient's element ${i} is ${d[i]}, expected ${want} (the forward's mask)`);
      }
      for (const [out, seed, s] of [[a, 1, scale], [b, 0xfffffffe, 1]]) {
        const keep = dropoutMaskRef(n, seed, threshold, counter);
        for (let i = 0; i < n; i++) {
          const want = keep[i] ? Math.fround(xs[i] * s) : 0;
          if (out[i] !== want) assert.unreachable(`seed ${seed} counter ${counter}: element ${i} is ${out[i]}, expected ${want} (keep ${keep[i]})`);
        }
        const kept = keep.reduce((m, v) => m + v, 0);
        assert.ok(kept > 0.6 * n && kept < 0.8 * n, `about 70% kept, got ${kept}`);
        masks.push(keep.join(''));
      }
    }
    assert.is(new Set(masks).size, masks.length, 'every counter and seed draws another mask');
  } finally {
    t.dispose();
  }
});

ops('loss: every kind, fused softmax, index and dense targets, mean and sum; penalties add to it; the sums are deterministic', async () => {
  if (!device) return;
  const U = 4;
  const B = 5;
  const pb = new PlanBuilder();
  const logits = pb.tensor([U, B]);
  const probs = pb.tensor([U, B]);
  const scores = pb.tensor([U, B]);
  const dense = pb.tensor([U, B]);
  const binary = pb.tensor([U, B]);
  const index = pb.tensor([B]);
  const cases = [
    { kind: 'categorical_crossentropy', fusedSoftmax: true, targetForm: 'index', aggregate: 'mean', pred: logits },
    { kind: 'categorical_crossentropy', fusedSoftmax: true, targetForm: 'dense', aggregate: 'sum', pred: logits },
    { kind: 'categorical_crossentropy', fusedSoftmax: false, targetForm: 'dense', aggregate: 'mean', pred: probs },
    { kind: 'categorical_crossentropy', fusedSoftmax: false, targetForm: 'index', aggregate: 'sum', pred: probs },
    { kind: 'binary_crossentropy', fusedSoftmax: false, targetForm: 'dense', aggregate: 'mean', pred: probs, bin: true },
    { kind: 'squared_error', fusedSoftmax: false, targetForm: 'dense', aggregate: 'mean', pred: scores },
    { kind: 'squared_error', fusedSoftmax: false, targetForm: 'index', aggregate: 'sum', pred: scores },
    { kind: 'binary_hinge', fusedSoftmax: false, targetForm: 'dense', aggregate: 'mean', pred: scores, bin: true },
    { kind: 'multiclass_hinge', fusedSoftmax: false, targetForm: 'index', aggregate: 'mean', pred: scores },
    { kind: 'multiclass_hinge', fusedSoftmax: false, targetForm: 'dense', aggregate: 'sum', pred: scores },
  ];
  for (const c of cases) {
    c.targets = c.targetForm === 'index' ? index : c.bin ? binary : dense;
    c.grad = pb.tensor([U, B]);
    c.loss = pb.tensor([1]);
    pb.step({ op: 'loss', kind: c.kind, fusedSoftmax: c.fusedSoftmax, prediction: c.pred, targets: c.targets, targetForm: c.targetForm, outputGrad: c.grad, loss: c.loss, units: U, batch: B, aggregate: c.aggregate });
  }
  // two penalties on the first loss (l2 only; l1 and l2), one on the squared error (l1 only)
  const n = 300;
  const pens = [[0, 0.01], [0.002, 0.003], [0.05, 0]].map(([l1, l2], i) => {
    const param = pb.tensor([n]);
    const grad = pb.tensor([n]);
    const loss = cases[i === 2 ? 5 : 0].loss;
    pb.step({ op: 'penalty', param, grad, loss, count: n, l1, l2 }, 'backward');
    return { param, grad, loss, l1, l2 };
  });
  const plan = await pb.plan({ inputs: [logits, probs, scores, dense, binary, index, ...pens.flatMap((q) => [q.param, q.grad])], loss: cases[0].loss });
  const z = rand(U * B, 11, -3, 3);
  z[2] = 80; // a large logit: log-softmax must stay finite
  const pr = Float32Array.from(softmaxRef(rand(U * B, 12, -2, 2), U, B));
  const sc = rand(U * B, 13, -1.5, 1.5);
  // example 0 (target 0): two other classes tie at the maximum; the first one takes the gradient
  sc[1 * B] = 1.75;
  sc[3 * B] = 1.75;
  const dn = Float32Array.from(softmaxRef(rand(U * B, 14, -1, 1), U, B));
  const bn = Float32Array.from(rand(U * B, 15, 0, 1), (v) => (v > 0.5 ? 1 : 0));
  const ix = Float32Array.from([0, 3, 1, 2, 3]);
  const penData = pens.flatMap((q, i) => [rand(n, 20 + i, -1, 1), rand(n, 30 + i, -0.1, 0.1)]);
  penData[0][5] = 0; // sign(0) = 0
  const inputs = [z, pr, sc, dn, bn, ix, ...penData];
  const src = new Map([[logits, z], [probs, pr], [scores, sc], [dense, dn], [binary, bn], [index, ix]]);
  const reads = [...cases.flatMap((c) => [c.loss, c.grad]), ...pens.map((q) => q.grad)];
  const t = await prepare(plan);
  try {
    const out = await t.run(inputs, hyper(), { update: false, read: reads });
    const again = await t.run(inputs, hyper(), { update: false, read: reads });
    out.forEach((a, i) => assert.equal(Array.from(again[i]), Array.from(a), `read ${i} is the same bits on a second run`));
    const penaltyOf = new Map();
    pens.forEach((q, i) => {
      const r = penaltyRef(penData[2 * i], penData[2 * i + 1], q.l1, q.l2);
      penaltyOf.set(q.loss, (penaltyOf.get(q.loss) ?? 0) + r.penalty);
      const mag = penData[2 * i].reduce((s, w) => s + q.l2 * w * w + q.l1 * Math.abs(w), 0);
      q.mag = mag;
      expectClose(out[2 * cases.length + i], r.grad, relative(r.grad, 4 * ULP, 1e-9), `penalty ${i} gradient`);
    });
    cases.forEach((c, i) => {
      const pred = src.get(c.pred);
      const r = lossRef(c, pred, src.get(c.targets), U, B);
      const magRef = lossRef(c, pred, src.get(c.targets), U, B);
      const label = `${c.kind}${c.fusedSoftmax ? ' (fused)' : ''} ${c.targetForm} ${c.aggregate}`;
      const pen = penaltyOf.get(c.loss) ?? 0;
      const penMag = pens.filter((q) => q.loss === c.loss).reduce((s, q) => s + q.mag, 0);
      // U B terms, each with log/exp's error (a few ulps relative, 2^-21 absolute for log near 1)
      const lossTol = tolerance(U * B + n, 1, Math.abs(magRef.loss) + penMag, r.loss) + U * B * 2 ** -20 * (c.aggregate === 'sum' ? 1 : 1 / B);
      expectClose(out[2 * i], [r.loss + pen], lossTol, `${label}: loss`);
      expectClose(out[2 * i + 1], r.grad, (j) => 16 * ULP * Math.abs(r.grad[j]) + 1e-9, `${label}: gradient`);
    });
  } finally {
    t.dispose();
  }
});

ops('update: every rule over 3 steps (adam and adamax bias-corrected per step); update: false leaves parameters alone', async () => {
  if (!device) return;
  const n = 37;
  const lr = 0.05;
  const rules = ['sgd', 'momentum', 'nesterov_momentum', 'adagrad', 'rmsprop', 'adadelta', 'adam', 'adamax'];
  const pb = new PlanBuilder();
  const ups = rules.map((rule) => {
    const states = { sgd: 0, momentum: 1, nesterov_momentum: 1, adagrad: 1, rmsprop: 1, adadelta: 2, adam: 2, adamax: 2 }[rule];
    const param = pb.tensor([n]);
    const grad = pb.tensor([n]);
    const state = Array.from({ length: states }, () => pb.tensor([n]));
    const o = { momentum: 0, rho: 0, beta1: 0, beta2: 0, epsilon: 0, ...UPDATE_DEFAULTS[rule] };
    pb.step({ op: 'update', rule, param, grad, state, count: n, momentum: o.momentum, rho: o.rho, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon }, 'update');
    return { rule, param, grad, state, o };
  });
  const plan = await pb.plan({ inputs: ups.map((u) => u.grad) });
  const t = await prepare(plan);
  try {
    const p64 = ups.map((u, i) => Float64Array.from(rand(n, 40 + i)));
    const s64 = ups.map((u) => u.state.map(() => new Float64Array(n)));
    for (const [i, u] of ups.entries()) await t.write(u.param, Float32Array.from(p64[i]));
    for (let step = 1; step <= 3; step++) {
      const grads = ups.map((u, i) => rand(n, 100 * step + i, -1, 1));
      await t.run(grads, hyper({ learningRate: lr, t: step }), { update: true, read: [] });
      ups.forEach((u, i) => updateRef(u.rule, p64[i], grads[i], s64[i], { ...u.o, learningRate: lr }, step));
    }
    const got = await t.read(ups.flatMap((u) => [u.param, ...u.state]));
    let k = 0;
    ups.forEach((u, i) => {
      // each step's arithmetic in float32: a few ulps of every term, over 3 steps; and the rule's
      // constants are float32 on the device (1 - rho, 1 - beta computed in float64 on the host, as
      // for the C kernels), each off by its own rounding, which moves each step (at most about lr
      // in size, adam's m / sqrt(v) <= (1 - b1) / sqrt(1 - b2) ~ 3.2 times) by that fraction
      const delta = Math.max(0, ...[u.o.momentum, u.o.rho, u.o.beta1, u.o.beta2].filter((h) => h > 0).flatMap((h) => [Math.abs(Math.fround(h) - h) / h, Math.abs(Math.fround(1 - h) - (1 - h)) / (1 - h)]));
      expectClose(got[k++], p64[i], relative(p64[i], 32 * ULP, 32 * ULP * lr + 3 * 4 * lr * delta), `${u.rule}: parameter after 3 steps`);
      u.state.forEach((_, j) => {
        const ref = s64[i][j];
        // a velocity is a difference of terms as large as the state gets: ulps of that scale
        const scale = Math.max(...ref.map(Math.abs));
        expectClose(got[k++], ref, relative(ref, 32 * ULP + 3 * delta, 32 * ULP * scale), `${u.rule}: state ${j} after 3 steps`);
      });
    });
    const before = await t.read(ups.map((u) => u.param));
    await t.run(ups.map(() => rand(n, 9)), hyper({ t: 4 }), { update: false, read: [] });
    const after = await t.read(ups.map((u) => u.param));
    after.forEach((a, i) => assert.equal(Array.from(a), Array.from(before[i]), `${rules[i]}: update false skips the update steps`));
  } finally {
    t.dispose();
  }
});

// B 4: the kernels' vec4 paths; B 3: their scalar paths (both read the weight from the arena)
for (const B of [4, 3]) ops(`tiny conv end to end (batch ${B}): weight_form -> filter_acts -> loss -> bias_act_grad -> weight_acts -> weight_grad_layout, img_acts -> update`, async () => {
  if (!device) return;
  const [C, H, W, F, k, pad, s] = [2, 5, 5, 8, 3, 1, 1];
  const OH = 5;
  const OW = 5;
  const U = F * OH * OW;
  const pb = new PlanBuilder();
  const x = pb.tensor([C, H, W, B]);
  const targets = pb.tensor([U, B]);
  const w = pb.tensor([F, C, k, k]);
  const bias = pb.tensor([F]);
  const wk = pb.tensor([C, k, k, F]);
  const y = pb.tensor([F, OH, OW, B]);
  const loss = pb.tensor([1]);
  const dy = pb.tensor([F, OH, OW, B]);
  const db = pb.tensor([F]);
  const dwk = pb.tensor([C, k, k, F]);
  const dw = pb.tensor([F, C, k, k]);
  const dx = pb.tensor([C, H, W, B]);
  const nl = { kind: 'tanh', params: [] };
  const geo = { channels: C, rows: H, cols: W, batch: B, filters: F, filterSize: k, stride: s, pad, outRows: OH, outCols: OW };
  pb.step({ op: 'weight_form', input: w, output: wk, weightLayout: 'fckk', flipFilters: true, channels: C, filterSize: k, filters: F });
  pb.step({ op: 'filter_acts', input: x, output: y, weight: wk, weightLayout: 'fckk', flipFilters: true, bias, biasMode: 'tied', nonlinearity: nl, ...geo });
  pb.step({ op: 'loss', kind: 'squared_error', fusedSoftmax: false, prediction: y, targets, targetForm: 'dense', outputGrad: dy, loss, units: U, batch: B, aggregate: 'mean' });
  // in place: preActGrad is the output gradient's tensor
  pb.step({ op: 'bias_act_grad', output: y, outputGrad: dy, preActGrad: dy, biasGrad: db, biasMode: 'tied', nonlinearity: nl, units: F, positions: OH * OW, batch: B }, 'backward');
  // partialSum 5 of 25 modules: 5 groups of partial sums in scratch
  const wa = weightActsStep({ layer: 'conv', ...geo }, 5, { input: x, preActGrad: dy, weightGrad: dwk, index: 0 });
  assert.is(wa.groups, 5);
  pb.step({ ...wa, layer: 'conv' }, 'backward');
  pb.step({ op: 'weight_grad_layout', weightGrad: dwk, paramGrad: dw, weightLayout: 'fckk', flipFilters: true, channels: C, filterSize: k, filters: F }, 'backward');
  pb.step({ op: 'img_acts', preActGrad: dy, weight: wk, inputGrad: dx, ...geo }, 'backward');
  const sgd = { momentum: 0, rho: 0, beta1: 0, beta2: 0, epsilon: 0, state: [] };
  pb.step({ op: 'update', rule: 'sgd', param: w, grad: dw, count: F * C * k * k, ...sgd }, 'update');
  pb.step({ op: 'update', rule: 'sgd', param: bias, grad: db, count: F, ...sgd }, 'update');
  const plan = await pb.plan({ inputs: [x, targets], loss });
  assert.ok(plan.steps[4].scratch !== undefined, 'weight_acts got its partial sums as scratch');

  const xs = rand(C * H * W * B, 50);
  const ts = rand(U * B, 51, -0.5, 0.5);
  const ws = rand(F * C * k * k, 52, -0.4, 0.4);
  const bs = rand(F, 53, -0.2, 0.2);
  const lr = 0.5;
  // float64 reference
  const wkRef = weightFormRef(ws, 'fckk', true, C, k, F);
  const img = { data: Float64Array.from(xs), shape: [C, H, W, B] };
  const filt = { data: wkRef, shape: [C, k, k, F] };
  const pre = filterActsC01b(img, filt, pad, s);
  const preMag = filterActsC01b({ data: img.data.map(Math.abs), shape: img.shape }, { data: wkRef.map(Math.abs), shape: filt.shape }, pad, s);
  const yRef = Float64Array.from(pre.data, (v, i) => nonlinearity('tanh', [], v + bs[Math.floor(i / (OH * OW * B))]));
  const lRef = lossRef({ kind: 'squared_error', targetForm: 'dense', aggregate: 'mean' }, yRef, ts, U, B);
  const dz = { data: Float64Array.from(actGrad('tanh', [], { data: yRef, shape: [F, OH, OW, B] }, { data: lRef.grad, shape: [F, OH, OW, B] }).data), shape: [F, OH, OW, B] };
  const dzMag = { data: dz.data.map(Math.abs), shape: dz.shape };
  const dbRef = biasGrad(dz, 'tied').data;
  const dwkRef = weightActsC01b(img, dz, k, pad, s, 5).dw;
  const dwkMag = weightActsC01b({ data: img.data.map(Math.abs), shape: img.shape }, dzMag, k, pad, s, 5).dw.data;
  const dwRef = kernelGradToParam(dwkRef, 'fckk', true).data;
  const dwMag = kernelGradToParam({ data: dwkMag, shape: [C, k, k, F] }, 'fckk', true).data;
  const dxRef = imgActsC01b(dz, filt, pad, s, H, W).data;
  const dxMag = imgActsC01b(dzMag, { data: wkRef.map(Math.abs), shape: filt.shape }, pad, s, H, W).data;

  const t = await prepare(plan);
  try {
    await t.write(w, ws);
    await t.write(bias, bs);
    // gradients only, twice: the reductions (loss, bias sums, weight_acts' partial sums) give the same bits
    const g1 = await t.run([xs, ts], hyper(), { update: false, read: [loss, db, dw, dx] });
    const g2 = await t.run([xs, ts], hyper(), { update: false, read: [loss, db, dw, dx] });
    g1.forEach((a, i) => assert.equal(Array.from(g2[i]), Array.from(a), `gradient read ${i} is deterministic`));
    const [yOut, lossOut, dbOut, dwOut, dxOut, wkOut] = await t.run([xs, ts], hyper({ learningRate: lr }), { update: true, read: [y, loss, db, dw, dx, wk] });
    assert.equal(Array.from(dwOut), Array.from(g1[2]), 'the update: false runs left the parameters alone');
    assert.equal(Array.from(wkOut), Array.from(Float32Array.from(wkRef)), 'weight_form wrote the kernel form');
    // tanh is 1-Lipschitz: the pre-activation's error bounds the output's, plus tanh's own few ulps
    const K = C * k * k;
    expectClose(yOut, yRef, (i) => tolerance(K + 1, 1, preMag.data[i] + Math.abs(bs[Math.floor(i / (OH * OW * B))]), yRef[i]) + 8 * ULP, 'forward output');
    const yErr = (i) => tolerance(K + 1, 1, preMag.data[i] + 1, yRef[i]) + 8 * ULP;
    // the loss and the gradients carry the forward's error: bound it by the error of y times their sensitivity
    let lossMag = 0;
    for (let i = 0; i < U * B; i++) lossMag += (Math.abs(yRef[i] - ts[i]) + yErr(i)) ** 2 - (yRef[i] - ts[i]) ** 2;
    expectClose(lossOut, [lRef.loss], tolerance(U * B, 1, lRef.loss, lRef.loss) + lossMag / (U * B), 'loss');
    const dzErr = Math.max(...Array.from({ length: U * B }, (_, i) => yErr(i))) * 2 / (U * B) * 3;
    expectClose(dbOut, dbRef, (f) => tolerance(OH * OW * B, 1, biasGrad(dzMag, 'tied').data[f], dbRef[f]) + OH * OW * B * dzErr, 'bias gradient');
    const xMax = Math.max(...xs.map(Math.abs));
    const wMax = Math.max(...ws.map(Math.abs));
    // the weight gradient (to the parameter layout, then updated): w' = w - lr dw
    const wNew = await t.read([w, bias]);
    expectClose(dwOut, dwRef, (i) => tolerance(OH * OW * B, 1, dwMag[i], dwRef[i]) + OH * OW * B * xMax * dzErr, 'weight gradient (parameter layout)');
    expectClose(dxOut, dxRef, (i) => tolerance(F * k * k, 1, dxMag[i], dxRef[i]) + F * k * k * wMax * dzErr, 'input gradient (img_acts, weight read from the arena)');
    expectClose(wNew[0], Float64Array.from(ws, (v, i) => v - lr * dwOut[i]), (i) => 2 * ULP * (Math.abs(ws[i]) + lr * Math.abs(dwOut[i])), 'sgd on the weight');
    expectClose(wNew[1], Float64Array.from(bs, (v, i) => v - lr * dbOut[i]), (i) => 2 * ULP * (Math.abs(bs[i]) + lr * Math.abs(dbOut[i])), 'sgd on the bias');
  } finally {
    t.dispose();
  }
});

ops('dense layer end to end: transpose -> nin (weight and bias from the arena) -> fused softmax loss -> bias_act_grad -> nin_grad_weight, nin_grad_input -> transpose -> momentum', async () => {
  if (!device) return;
  const [C, U, B] = [6, 3, 5];
  const pb = new PlanBuilder();
  const x = pb.tensor([C, B]);
  const targets = pb.tensor([B]);
  const w = pb.tensor([C, U]);
  const bias = pb.tensor([U]);
  const wuc = pb.tensor([U, C]);
  const z = pb.tensor([U, B]);
  const loss = pb.tensor([1]);
  const dz = pb.tensor([U, B]);
  const db = pb.tensor([U]);
  const dwuc = pb.tensor([U, C]);
  const dw = pb.tensor([C, U]);
  const dx = pb.tensor([C, B]);
  const vw = pb.tensor([C, U]);
  const vb = pb.tensor([U]);
  const lin = { kind: 'linear', params: [] };
  pb.step({ op: 'transpose', input: w, output: wuc, perm: [1, 2, 3, 0], inShape: [C, U, 1, 1] });
  pb.step({ op: 'nin', input: x, output: z, weight: wuc, bias, biasMode: 'tied', nonlinearity: lin, channels: C, units: U, positions: 1, batch: B, weightLayout: 'cu' });
  pb.step({ op: 'loss', kind: 'categorical_crossentropy', fusedSoftmax: true, prediction: z, targets, targetForm: 'index', outputGrad: dz, loss, units: U, batch: B, aggregate: 'mean' });
  pb.step({ op: 'bias_act_grad', output: z, outputGrad: dz, preActGrad: dz, biasGrad: db, biasMode: 'tied', nonlinearity: lin, units: U, positions: 1, batch: B }, 'backward');
  pb.step({ op: 'nin_grad_weight', input: x, preActGrad: dz, weightGrad: dwuc, channels: C, units: U, positions: 1, batch: B }, 'backward');
  pb.step({ op: 'nin_grad_input', preActGrad: dz, weight: wuc, inputGrad: dx, channels: C, units: U, positions: 1, batch: B }, 'backward');
  pb.step({ op: 'transpose', input: dwuc, output: dw, perm: [3, 0, 1, 2], inShape: [U, 1, 1, C] }, 'backward');
  const mom = { rho: 0, beta1: 0, beta2: 0, epsilon: 0, momentum: 0.9 };
  pb.step({ op: 'update', rule: 'momentum', param: w, grad: dw, state: [vw], count: C * U, ...mom }, 'update');
  pb.step({ op: 'update', rule: 'momentum', param: bias, grad: db, state: [vb], count: U, ...mom }, 'update');
  const plan = await pb.plan({ inputs: [x, targets], loss });
  const xs = rand(C * B, 60);
  const ts = Float32Array.from([2, 0, 1, 1, 2]);
  const ws = rand(C * U, 61);
  const bs = rand(U, 62, -0.5, 0.5);
  const wucRef = new Float64Array(U * C);
  for (let c = 0; c < C; c++) for (let u = 0; u < U; u++) wucRef[u * C + c] = ws[c * U + u];
  const zRef = new Float64Array(U * B);
  const zMag = new Float64Array(U * B);
  for (let u = 0; u < U; u++) for (let b = 0; b < B; b++) {
    zRef[u * B + b] = bs[u];
    zMag[u * B + b] = Math.abs(bs[u]);
    for (let c = 0; c < C; c++) {
      zRef[u * B + b] += wucRef[u * C + c] * xs[c * B + b];
      zMag[u * B + b] += Math.abs(wucRef[u * C + c] * xs[c * B + b]);
    }
  }
  const lRef = lossRef({ kind: 'categorical_crossentropy', fusedSoftmax: true, targetForm: 'index', aggregate: 'mean' }, zRef, ts, U, B);
  const g = ninGrad({ data: Float64Array.from(xs), shape: [C, B] }, { data: wucRef, shape: [U, C] }, { data: lRef.grad, shape: [U, B] });
  const lr = 0.1;
  const t = await prepare(plan);
  try {
    await t.write(w, ws);
    await t.write(bias, bs);
    const [zOut, lOut, dbOut, dwOut, dxOut] = await t.run([xs, ts], hyper({ learningRate: lr }), { update: true, read: [z, loss, db, dw, dx] });
    expectClose(zOut, zRef, (i) => tolerance(C + 1, 1, zMag[i], zRef[i]), 'nin forward (weight and bias from the arena)');
    const zErr = Math.max(...Array.from(zRef, (v, i) => tolerance(C + 1, 1, zMag[i], v)));
    // d loss / d z is 1/B-Lipschitz in each logit (softmax), d loss / d z is bounded by 1/B
    expectClose(lOut, [lRef.loss], 2 * zErr + 64 * ULP * lRef.loss, 'loss');
    const gErr = (2 * zErr) / B + 16 * ULP / B;
    expectClose(dbOut, biasGrad({ data: lRef.grad, shape: [U, B] }, 'tied').data, B * gErr + 8 * ULP, 'bias gradient');
    const dwRef = new Float64Array(C * U);
    for (let c = 0; c < C; c++) for (let u = 0; u < U; u++) dwRef[c * U + u] = g.dw.data[u * C + c];
    expectClose(dwOut, dwRef, B * gErr + 8 * ULP, 'weight gradient (nin_grad_weight, transposed back)');
    expectClose(dxOut, g.dx.data, U * gErr + 8 * ULP, 'input gradient (nin_grad_input, weight read from the arena)');
    const [wNew, vNew] = await t.read([w, vw]);
    expectClose(vNew, Float64Array.from(dwOut, (v) => -lr * v), (i) => 2 * ULP * lr * Math.abs(dwOut[i]), 'momentum velocity');
    expectClose(wNew, Float64Array.from(ws, (v, i) => v - lr * dwOut[i]), (i) => 2 * ULP * (Math.abs(ws[i]) + lr * Math.abs(dwOut[i])), 'momentum step');
  } finally {
    t.dispose();
  }
});

ops('max_pool -> max_pool_grad in a training plan (partial windows, every tied maximum gets the gradient)', async () => {
  if (!device) return;
  const [C, H, W, B, P, st] = [3, 5, 5, 3, 3, 2];
  const rows = poolWindows(H, P, st);
  const cols = poolWindows(W, P, st);
  const [R, S] = [rows.length, cols.length];
  const pb = new PlanBuilder();
  const x = pb.tensor([C, H, W, B]);
  const y = pb.tensor([C, R, S, B]);
  const dy = pb.tensor([C, R, S, B]);
  const dx = pb.tensor([C, H, W, B]);
  const geo = { channels: C, rows: H, cols: W, batch: B, poolSize: P, stride: st, outRows: R, outCols: S };
  pb.step({ op: 'max_pool', input: x, output: y, ...geo });
  pb.step({ op: 'max_pool_grad', input: x, output: y, outputGrad: dy, inputGrad: dx, ...geo }, 'backward');
  const plan = await pb.plan({ inputs: [x, dy] });
  // values on a coarse grid: ties inside windows
  const xs = Float32Array.from(rand(C * H * W * B, 70, 0, 4), Math.floor);
  const dys = rand(C * R * S * B, 71);
  const at = (c, yy, xx, b) => ((c * H + yy) * W + xx) * B + b;
  const yRef = new Float64Array(C * R * S * B);
  for (let c = 0; c < C; c++) for (let oy = 0; oy < R; oy++) for (let ox = 0; ox < S; ox++) for (let b = 0; b < B; b++) {
    let m = -Infinity;
    for (const yy of rows[oy]) for (const xx of cols[ox]) m = Math.max(m, xs[at(c, yy, xx, b)]);
    yRef[((c * R + oy) * S + ox) * B + b] = m;
  }
  const dxRef = maxPoolGradC01b({ data: xs, shape: [C, H, W, B] }, { data: dys, shape: [C, R, S, B] }, P, st).data;
  const t = await prepare(plan);
  try {
    const [yOut, dxOut] = await t.run([xs, dys], hyper(), { update: false, read: [y, dx] });
    assert.equal(Array.from(yOut), Array.from(yRef), 'max_pool is exact');
    // at most ceil(P / s)^2 = 4 windows add into one input
    expectClose(dxOut, dxRef, (i) => tolerance(4, 1, 4 * Math.max(...dys.map(Math.abs)), dxRef[i]), 'max_pool_grad');
  } finally {
    t.dispose();
  }
});

ops('filter_acts with split K (the GPU tiles) in a training plan: weight and bias from the arena, partial sums in the scratch trainingScratchBytes asked for', async () => {
  if (!device) return;
  const [C, H, W, B, F, k] = [48, 3, 3, 4, 16, 3];
  const pb = new PlanBuilder();
  const x = pb.tensor([C, H, W, B]);
  const wk = pb.tensor([C, k, k, F]);
  const bias = pb.tensor([F]);
  const y = pb.tensor([F, 1, 1, B]);
  const nl = { kind: 'leaky_rectify', params: [0.1] };
  pb.step({ op: 'filter_acts', input: x, output: y, weight: wk, weightLayout: 'ckkf', flipFilters: false, bias, biasMode: 'tied', nonlinearity: nl, channels: C, rows: H, cols: W, batch: B, filters: F, filterSize: k, stride: 1, pad: 0, outRows: 1, outCols: 1 });
  const plan = await pb.plan({ inputs: [x, wk, bias] });
  assert.ok(plan.steps[0].scratch !== undefined, 'K = 432 with 1 tile: a GPU splits it, so the plan holds the partial sums');
  const l = device.limits;
  const launch = launchOf(plan, plan.steps[0], {
    minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    wholeArena: Math.ceil(plan.arenaBytes / 16) * 16,
  });
  assert.ok(launch.constants.SPLIT > 1 && launch.constants.W_ARENA === 1 && launch.then?.[0]?.entryPoint === 'split_sum', `split K on this device: ${JSON.stringify(launch.constants)}`);
  const xs = rand(C * H * W * B, 80);
  const ws = rand(C * k * k * F, 81, -0.2, 0.2);
  const bs = rand(F, 82, -0.5, 0.5);
  const pre = filterActsC01b({ data: Float64Array.from(xs), shape: [C, H, W, B] }, { data: Float64Array.from(ws), shape: [C, k, k, F] }, 0, 1);
  const mag = filterActsC01b({ data: Float64Array.from(xs, Math.abs), shape: [C, H, W, B] }, { data: Float64Array.from(ws, Math.abs), shape: [C, k, k, F] }, 0, 1);
  const yRef = Float64Array.from(pre.data, (v, i) => nonlinearity('leaky_rectify', [0.1], v + bs[Math.floor(i / B)]));
  const t = await prepareWebGpuTraining(plan, { device, cpuVariants: false });
  try {
    const [yOut] = await t.run([xs, ws, bs], hyper(), { update: false, read: [y] });
    expectClose(yOut, yRef, (i) => tolerance(C * k * k + 1, 1, mag.data[i] + Math.abs(bs[Math.floor(i / B)]), yRef[i]), 'split-K filter_acts');
  } finally {
    t.dispose();
  }
});

ops('bad calls are refused with errors that name the argument; a disposed plan rejects', async () => {
  if (!device) return;
  const pb = new PlanBuilder();
  const x = pb.tensor([4]);
  const y = pb.tensor([4]);
  pb.step({ op: 'copy', input: x, output: y, count: 4, batch: 1 });
  const plan = await pb.plan({ inputs: [x] });
  await rejects(() => prepare({ ...plan, steps: [{ ...plan.steps[0], count: 5 }] }), (e) => e instanceof ValueError && /copy/.test(e.message) && /5/.test(e.message), 'a count that does not match the tensors');
  await rejects(
    () => prepare({ ...plan, steps: [{ op: 'update', index: 0, layer: 'u', phase: 'update', rule: 'adam', param: x, grad: y, state: [x], count: 4, momentum: 0, rho: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }] }),
    (e) => e instanceof ValueError && /adam/.test(e.message) && /state/.test(e.message),
    'adam with one state tensor',
  );
  await rejects(() => prepare({ ...plan, steps: [{ op: 'frobnicate', index: 0, layer: 'f', phase: 'forward', input: x, output: y }] }), (e) => e instanceof ValueError && /frobnicate/.test(e.message), 'an unknown op');
  const t = await prepare(plan);
  await rejects(() => t.run([new Float32Array(3)], hyper(), { update: false, read: [] }), (e) => e instanceof ValueError && /input 0/.test(e.message) && /4/.test(e.message), 'a short input');
  await rejects(() => t.run([new Float32Array(4)], hyper({ counter: -1 }), { update: false, read: [] }), (e) => e instanceof ValueError && /counter/.test(e.message), 'a negative counter');
  await rejects(() => t.run([new Float32Array(4)], hyper(), { update: false, read: [7] }), (e) => e instanceof ValueError && /read/.test(e.message) && /7/.test(e.message), 'reading a tensor that does not exist');
  await rejects(() => t.write(y, new Float32Array(2)), (e) => e instanceof ValueError && /tensor 1/.test(e.message), 'a short write');
  const [out] = await t.run([Float32Array.from([1, 2, 3, 4])], hyper(), { update: false, read: [y] });
  assert.equal(Array.from(out), [1, 2, 3, 4]);
  t.dispose();
  await rejects(() => t.read([y]), (e) => e instanceof RuntimeError && /disposed/.test(e.message), 'a disposed plan');
});

ops('trainingScratchBytes: weight_acts partial sums and split slices, nin_grad_weight K slices, bias_act_grad segment sums; none for the new ops', async () => {
  const geo = { layer: 'c', channels: 3, rows: 8, cols: 8, batch: 4, filters: 16, filterSize: 3, stride: 1, pad: 1, outRows: 8, outCols: 8 };
  const wa = { ...weightActsStep(geo, 4, { input: 0, preActGrad: 1, weightGrad: 2, index: 0 }), phase: 'backward' };
  const needs = await webgpuBackend.trainingScratchBytes([
    wa,
    { op: 'nin_grad_weight', index: 1, layer: 'n', phase: 'backward', input: 0, preActGrad: 1, weightGrad: 2, channels: 4, units: 4, positions: 64, batch: 128 },
    { op: 'bias_act_grad', index: 2, layer: 'b', phase: 'backward', output: 0, outputGrad: 1, preActGrad: 1, biasGrad: 2, biasMode: 'tied', nonlinearity: { kind: 'linear', params: [] }, units: 4, positions: 64, batch: 128 },
    { op: 'loss', index: 3, layer: 'l', phase: 'forward', kind: 'squared_error', fusedSoftmax: false, prediction: 0, targets: 1, targetForm: 'dense', outputGrad: 2, loss: 3, units: 4, batch: 4, aggregate: 'mean' },
    { op: 'softmax', index: 4, layer: 's', phase: 'forward', input: 0, output: 1, units: 4, batch: 4 },
  ], {});
  assert.ok(needs[0] >= wa.scratchBytes && needs[0] > 0, `weight_acts: at least its ${wa.scratchBytes} bytes of partial sums, got ${needs[0]}`);
  assert.ok(needs[1] > 0, 'nin_grad_weight over 8192 columns is cut into K slices');
  assert.is(needs[2], 4 * 4 * 2, 'bias_act_grad: 2 segments of 4096 per unit');
  assert.equal(needs.slice(3), [0, 0]);
});

ops.run();
