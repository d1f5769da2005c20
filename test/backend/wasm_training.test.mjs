// The WASM backend's training executor (src/backend/wasm/training.ts, wasmBackend.prepareTraining)
// on hand-written TrainingPlans (tensors laid out here, scratch from wasmBackend.trainingScratchBytes),
// compared with the float64 oracles of test/reference/training_ops.mjs and backward.mjs: every
// update rule over 3 runs (updateRef), the dropout mask bit for bit in a plan and its gradient,
// softmax + activation + copy with their gradients against finite differences, the loss kinds
// through a plan, and a tiny conv network end to end (weight_form -> filter_acts -> max_pool ->
// global_pool -> dense -> fused softmax loss and back through every backward op -> penalty ->
// adam), its gradients against central finite differences of a float64 forward written here.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rejects } from './env.mjs';
import { wasmBackend, kernelsModule } from '../../dist/backend/wasm/index.js';
import { weightActsStep } from '../../dist/ops/backward.js';
import { splitTraining } from '../../dist/backend/wasm/training_threads.js';
import { RuntimeError, ValueError } from '../../dist/errors.js';
import { dropoutMaskRef, lossRef, softmaxRef, updateRef, UPDATE_DEFAULTS, weightFormRef } from '../reference/training_ops.mjs';
import { filterActsC01b } from '../reference/conv.mjs';
import { mulberry32 } from '../reference/random.mjs';
import { size, rand, expectClose, expectExact } from '../support/check.mjs';

const u = 2 ** -24;
const available = await wasmBackend.available();
if (!available) {
  const reason = await kernelsModule().then(() => 'no WebAssembly SIMD', (e) => e.message);
  const s = suite('wasm training');
  s(`skipped: the WASM backend is not available here (${reason})`, () => console.log(`  SKIP wasm training: ${reason}`));
  s.run();
}

/**
 * A training plan from named tensor shapes and steps (fields name tensors by name): ids in the
 * order of `shapes`, then each step's scratch (wasmBackend.trainingScratchBytes), offsets
 * 16-byte aligned one after the other. Returns { plan, id(name) }.
 */
async function trainingPlan(shapes, steps, { inputs, targets, loss, outputs = [], params = [], inputGrad } = {}) {
  const names = Object.keys(shapes);
  const id = (n) => {
    if (typeof n === 'number') return n;
    const i = names.indexOf(n);
    if (i < 0) throw new Error(`test: no tensor ${n}`);
    return i;
  };
  const tensorFields = ['input', 'output', 'weight', 'bias', 'prediction', 'targets', 'outputGrad', 'loss', 'param', 'grad', 'preActGrad', 'biasGrad', 'inputGrad', 'weightGrad', 'paramGrad'];
  const full = steps.map((s, index) => {
    const t = { layer: `l${index}`, index, phase: 'forward', ...s };
    for (const f of tensorFields) if (typeof t[f] === 'string') t[f] = id(t[f]);
    if (Array.isArray(t.state)) t.state = t.state.map(id);
    return t;
  });
  const shapeList = names.map((n) => shapes[n]);
  const scratch = await wasmBackend.trainingScratchBytes(full, {});
  assert.is(scratch.length, full.length, 'one scratch size per step');
  full.forEach((s, i) => {
    if (scratch[i] > 0) {
      shapeList.push([Math.ceil(scratch[i] / 4)]);
      s.scratch = shapeList.length - 1;
    }
  });
  let offset = 0;
  const tensors = shapeList.map((shape, i) => {
    const bytes = 4 * size(shape);
    const t = { id: i, shape, bytes, offset };
    offset += Math.ceil(bytes / 16) * 16;
    return t;
  });
  const plan = {
    tensors, arenaBytes: offset, alignment: 16, steps: full,
    inputs: inputs.map(id), targets: targets === undefined ? id(inputs[inputs.length - 1]) : id(targets), loss: loss === undefined ? 0 : id(loss),
    outputs: outputs.map(id),
    params: params.map((p) => ({ name: p.name, shape: shapes[p.value], value: id(p.value), grad: id(p.grad), state: (p.state ?? []).map(id), regularizable: true })),
    ...(inputGrad === undefined ? {} : { inputGrad: id(inputGrad) }),
    digest: 'test',
  };
  return { plan, id };
}

const hyper = (t = 1, counter = 0, learningRate = 0.01) => ({ learningRate, t, counter });

const Update = suite('wasm training: update rules');

// Three runs per rule, each writing a fresh gradient, against updateRef in float64 from the same
// float32 start; tolerances as in wasm_training_kernels.test.mjs: 4 u |p| + 64 u sum |increment|
// and 64 u |state|, with increments and state of the same rule run on |g| (the magnitudes).
Update('all 8 rules over 3 runs: parameter and state; update: false leaves them alone', async () => {
  let seed = 1;
  const n = 7;
  for (const rule of ['sgd', 'momentum', 'nesterov_momentum', 'adagrad', 'rmsprop', 'adadelta', 'adam', 'adamax']) {
    const o = { learningRate: 0.05, momentum: 0, rho: 0, beta1: 0, beta2: 0, epsilon: 0, ...UPDATE_DEFAULTS[rule] };
    const keeps = { sgd: 0, momentum: 1, nesterov_momentum: 1, adagrad: 1, rmsprop: 1, adadelta: 2, adam: 2, adamax: 2 }[rule];
    const shapes = { p: [n], g: [n], s0: [n], s1: [n], loss: [1] };
    const state = ['s0', 's1'].slice(0, keeps);
    const { plan, id } = await trainingPlan(shapes, [
      { op: 'update', phase: 'update', rule, param: 'p', grad: 'g', state, count: n, momentum: o.momentum, rho: o.rho, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon },
    ], { inputs: ['g'], loss: 'loss', params: [{ name: 'p', value: 'p', grad: 'g', state }] });
    const tr = await wasmBackend.prepareTraining(plan, { threads: 1 });
    assert.is(tr.bytes, plan.arenaBytes);
    const p0 = rand(n, seed++);
    await tr.write(id('p'), p0);
    const ref = Float64Array.from(p0);
    const st = [new Float64Array(n), new Float64Array(n)];
    const refAbs = Float64Array.from(p0, Math.abs);
    const stAbs = [new Float64Array(n), new Float64Array(n)];
    const movedAbs = new Float64Array(n);
    for (let t = 1; t <= 3; t++) {
      const g = rand(n, seed++, -2, 2);
      // a gradients-only run first: nothing moves
      const [before] = await tr.run([g], hyper(t, 0, o.learningRate), { update: false, read: [id('p')] });
      const [after, s0, s1] = await tr.run([g], hyper(t, 0, o.learningRate), { update: true, read: [id('p'), id('s0'), id('s1')] });
      updateRef(rule, ref, g, st, o, t);
      const b = Float64Array.from(refAbs);
      updateRef(rule, refAbs, Float64Array.from(g, Math.abs), stAbs, o, t);
      for (let i = 0; i < n; i++) movedAbs[i] += Math.abs(refAbs[i] - b[i]);
      if (t === 1) expectExact(before, p0, `${rule}: update false`);
      expectClose(after, ref, (i) => 4 * u * Math.abs(ref[i]) + 64 * u * movedAbs[i] + 1e-30, `${rule} run ${t}: parameter`);
      [s0, s1].slice(0, keeps).forEach((s, k) => expectClose(s, st[k], (i) => 64 * u * Math.abs(stAbs[k][i]) + 1e-30, `${rule} run ${t}: state ${k}`));
    }
    tr.dispose();
  }
});

const Ops = suite('wasm training: forward ops and their gradients');

Ops('dropout in a plan: the mask bit for bit against dropoutMaskRef per counter, the gradient the same mask', async () => {
  const U = 6;
  const B = 5;
  const p = 0.4;
  const threshold = Math.round(p * 2 ** 24);
  const scale = 1 / (1 - p);
  const seed = 0xabcdef12;
  const drop = (input, output, phase) => ({ op: 'dropout', phase, input, output, count: U * B, batch: B, p, threshold, scale, seed });
  const { plan, id } = await trainingPlan(
    { x: [U, B], y: [U, B], t: [U, B], dy: [U, B], dx: [U, B], loss: [1] },
    [
      drop('x', 'y', 'forward'),
      { op: 'loss', kind: 'squared_error', fusedSoftmax: false, prediction: 'y', targets: 't', targetForm: 'dense', outputGrad: 'dy', loss: 'loss', units: U, batch: B, aggregate: 'sum' },
      drop('dy', 'dx', 'backward'),
    ],
    { inputs: ['x', 't'], loss: 'loss', outputs: ['y'], inputGrad: 'dx' },
  );
  const tr = await wasmBackend.prepareTraining(plan, {});
  const x = rand(U * B, 5);
  const t = rand(U * B, 6);
  const masks = [];
  for (const counter of [0, 1, 2 ** 32 - 1]) {
    const [y, dy, dx, loss] = await tr.run([x, t], hyper(1, counter), { update: true, read: [id('y'), id('dy'), id('dx'), id('loss')] });
    const mask = dropoutMaskRef(U * B, seed, threshold, counter);
    masks.push(mask.join(''));
    const fscale = Math.fround(scale);
    expectExact(y, Float32Array.from(x, (v, i) => (mask[i] ? Math.fround(v * fscale) : 0)), `y counter ${counter}`);
    expectExact(dx, Float32Array.from(dy, (v, i) => (mask[i] ? Math.fround(v * fscale) : 0)), `dx counter ${counter}`);
    const ref = lossRef({ kind: 'squared_error', aggregate: 'sum' }, y, t, U, B);
    assert.ok(Math.abs(loss[0] - ref.loss) <= 4 * u * ref.loss, `loss ${loss[0]} vs ${ref.loss}`);
  }
  assert.is(new Set(masks).size, 3, 'each counter draws its own mask');
  tr.dispose();
});

/** Central differences of a float64 function of one array, at every element. */
function finiteDifferences(f, x, h = 1e-6) {
  const base = Float64Array.from(x);
  return Float64Array.from(base, (v, i) => {
    const a = Float64Array.from(base);
    a[i] = v + h;
    const up = f(a);
    a[i] = v - h;
    return (up - f(a)) / (2 * h);
  });
}

Ops('activation -> copy -> softmax -> categorical cross-entropy (dense, unfused) and back: softmax_grad, copy, bias_act_grad; input gradient vs finite differences', async () => {
  const U = 4;
  const B = 3;
  const { plan, id } = await trainingPlan(
    { x: [U, B], a: [U, B], c: [U, 1, B], p: [U, B], t: [U, B], dp: [U, B], dc: [U, B], da: [U, 1, B], dx: [U, B], loss: [1] },
    [
      { op: 'activation', input: 'x', output: 'a', nonlinearity: { kind: 'sigmoid', params: [] }, count: U * B, batch: B },
      { op: 'copy', input: 'a', output: 'c', count: U * B, batch: B },
      { op: 'softmax', input: 'c', output: 'p', units: U, batch: B },
      { op: 'loss', kind: 'categorical_crossentropy', fusedSoftmax: false, prediction: 'p', targets: 't', targetForm: 'dense', outputGrad: 'dp', loss: 'loss', units: U, batch: B, aggregate: 'mean' },
      { op: 'softmax_grad', phase: 'backward', output: 'p', outputGrad: 'dp', inputGrad: 'dc', units: U, batch: B },
      { op: 'copy', phase: 'backward', input: 'dc', output: 'da', count: U * B, batch: B },
      { op: 'bias_act_grad', phase: 'backward', output: 'a', outputGrad: 'da', preActGrad: 'dx', biasGrad: -1, biasMode: 'none', nonlinearity: { kind: 'sigmoid', params: [] }, units: U, positions: 1, batch: B },
    ],
    { inputs: ['x', 't'], loss: 'loss', outputs: ['p'], inputGrad: 'dx' },
  );
  const tr = await wasmBackend.prepareTraining(plan, {});
  const x = rand(U * B, 21, -2, 2);
  const t = Float32Array.from(softmaxRef(rand(U * B, 22, -1, 1), U, B));
  const [p, loss, dx] = await tr.run([x, t], hyper(), { update: false, read: [id('p'), id('loss'), id('dx')] });
  const forward = (xs) => {
    const a = Float64Array.from(xs, (v) => 1 / (1 + Math.exp(-v)));
    return lossRef({ kind: 'categorical_crossentropy', aggregate: 'mean' }, softmaxRef(a, U, B), t, U, B).loss;
  };
  const pRef = softmaxRef(Float64Array.from(x, (v) => 1 / (1 + Math.exp(-v))), U, B);
  expectClose(p, pRef, (i) => 32 * u * pRef[i], 'softmax of the activation');
  assert.ok(Math.abs(loss[0] - forward(x)) <= 64 * u * Math.abs(forward(x)), `loss ${loss[0]} vs ${forward(x)}`);
  // float32 through softmax, its gradient and the sigmoid's: 2e-6 of the largest gradient element
  // (central differences in float64 with h = 1e-6 err by about 1e-10)
  const fd = finiteDifferences(forward, x);
  const big = Math.max(...fd.map(Math.abs));
  if (process.env.PROBE) console.log('dx', Math.max(...dx.map((v, i) => Math.abs(v - fd[i]))) / big);
  expectClose(dx, fd, () => 2e-6 * big, 'input gradient');
  tr.dispose();
});

Ops('every loss kind through a plan, index and dense targets; bad index targets are a ValueError naming the targets', async () => {
  const U = 3;
  const B = 4;
  let seed = 40;
  for (const kind of ['categorical_crossentropy', 'binary_crossentropy', 'squared_error', 'binary_hinge', 'multiclass_hinge'])
    for (const targetForm of ['index', 'dense']) {
      const fused = kind === 'categorical_crossentropy';
      const { plan, id } = await trainingPlan(
        { z: [U, B], t: targetForm === 'index' ? [B] : [U, B], dz: [U, B], loss: [1] },
        [{ op: 'loss', kind, fusedSoftmax: fused, prediction: 'z', targets: 't', targetForm, outputGrad: 'dz', loss: 'loss', units: U, batch: B, aggregate: 'mean' }],
        { inputs: ['z', 't'], loss: 'loss' },
      );
      const tr = await wasmBackend.prepareTraining(plan, {});
      const z = kind === 'binary_crossentropy' ? rand(U * B, seed++, 0.1, 0.9) : rand(U * B, seed++, -2, 2);
      const next = mulberry32(seed++);
      const t = targetForm === 'index' ? Float32Array.from({ length: B }, () => Math.floor(next() * U)) : Float32Array.from({ length: U * B }, () => (next() < 0.5 ? 0 : 1));
      const [loss, dz] = await tr.run([z, t], hyper(), { update: false, read: [id('loss'), id('dz')] });
      const ref = lossRef({ kind, fusedSoftmax: fused, targetForm, aggregate: 'mean' }, z, t, U, B);
      const label = `${kind} ${targetForm}`;
      assert.ok(Math.abs(loss[0] - ref.loss) <= 4 * u * Math.abs(ref.loss) + 1e-12, `${label}: loss ${loss[0]} vs ${ref.loss}`);
      expectClose(dz, ref.grad, (i) => 2 * u * Math.abs(ref.grad[i]) + 1e-37, `${label}: gradient`);
      if (targetForm === 'index') {
        const bad = Float32Array.from(t);
        bad[2] = U;
        await rejects(() => tr.run([z, bad], hyper(), { update: false, read: [] }), (e) => e instanceof ValueError && /targets/.test(e.message) && /\[0, 3\)/.test(e.message) && /holds 3/.test(e.message), label);
        // the queue goes on after a failed run
        const [again] = await tr.run([z, t], hyper(), { update: false, read: [id('loss')] });
        expectExact(again, loss, `${label}: after a failed run`);
      }
      tr.dispose();
    }
});

// ---------------------------------------------------------------- end to end

const C = 2, H = 5, Wd = 5, B = 3, F = 6, k = 3, pad = 1, stride = 1, R = 5, S = 5, PS = 2, PR = 3, PC = 3, U = 5;
const L2 = 1e-3;

/** The tiny network in float64: loss (with the l2 penalty on W1) of x, W1 (F, C, k, k), b1, W2 (F, U), b2, targets. */
function networkLoss({ x, W1, b1, W2, b2 }, targets) {
  const K1 = weightFormRef(W1, 'fckk', true, C, k, F);
  const conv = filterActsC01b({ data: x, shape: [C, H, Wd, B] }, { data: K1, shape: [C, k, k, F] }, pad, stride);
  assert.equal(conv.shape, [F, R, S, B]);
  const y1 = Float64Array.from(conv.data, (v, i) => Math.tanh(v + b1[Math.floor(i / (R * S * B))]));
  // cuda-convnet max pool with partial windows
  const y2 = new Float64Array(F * PR * PC * B);
  for (let f = 0; f < F; f++) for (let oy = 0; oy < PR; oy++) for (let ox = 0; ox < PC; ox++) for (let b = 0; b < B; b++) {
    let m = -Infinity;
    for (let yy = oy * PS; yy < Math.min(oy * PS + PS, R); yy++) for (let xx = ox * PS; xx < Math.min(ox * PS + PS, S); xx++) m = Math.max(m, y1[((f * R + yy) * S + xx) * B + b]);
    y2[((f * PR + oy) * PC + ox) * B + b] = m;
  }
  const y3 = new Float64Array(F * B);
  for (let f = 0; f < F; f++) for (let b = 0; b < B; b++) {
    let s = 0;
    for (let q = 0; q < PR * PC; q++) s += y2[(f * PR * PC + q) * B + b];
    y3[f * B + b] = s / (PR * PC);
  }
  const z = new Float64Array(U * B);
  for (let un = 0; un < U; un++) for (let b = 0; b < B; b++) {
    let s = b2[un];
    for (let f = 0; f < F; f++) s += W2[f * U + un] * y3[f * B + b];
    z[un * B + b] = s;
  }
  const data = lossRef({ kind: 'categorical_crossentropy', fusedSoftmax: true, targetForm: 'index', aggregate: 'mean' }, z, targets, U, B).loss;
  let penalty = 0;
  for (const w of W1) penalty += L2 * w * w;
  return data + penalty;
}

async function tinyNetwork(rule = 'adam') {
  const o = { momentum: 0, rho: 0, beta1: 0, beta2: 0, epsilon: 0, ...UPDATE_DEFAULTS[rule] };
  const conv = { layer: 'conv', channels: C, rows: H, cols: Wd, batch: B, filters: F, filterSize: k, stride, pad, outRows: R, outCols: S };
  const wa = weightActsStep(conv, 5, { input: 0, preActGrad: 0, weightGrad: 0, index: 0 });
  assert.is(wa.groups, 5, 'weight_acts sums 5 groups of partial sums (scratch)');
  const update = (param, grad, n, state) => ({ op: 'update', phase: 'update', rule, param, grad, state, count: n, momentum: o.momentum, rho: o.rho, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon });
  const shapes = {
    x: [C, H, Wd, B], targets: [B], loss: [1],
    W1: [F, C, k, k], b1: [F], W2: [F, U], b2: [U], K1: [C, k, k, F], W2t: [U, F],
    y1: [F, R, S, B], y2: [F, PR, PC, B], y3: [F, B], z: [U, B],
    dz: [U, B], gW2t: [U, F], gW2: [F, U], gb2: [U], gy3: [F, B], gy2: [F, PR * PC, B], gy1: [F, R, S, B], gb1: [F], gK1: [C, k, k, F], gW1: [F, C, k, k], gx: [C, H, Wd, B],
    mW1: [F, C, k, k], vW1: [F, C, k, k], mb1: [F], vb1: [F], mW2: [F, U], vW2: [F, U], mb2: [U], vb2: [U],
  };
  const steps = [
    { op: 'weight_form', input: 'W1', output: 'K1', weightLayout: 'fckk', flipFilters: true, channels: C, filterSize: k, filters: F },
    { op: 'transpose', input: 'W2', output: 'W2t', perm: [1, 2, 3, 0], inShape: [F, U, 1, 1] },
    { op: 'filter_acts', input: 'x', output: 'y1', weight: 'K1', bias: 'b1', weightLayout: 'fckk', flipFilters: true, biasMode: 'tied', nonlinearity: { kind: 'tanh', params: [] }, ...conv },
    { op: 'max_pool', input: 'y1', output: 'y2', channels: F, rows: R, cols: S, batch: B, poolSize: PS, stride: PS, outRows: PR, outCols: PC },
    { op: 'global_pool', input: 'y2', output: 'y3', channels: F, positions: PR * PC, batch: B },
    { op: 'nin', input: 'y3', output: 'z', weight: 'W2t', bias: 'b2', biasMode: 'tied', nonlinearity: { kind: 'linear', params: [] }, channels: F, units: U, positions: 1, batch: B, weightLayout: 'cu' },
    { op: 'loss', kind: 'categorical_crossentropy', fusedSoftmax: true, prediction: 'z', targets: 'targets', targetForm: 'index', outputGrad: 'dz', loss: 'loss', units: U, batch: B, aggregate: 'mean' },
    { op: 'bias_act_grad', phase: 'backward', output: 'z', outputGrad: 'dz', preActGrad: 'dz', biasGrad: 'gb2', biasMode: 'tied', nonlinearity: { kind: 'linear', params: [] }, units: U, positions: 1, batch: B },
    { op: 'nin_grad_weight', phase: 'backward', input: 'y3', preActGrad: 'dz', weightGrad: 'gW2t', channels: F, units: U, positions: 1, batch: B },
    { op: 'nin_grad_input', phase: 'backward', preActGrad: 'dz', weight: 'W2t', inputGrad: 'gy3', channels: F, units: U, positions: 1, batch: B },
    { op: 'transpose', phase: 'backward', input: 'gW2t', output: 'gW2', perm: [1, 2, 3, 0], inShape: [U, F, 1, 1] },
    { op: 'global_pool_grad', phase: 'backward', outputGrad: 'gy3', inputGrad: 'gy2', channels: F, positions: PR * PC, batch: B },
    { op: 'max_pool_grad', phase: 'backward', input: 'y1', output: 'y2', outputGrad: 'gy2', inputGrad: 'gy1', channels: F, rows: R, cols: S, batch: B, poolSize: PS, stride: PS, outRows: PR, outCols: PC },
    { op: 'bias_act_grad', phase: 'backward', output: 'y1', outputGrad: 'gy1', preActGrad: 'gy1', biasGrad: 'gb1', biasMode: 'tied', nonlinearity: { kind: 'tanh', params: [] }, units: F, positions: R * S, batch: B },
    { ...wa, phase: 'backward', input: 'x', preActGrad: 'gy1', weightGrad: 'gK1' },
    { op: 'img_acts', phase: 'backward', preActGrad: 'gy1', weight: 'K1', inputGrad: 'gx', ...conv },
    { op: 'weight_grad_layout', phase: 'backward', weightGrad: 'gK1', paramGrad: 'gW1', weightLayout: 'fckk', flipFilters: true, channels: C, filterSize: k, filters: F },
    { op: 'penalty', phase: 'backward', param: 'W1', grad: 'gW1', loss: 'loss', count: F * C * k * k, l1: 0, l2: L2 },
    update('W1', 'gW1', F * C * k * k, ['mW1', 'vW1']),
    update('b1', 'gb1', F, ['mb1', 'vb1']),
    update('W2', 'gW2', F * U, ['mW2', 'vW2']),
    update('b2', 'gb2', U, ['mb2', 'vb2']),
  ];
  return trainingPlan(shapes, steps, {
    inputs: ['x', 'targets'], loss: 'loss', outputs: ['z'], inputGrad: 'gx',
    params: [
      { name: 'W1', value: 'W1', grad: 'gW1', state: ['mW1', 'vW1'] }, { name: 'b1', value: 'b1', grad: 'gb1', state: ['mb1', 'vb1'] },
      { name: 'W2', value: 'W2', grad: 'gW2', state: ['mW2', 'vW2'] }, { name: 'b2', value: 'b2', grad: 'gb2', state: ['mb2', 'vb2'] },
    ],
  });
}

const E2E = suite('wasm training: a tiny conv network end to end');

E2E('loss and every gradient (W1, b1, W2, b2, x) against central differences; deterministic; adam moves the parameters as updateRef', async () => {
  const { plan, id } = await tinyNetwork('adam');
  const tr = await wasmBackend.prepareTraining(plan, { threads: 1 });
  assert.match(tr.description, /WebAssembly/);
  const values = {
    x: rand(C * H * Wd * B, 1), W1: rand(F * C * k * k, 2, -0.5, 0.5), b1: rand(F, 3, -0.2, 0.2), W2: rand(F * U, 4), b2: rand(U, 5, -0.2, 0.2),
  };
  const targets = Float32Array.from([1, 4, 0]);
  for (const name of ['W1', 'b1', 'W2', 'b2']) await tr.write(id(name), values[name]);
  const names = ['W1', 'b1', 'W2', 'b2', 'x'];
  const gradIds = ['gW1', 'gb1', 'gW2', 'gb2', 'gx'].map(id);
  const first = await tr.run([values.x, targets], hyper(1, 0, 0.01), { update: false, read: [id('loss'), ...gradIds] });
  const again = await tr.run([values.x, targets], hyper(1, 0, 0.01), { update: false, read: [id('loss'), ...gradIds] });
  first.forEach((a, i) => expectExact(again[i], a, `run to run, read ${i}`));
  const f64 = Object.fromEntries(Object.entries(values).map(([n, v]) => [n, Float64Array.from(v)]));
  const lossRefValue = networkLoss(f64, targets);
  assert.ok(Math.abs(first[0][0] - lossRefValue) <= 2e-6 * Math.abs(lossRefValue), `loss ${first[0][0]} vs ${lossRefValue}`);
  // float32 forward and backward through 6 layers of sums of at most 54 terms: 2e-6 of the
  // largest gradient element of each tensor (we see 1.3e-7) (central differences in float64 with h = 1e-6 err by
  // about 1e-10); one dropped or doubled term moves some element by far more.
  names.forEach((name, j) => {
    const fd = finiteDifferences((v) => networkLoss({ ...f64, [name]: v }, targets), f64[name]);
    const big = Math.max(...fd.map(Math.abs));
    assert.ok(big > 1e-4, `${name}: the loss depends on it`);
    if (process.env.PROBE) console.log(name, Math.max(...first[1 + j].map((v, i) => Math.abs(v - fd[i]))) / big);
    expectClose(first[1 + j], fd, () => 2e-6 * big, `d loss / d ${name}`);
  });
  // one adam update from the gradients we computed (exactly those: the run is deterministic)
  const [W1, b1, W2, b2] = await tr.run([values.x, targets], hyper(1, 0, 0.01), { update: true, read: ['W1', 'b1', 'W2', 'b2'].map(id) });
  const o = { ...UPDATE_DEFAULTS.adam, learningRate: 0.01 };
  [W1, b1, W2, b2].forEach((got, j) => {
    const ref = Float64Array.from(values[names[j]]);
    const st = [new Float64Array(ref.length), new Float64Array(ref.length)];
    updateRef('adam', ref, first[1 + j], st, o, 1);
    // adam's first step moves by about lr: 4 u |p| + 64 u lr
    expectClose(got, ref, (i) => 4 * u * Math.abs(ref[i]) + 64 * u * 0.01, `adam ${names[j]}`);
    assert.ok(got.some((v, i) => v !== values[names[j]][i]), `${names[j]} moved`);
  });
  // the next gradients-only run sees the updated parameters: the loss went down
  const [after] = await tr.run([values.x, targets], hyper(2, 0, 0.01), { update: false, read: [id('loss')] });
  assert.ok(after[0] < first[0][0], `loss ${after[0]} after a step, ${first[0][0]} before`);
  tr.dispose();
});

E2E('trainingScratchBytes: filter_acts gets its kernel scratch plus packed filters, img_acts and weight_acts theirs, others none', async () => {
  const { plan } = await tinyNetwork('sgd');
  const bytes = await wasmBackend.trainingScratchBytes(plan.steps, {});
  plan.steps.forEach((s, i) => {
    const want = ['filter_acts', 'img_acts', 'weight_acts'].includes(s.op);
    assert.is(bytes[i] > 0, want, `${s.op}: ${bytes[i]}`);
  });
  const fa = plan.steps.findIndex((s) => s.op === 'filter_acts');
  assert.ok(bytes[fa] >= 4 * C * k * k * F, 'room for the packed filters');
});

const Threads = suite('wasm training: the batch split over worker threads');

Threads('the tiny conv network on 2 and 3 workers: gradients within the same bound of finite differences, deterministic run to run, adam applied', async () => {
  const values = {
    x: rand(C * H * Wd * B, 1), W1: rand(F * C * k * k, 2, -0.5, 0.5), b1: rand(F, 3, -0.2, 0.2), W2: rand(F * U, 4), b2: rand(U, 5, -0.2, 0.2),
  };
  const targets = Float32Array.from([1, 4, 0]);
  const names = ['W1', 'b1', 'W2', 'b2', 'x'];
  const f64 = Object.fromEntries(Object.entries(values).map(([n, v]) => [n, Float64Array.from(v)]));
  const fds = names.map((name) => finiteDifferences((v) => networkLoss({ ...f64, [name]: v }, targets), f64[name]));
  const { plan, id } = await tinyNetwork('adam');
  const gradIds = ['gW1', 'gb1', 'gW2', 'gb2', 'gx'].map(id);
  const one = await wasmBackend.prepareTraining(plan, { threads: 1 });
  for (const name of ['W1', 'b1', 'W2', 'b2']) await one.write(id(name), values[name]);
  const single = await one.run([values.x, targets], hyper(1, 0, 0.01), { update: true, read: [id('loss'), ...gradIds, id('z'), ...['W1', 'b1', 'W2', 'b2'].map(id)] });
  one.dispose();
  for (const threads of [2, 3]) {
    const tr = await wasmBackend.prepareTraining(plan, { threads });
    try {
      assert.match(tr.description, new RegExp(`${threads} worker threads`), tr.description);
      assert.ok(tr.bytes > plan.arenaBytes, 'the workers\' arenas count');
      for (const name of ['W1', 'b1', 'W2', 'b2']) await tr.write(id(name), values[name]);
      const read = [id('loss'), ...gradIds, id('z')];
      const a = await tr.run([values.x, targets], hyper(1, 0, 0.01), { update: false, read });
      const b = await tr.run([values.x, targets], hyper(1, 0, 0.01), { update: false, read });
      a.forEach((v, i) => expectExact(b[i], v, `threads=${threads}: run to run, read ${i}`));
      assert.ok(Math.abs(a[0][0] - single[0][0]) <= 2e-6 * Math.abs(single[0][0]), `threads=${threads}: loss ${a[0][0]} vs ${single[0][0]} on one thread`);
      names.forEach((name, j) => {
        const big = Math.max(...fds[j].map(Math.abs));
        expectClose(a[1 + j], fds[j], () => 2e-6 * big, `threads=${threads}: d loss / d ${name}`);
      });
      // the forward output of each slice is the single thread's, bit for bit (no sum crosses the batch)
      expectExact(a[6], single[6], `threads=${threads}: network output`);
      const after = await tr.run([values.x, targets], hyper(1, 0, 0.01), { update: true, read: ['W1', 'b1', 'W2', 'b2'].map(id) });
      after.forEach((p, j) => expectClose(p, single[7 + j], (i) => 4 * u * Math.abs(single[7 + j][i]) + 64 * u * 0.01, `threads=${threads}: ${names[j]} after adam`));
      // a bad target is still a ValueError naming the targets
      await rejects(() => tr.run([values.x, Float32Array.from([1, 5, 0])], hyper(), { update: false, read: [] }), (e) => e instanceof ValueError && /targets/.test(e.message) && /holds 5/.test(e.message), 'bad target');
    } finally {
      tr.dispose();
    }
  }
});

Threads('dropout on a batch-first and a batch-last tensor: each slice draws the full tensor\'s mask (flat indices), bit for bit', async () => {
  const Bt = 5;
  const p = 0.5;
  const threshold = Math.round(p * 2 ** 24);
  const seed = 77;
  const drop = (input, output, count, phase) => ({ op: 'dropout', phase, input, output, count, batch: Bt, p, threshold, scale: 2, seed });
  // x (B, 2, 3, 1) batch first -> dropout -> transpose to (2, 3, 1, B) -> dropout (batch last) -> squared error
  const { plan, id } = await trainingPlan(
    { x: [Bt, 2, 3, 1], y: [Bt, 2, 3, 1], yt: [2, 3, 1, Bt], z: [6, Bt], t: [6, Bt], dz: [6, Bt], dyt: [2, 3, 1, Bt], dy: [Bt, 2, 3, 1], dx: [Bt, 2, 3, 1], loss: [1] },
    [
      drop('x', 'y', 6 * Bt, 'forward'),
      { op: 'transpose', input: 'y', output: 'yt', perm: [1, 2, 3, 0], inShape: [Bt, 2, 3, 1] },
      { ...drop('yt', 'z', 6 * Bt, 'forward'), seed: 78 },
      { op: 'loss', kind: 'squared_error', fusedSoftmax: false, prediction: 'z', targets: 't', targetForm: 'dense', outputGrad: 'dz', loss: 'loss', units: 6, batch: Bt, aggregate: 'mean' },
      { ...drop('dz', 'dyt', 6 * Bt, 'backward'), seed: 78 },
      { op: 'transpose', phase: 'backward', input: 'dyt', output: 'dy', perm: [3, 0, 1, 2], inShape: [2, 3, 1, Bt] },
      drop('dy', 'dx', 6 * Bt, 'backward'),
    ],
    { inputs: ['x', 't'], loss: 'loss', outputs: ['z'], inputGrad: 'dx' },
  );
  const x = rand(6 * Bt, 1);
  const t = rand(6 * Bt, 2);
  const results = [];
  for (const threads of [1, 2, 3]) {
    const tr = await wasmBackend.prepareTraining(plan, { threads });
    if (threads > 1) assert.match(tr.description, /worker threads/);
    results.push(await tr.run([x, t], hyper(1, 5), { update: true, read: [id('y'), id('z'), id('dx'), id('loss')] }));
    tr.dispose();
  }
  const m1 = dropoutMaskRef(6 * Bt, seed, threshold, 5);
  const m2 = dropoutMaskRef(6 * Bt, 78, threshold, 5);
  expectExact(results[0][0], Float32Array.from(x, (v, i) => (m1[i] ? v * 2 : 0)), 'batch-first mask');
  const ytRef = Float32Array.from({ length: 6 * Bt }, (_, i) => results[0][0][(i % Bt) * 6 + Math.floor(i / Bt)]);
  expectExact(results[0][1], Float32Array.from(ytRef, (v, i) => (m2[i] ? v * 2 : 0)), 'batch-last mask');
  for (const r of [1, 2]) {
    [0, 1, 2].forEach((j) => expectExact(results[r][j], results[0][j], `threads=${r + 1}: read ${j}`));
    assert.ok(Math.abs(results[r][3][0] - results[0][3][0]) <= 8 * u * results[0][3][0], `threads=${r + 1}: loss`);
  }
});

Threads('splitTraining: the groups of the tiny network; a plan it cannot split runs on the calling thread and says why', async () => {
  const { plan, id } = await tinyNetwork('adam');
  const split = splitTraining(plan);
  assert.type(split, 'object', String(split));
  const ops = (ix) => ix.map((i) => plan.steps[i].op);
  assert.equal(ops(split.pre), ['weight_form', 'transpose']);
  assert.equal(ops(split.post), ['transpose', 'weight_grad_layout', 'penalty', 'update', 'update', 'update', 'update']);
  assert.equal(split.globalsIn, ['b1', 'W2t', 'b2', 'K1'].map(id).sort((a, b) => a - b));
  assert.equal(split.reduce, ['loss', 'gW2t', 'gb2', 'gb1', 'gK1'].map(id).sort((a, b) => a - b));
  assert.is(split.axes[id('x')], 'last');
  assert.is(split.axes[id('W1')], null);
  // a copy of a bias gradient makes it a batch tensor and a batch-free one at once
  const lossStep = { op: 'loss', kind: 'categorical_crossentropy', fusedSoftmax: true, prediction: 'z', targets: 't', targetForm: 'index', outputGrad: 'dz', loss: 'loss', units: 4, batch: 2, aggregate: 'mean' };
  const biasGrad = { op: 'bias_act_grad', phase: 'backward', output: 'z', outputGrad: 'dz', preActGrad: 'dz', biasGrad: 'gb', biasMode: 'tied', nonlinearity: { kind: 'linear', params: [] }, units: 4, positions: 1, batch: 2 };
  const shapes = { z: [4, 2], dz: [4, 2], gb: [4], c: [4], loss: [1], t: [2] };
  const { plan: mixed } = await trainingPlan(shapes, [lossStep, biasGrad, { op: 'copy', phase: 'backward', input: 'gb', output: 'c', count: 4, batch: 2 }], { inputs: ['z', 't'], loss: 'loss' });
  assert.match(String(splitTraining(mixed)), /tensor 2 is used both with and without a batch axis/);
  const tr = await wasmBackend.prepareTraining(mixed, { threads: 2 });
  assert.match(tr.description, /calling thread; threads=2 asked, but tensor 2 is used both with and without a batch axis/);
  tr.dispose();
  const { plan: fine } = await trainingPlan(shapes, [lossStep, biasGrad], { inputs: ['z', 't'], loss: 'loss' });
  const tr2 = await wasmBackend.prepareTraining(fine, { threads: 2 });
  assert.match(tr2.description, /2 worker threads/);
  const z = rand(8, 3);
  const t = Float32Array.from([3, 0]);
  const [gb, loss] = await tr2.run([z, t], hyper(), { update: false, read: [2, 4] });
  const ref = lossRef({ kind: 'categorical_crossentropy', fusedSoftmax: true, targetForm: 'index', aggregate: 'mean' }, z, t, 4, 2);
  const gbRef = Float64Array.from({ length: 4 }, (_, un) => ref.grad[un * 2] + ref.grad[un * 2 + 1]);
  expectClose(gb, gbRef, (i) => 4 * u * (Math.abs(ref.grad[i * 2]) + Math.abs(ref.grad[i * 2 + 1])), 'bias gradient summed over the two workers');
  assert.ok(Math.abs(loss[0] - ref.loss) <= 4 * u * ref.loss, `loss summed over the workers: ${loss[0]} vs ${ref.loss}`);
  tr2.dispose();
  const { plan: twoBatches } = await trainingPlan(shapes, [lossStep, { ...biasGrad, batch: 1, positions: 2 }], { inputs: ['z', 't'], loss: 'loss' });
  await rejects(() => wasmBackend.prepareTraining(twoBatches, {}), (e) => e instanceof RuntimeError && /different batch sizes \(2, 1\)/.test(e.message), 'batch sizes');
});

const Api = suite('wasm training: the PreparedTraining contract');

Api('write, run and read are ordered; bad arguments name themselves; dispose', async () => {
  const n = 4;
  const { plan, id } = await trainingPlan({ p: [n], g: [n], loss: [1] }, [
    { op: 'update', phase: 'update', rule: 'sgd', param: 'p', grad: 'g', state: [], count: n, momentum: 0, rho: 0, beta1: 0, beta2: 0, epsilon: 0 },
  ], { inputs: ['g'], loss: 'loss' });
  const tr = await wasmBackend.prepareTraining(plan, {});
  const g = Float32Array.from([1, 2, 3, 4]);
  // queued without awaiting: write, run (p -= 0.5 g), read, write, read
  const w1 = tr.write(id('p'), Float32Array.from([10, 10, 10, 10]));
  const r1 = tr.run([g], hyper(1, 0, 0.5), { update: true, read: [id('p')] });
  g.fill(100); // the queued run took its inputs when called
  const r2 = tr.read([id('p')]);
  const w2 = tr.write(id('p'), Float32Array.from([0, 0, 0, 0]));
  const r3 = tr.read([id('p')]);
  await w1;
  await w2;
  expectExact((await r1)[0], Float32Array.from([9.5, 9, 8.5, 8]), 'run');
  expectExact((await r2)[0], Float32Array.from([9.5, 9, 8.5, 8]), 'read after run');
  expectExact((await r3)[0], Float32Array.from([0, 0, 0, 0]), 'read after write');
  await rejects(() => tr.run([new Float32Array(3)], hyper(), { update: true, read: [] }), (e) => e instanceof ValueError && /run input 0 must be a Float32Array of 4 values/.test(e.message), 'input size');
  await rejects(() => tr.run([g, g], hyper(), { update: true, read: [] }), (e) => e instanceof ValueError && /needs 1 input arrays/.test(e.message), 'input count');
  await rejects(() => tr.run([g], { learningRate: 0.1, t: 0, counter: 0 }, { update: true, read: [] }), (e) => e instanceof ValueError && /t=0/.test(e.message), 'hyper t');
  await rejects(() => tr.run([g], { learningRate: NaN, t: 1, counter: 0 }, { update: true, read: [] }), (e) => e instanceof ValueError && /learningRate=NaN/.test(e.message), 'hyper lr');
  await rejects(() => tr.run([g], { learningRate: 1, t: 1, counter: -1 }, { update: true, read: [] }), (e) => e instanceof ValueError && /counter=-1/.test(e.message), 'hyper counter');
  await rejects(() => tr.run([g], hyper(), { update: true, read: [99] }), (e) => e instanceof ValueError && /options.read\[0\]/.test(e.message) && /99/.test(e.message), 'read id');
  await rejects(() => tr.write(id('p'), new Float32Array(2)), (e) => e instanceof ValueError && /write to tensor 0 requires a Float32Array of 4 values, but got 2 values/.test(e.message), 'write size');
  await rejects(() => tr.read([7]), (e) => e instanceof ValueError && /read: tensors\[0\]/.test(e.message), 'read id');
  tr.dispose();
  await rejects(() => tr.read([0]), (e) => e instanceof RuntimeError && /disposed/.test(e.message), 'after dispose');
});

Api('prepareTraining checks the plan: tensor sizes, scratch, state count, unknown ops', async () => {
  const n = 4;
  const make = (step, shapes = { p: [n], g: [n], s: [n], loss: [1] }) => trainingPlan(shapes, [step], { inputs: ['g'], loss: 'loss' });
  const sgd = { op: 'update', phase: 'update', rule: 'sgd', param: 'p', grad: 'g', state: [], count: n, momentum: 0, rho: 0, beta1: 0, beta2: 0, epsilon: 0 };
  let { plan } = await make({ ...sgd, count: 5 });
  await rejects(() => wasmBackend.prepareTraining(plan, {}), (e) => e instanceof RuntimeError && /needs 5 elements of its parameter/.test(e.message), 'count');
  ({ plan } = await make({ ...sgd, rule: 'adam', state: ['s'] }));
  await rejects(() => wasmBackend.prepareTraining(plan, {}), (e) => e instanceof RuntimeError && /keeps 1 state tensors, but adam keeps 2/.test(e.message), 'state');
  ({ plan } = await make({ ...sgd, op: 'frobnicate' }));
  await rejects(() => wasmBackend.prepareTraining(plan, {}), (e) => e instanceof RuntimeError && /frobnicate/.test(e.message), 'op');
  ({ plan } = await tinyNetwork('sgd'));
  const fa = plan.steps.findIndex((s) => s.op === 'filter_acts');
  const noScratch = { ...plan, steps: plan.steps.map((s, i) => (i === fa ? { ...s, scratch: undefined } : s)) };
  await rejects(() => wasmBackend.prepareTraining(noScratch, {}), (e) => e instanceof RuntimeError && /bytes of scratch/.test(e.message), 'scratch');
  const small = { ...plan, arenaBytes: plan.arenaBytes - 64 };
  await rejects(() => wasmBackend.prepareTraining(small, {}), (e) => e instanceof RuntimeError && /past the arena/.test(e.message), 'arena');
});

Update.run();
Ops.run();
E2E.run();
Threads.run();
Api.run();
