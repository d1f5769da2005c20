// compileTraining end to end on every backend here: the trainer's gradients of small networks of
// every layer kind against central finite differences of a float64 reference of the same loss
// (test/reference/network.mjs), the updates against their formulas over several steps, every legal
// partialSum giving the same dW, the plan (kernel forms, lifetimes, digest), a small task learned,
// and the errors of bad options and inputs.
//
// Tolerance of a gradient entry: the float64 reference's central difference with h = 1e-4 is exact
// to ~1e-8 (O(h^2) with curvatures of order 1); the trainer computes in float32 through a few
// layers of sums of at most a few hundred terms, so each entry may be off by ~1e-6 relative to the
// largest gradient magnitude times the depth; 2e-4 * max|g| + 1e-6 bounds that with a margin and
// still fails on a dropped term, a wrong sign, a missing 1/N or a misplaced index (each changes an
// entry by a sizeable fraction of max|g|).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { backendsHere } from '../backend/env.mjs';
import * as lasagne from '../../dist/index.js';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, ShuffleC01BToBC01Layer } from '../../dist/layers/cuda_convnet.js';
import { mulberry32 } from '../reference/random.mjs';
import { networkLoss } from '../reference/network.mjs';
import { updateRef } from '../reference/training_ops.mjs';

const { layers, nonlinearities: nl, init, objectives, updates } = lasagne;
const here = (await backendsHere()).filter(([, why]) => why === null).map(([name]) => name);

function randomArray(shape, seed, scale = 1) {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return lasagne.ndarray(Float32Array.from({ length: n }, () => (2 * r() - 1) * scale), shape);
}

/** The network's params as float64 arrays (the values the device starts from). */
const valuesOf = (params) => new Map(params.map((p) => [p, Float64Array.from(p.getValue().data)]));

/**
 * Checks `grads` (trainable params' order) against central differences of the reference loss at
 * `count` entries of each param (all when it has fewer).
 */
function checkGradients(label, net, x, targets, grads, opts, count = 12) {
  const all = layers.getAllLayers(net);
  const params = layers.getAllParams(net, { trainable: true });
  const values = valuesOf(layers.getAllParams(net));
  const regularizable = layers.getAllParams(net, { regularizable: true });
  const loss = () => networkLoss(all, x, values, targets, { ...opts, regularizable });
  const h = 1e-4;
  params.forEach((p, k) => {
    const g = grads[k];
    assert.equal(g.shape, [...p.shape], `${label}: gradient ${k} (${p.name}) has the param's shape`);
    const v = values.get(p);
    const maxAbs = Math.max(...g.data.map(Math.abs), 1e-3);
    const r = mulberry32(k + 7);
    const picks = v.length <= count ? [...v.keys()] : Array.from({ length: count }, () => Math.floor(r() * v.length));
    for (const i of picks) {
      const keep = v[i];
      v[i] = keep + h;
      const up = loss();
      v[i] = keep - h;
      const down = loss();
      v[i] = keep;
      const fd = (up - down) / (2 * h);
      const tol = 2e-4 * maxAbs + 1e-6;
      assert.ok(Math.abs(g.data[i] - fd) <= tol, `${label}: d loss / d ${p.name}[${i}] = ${g.data[i]}, finite differences give ${fd} (tolerance ${tol.toExponential(2)})`);
    }
  });
}

const cases = [
  {
    name: 'conv (pad, rectify) -> max-pool (partial windows) -> dense softmax, categorical cross-entropy with class indices',
    build: () => {
      let n = new layers.InputLayer([4, 1, 7, 7]);
      n = new Conv2DCCLayer(n, 16, 3, { pad: 1, b: new init.Uniform({ range: [-0.1, 0.1] }) });
      n = new MaxPool2DCCLayer(n, 3, { stride: 2 });
      return new layers.DenseLayer(n, 5, { nonlinearity: nl.softmax });
    },
    x: [4, 1, 7, 7],
    targets: () => Int32Array.from([0, 3, 4, 1]),
    opts: { kind: 'categorical_crossentropy' },
    options: () => ({ loss: objectives.categoricalCrossentropy }),
  },
  {
    name: 'conv (stride 2, untied biases, tanh, no flip, partialSum) -> dense sigmoid, squared error summed, l2 and l1',
    build: () => {
      let n = new layers.InputLayer([3, 3, 9, 9]);
      n = new Conv2DCCLayer(n, 16, 3, { stride: 2, untieBiases: true, nonlinearity: nl.tanh, flipFilters: false, partialSum: 2, b: new init.Uniform({ range: [-0.1, 0.1] }) });
      return new layers.DenseLayer(n, 4, { nonlinearity: nl.sigmoid });
    },
    x: [3, 3, 9, 9],
    targets: () => randomArray([3, 4], 5, 1),
    opts: { kind: 'squared_error', aggregate: 'sum', l2: 1e-2, l1: 1e-3 },
    options: () => ({ loss: objectives.squaredError, aggregate: 'sum', regularization: { l2: 1e-2, l1: 1e-3 } }),
  },
  {
    name: 'dense elu -> dropout -> nonlinearity (leaky) -> dense softmax, dense targets',
    build: () => {
      let n = new layers.InputLayer([6, 10]);
      n = new layers.DenseLayer(n, 8, { nonlinearity: nl.elu, b: new init.Uniform({ range: [-0.1, 0.1] }) });
      n = new layers.DropoutLayer(n, { p: 0.3 });
      n = new layers.NonlinearityLayer(n, { nonlinearity: new nl.LeakyRectify({ leakiness: 0.1 }) });
      return new layers.DenseLayer(n, 3, { nonlinearity: nl.softmax });
    },
    x: [6, 10],
    targets: () => lasagne.ndarray(Float32Array.from({ length: 18 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 0.8 : 0.1)), [6, 3]),
    opts: { kind: 'categorical_crossentropy' },
    options: () => ({ loss: objectives.categoricalCrossentropy }),
  },
  {
    name: 'conv (softplus) -> global mean pool -> dense linear, binary hinge',
    build: () => {
      let n = new layers.InputLayer([4, 4, 5, 5]);
      n = new Conv2DCCLayer(n, 16, 3, { nonlinearity: nl.softplus });
      n = new layers.GlobalPoolLayer(n);
      return new layers.DenseLayer(n, 2, { nonlinearity: null });
    },
    x: [4, 4, 5, 5],
    targets: () => lasagne.ndarray(Float32Array.from([1, 0, 0, 1, 1, 1, 0, 0]), [4, 2]),
    opts: { kind: 'binary_hinge' },
    options: () => ({ loss: objectives.binaryHingeLoss }),
  },
  {
    name: 'c01b input -> NIN (untied) -> shuffle to bc01 -> flatten -> dense, multiclass hinge',
    build: () => {
      let n = new layers.InputLayer([8, 3, 3, 4]);
      n = new NINLayer_c01b(n, 16, { untieBiases: true, b: new init.Uniform({ range: [-0.1, 0.1] }), nonlinearity: nl.sigmoid });
      n = new ShuffleC01BToBC01Layer(n);
      n = new layers.FlattenLayer(n);
      return new layers.DenseLayer(n, 3, { nonlinearity: null });
    },
    x: [8, 3, 3, 4],
    targets: () => Int32Array.from([2, 0, 1, 1]),
    opts: { kind: 'multiclass_hinge' },
    options: () => ({ loss: objectives.multiclassHingeLoss }),
  },
];

for (const backend of here) {
  const t = suite(`compileTraining on ${backend}`);

  for (const c of cases) {
    t(`gradients match finite differences: ${c.name}`, async () => {
      lasagne.random.setRng(new lasagne.random.RandomState(3));
      const net = c.build();
      const x = randomArray(c.x, 11);
      const targets = c.targets();
      const trainer = await lasagne.compileTraining(net, { ...c.options(), updates: updates.sgd({ learningRate: 0.1 }), backend });
      try {
        const { loss, grads } = await trainer.gradients(x, targets);
        const all = layers.getAllLayers(net);
        const ref = networkLoss(all, x, valuesOf(layers.getAllParams(net)), targets, { ...c.opts, regularizable: layers.getAllParams(net, { regularizable: true }) });
        assert.ok(Math.abs(loss - ref) <= 1e-5 * Math.max(1, Math.abs(ref)), `loss ${loss} vs reference ${ref}`);
        checkGradients(c.name, net, x, targets, grads, c.opts);
      } finally {
        trainer.dispose();
      }
    });
  }

  t('inputGradient: d loss / d input matches finite differences', async () => {
    lasagne.random.setRng(new lasagne.random.RandomState(4));
    const c = cases[0];
    const net = c.build();
    const x = randomArray(c.x, 12);
    const targets = c.targets();
    const trainer = await lasagne.compileTraining(net, { ...c.options(), updates: updates.sgd({ learningRate: 0.1 }), backend, inputGradient: true });
    try {
      const { inputGrad } = await trainer.gradients(x, targets);
      assert.equal(inputGrad.shape, c.x);
      const all = layers.getAllLayers(net);
      const values = valuesOf(layers.getAllParams(net));
      const maxAbs = Math.max(...inputGrad.data.map(Math.abs));
      for (const i of [0, 5, 17, 60, 100, 150, 195]) {
        const xp = { data: Float64Array.from(x.data), shape: x.shape };
        const h = 1e-4;
        xp.data[i] = x.data[i] + h;
        const up = networkLoss(all, xp, values, targets, c.opts);
        xp.data[i] = x.data[i] - h;
        const down = networkLoss(all, xp, values, targets, c.opts);
        const fd = (up - down) / (2 * h);
        assert.ok(Math.abs(inputGrad.data[i] - fd) <= 2e-4 * maxAbs + 1e-6, `d loss / d x[${i}] = ${inputGrad.data[i]}, finite differences ${fd}`);
      }
    } finally {
      trainer.dispose();
    }
  });

  t('every legal partialSum gives the same dW within float rounding', async () => {
    const grads = [];
    for (const partialSum of [1, 2, 3, 4, 6, 9, 12, 18, 36, 0]) {
      lasagne.random.setRng(new lasagne.random.RandomState(5));
      let n = new layers.InputLayer([2, 4, 6, 6]);
      n = new Conv2DCCLayer(n, 16, 3, { pad: 1, partialSum: partialSum === 0 ? null : partialSum });
      const net = new layers.DenseLayer(n, 3, { nonlinearity: nl.softmax });
      const trainer = await lasagne.compileTraining(net, { updates: updates.sgd({ learningRate: 0.1 }), backend });
      grads.push((await trainer.gradients(randomArray([2, 4, 6, 6], 13), Int32Array.from([1, 2]))).grads[0]);
      trainer.dispose();
    }
    const maxAbs = Math.max(...grads[0].data.map(Math.abs));
    for (const g of grads.slice(1)) g.data.forEach((v, i) => assert.ok(Math.abs(v - grads[0].data[i]) <= 1e-5 * maxAbs, `dW[${i}]: ${v} vs ${grads[0].data[i]}`));
  });

  t('an illegal partialSum raises pylearn2\'s ValueError at compileTraining', async () => {
    let n = new layers.InputLayer([2, 4, 6, 6]);
    n = new Conv2DCCLayer(n, 16, 3, { pad: 1, partialSum: 5 });
    const net = new layers.DenseLayer(n, 3, { nonlinearity: nl.softmax });
    try {
      await lasagne.compileTraining(net, { updates: updates.sgd({ learningRate: 0.1 }), backend });
      assert.unreachable('no error');
    } catch (e) {
      assert.instance(e, lasagne.errors.ValueError);
      assert.match(e.message, /partialSum must divide numModules/);
    }
  });

  for (const [rule, options] of [
    ['sgd', { learningRate: 0.1 }], ['momentum', { learningRate: 0.1, momentum: 0.8 }], ['nesterov_momentum', { learningRate: 0.1, momentum: 0.9 }],
    ['adagrad', { learningRate: 0.5 }], ['rmsprop', { learningRate: 0.01 }], ['adadelta', {}], ['adam', { learningRate: 0.01 }], ['adamax', {}],
  ]) {
    t(`${rule}: three steps give Lasagne's formulas applied to the gradients`, async () => {
      lasagne.random.setRng(new lasagne.random.RandomState(6));
      const net = new layers.DenseLayer(new layers.InputLayer([4, 6]), 3, { nonlinearity: nl.softmax, b: new init.Uniform({ range: [-0.1, 0.1] }) });
      const fn = { sgd: updates.sgd, momentum: updates.momentum, nesterov_momentum: updates.nesterovMomentum, adagrad: updates.adagrad, rmsprop: updates.rmsprop, adadelta: updates.adadelta, adam: updates.adam, adamax: updates.adamax }[rule];
      const spec = fn(options);
      const trainer = await lasagne.compileTraining(net, { updates: spec, backend });
      const params = layers.getAllParams(net, { trainable: true });
      const ref = params.map((p) => Float64Array.from(p.getValue().data));
      const state = params.map((p) => [new Float64Array(p.getValue().data.length), new Float64Array(p.getValue().data.length)]);
      try {
        for (let step = 1; step <= 3; step++) {
          const x = randomArray([4, 6], 20 + step);
          const targets = Int32Array.from([0, 1, 2, step % 3]);
          const { grads } = await trainer.gradients(x, targets);
          await trainer.step(x, targets);
          params.forEach((_, k) => updateRef(rule, ref[k], grads[k].data, state[k], spec, step));
        }
        await trainer.syncParams();
        params.forEach((p, k) => {
          const got = p.getValue().data;
          got.forEach((v, i) => assert.ok(Math.abs(v - ref[k][i]) <= 1e-5 * Math.max(1, Math.abs(ref[k][i])), `${rule} ${p.name}[${i}]: ${v} vs ${ref[k][i]}`));
        });
      } finally {
        trainer.dispose();
      }
    });
  }

  t('a small task is learned: the loss falls and the training accuracy rises', async () => {
    lasagne.random.setRng(new lasagne.random.RandomState(7));
    // two classes of 6x6 images: a bright vertical or a bright horizontal bar, with noise
    const N = 16;
    const r = mulberry32(9);
    const make = () => {
      const x = new Float32Array(N * 36);
      const y = new Int32Array(N);
      for (let n = 0; n < N; n++) {
        y[n] = n % 2;
        const at = Math.floor(r() * 6);
        for (let i = 0; i < 36; i++) x[n * 36 + i] = 0.3 * r() + ((y[n] === 0 ? i % 6 : Math.floor(i / 6)) === at ? 1 : 0);
      }
      return { x: lasagne.ndarray(x, [N, 1, 6, 6]), y };
    };
    let n = new layers.InputLayer([N, 1, 6, 6]);
    n = new Conv2DCCLayer(n, 16, 3, { pad: 1 });
    n = new MaxPool2DCCLayer(n, 2);
    const net = new layers.DenseLayer(n, 2, { nonlinearity: nl.softmax });
    const trainer = await lasagne.compileTraining(net, { updates: updates.nesterovMomentum({ learningRate: 0.1, momentum: 0.9 }), backend });
    try {
      const losses = [];
      for (let i = 0; i < 30; i++) {
        const { x, y } = make();
        losses.push(await trainer.step(x, y));
      }
      assert.ok(losses.slice(-5).reduce((a, b) => a + b) / 5 < 0.5 * losses.slice(0, 5).reduce((a, b) => a + b) / 5, `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`);
      await trainer.syncParams();
      const network = await lasagne.compile(net, { backend });
      const { x, y } = make();
      const p = await network.run(x);
      const acc = lasagne.objectives.categoricalAccuracy(p, y);
      const mean = acc.data.reduce((a, b) => a + b, 0) / N;
      assert.ok(mean >= 0.9, `accuracy ${mean}`);
      network.dispose();
    } finally {
      trainer.dispose();
    }
  });

  t('the plan: parameters, gradients and state in the arena, kernel forms written first, a stable digest', async () => {
    lasagne.random.setRng(new lasagne.random.RandomState(8));
    const c = cases[0];
    const a = await lasagne.compileTraining(c.build(), { ...c.options(), updates: updates.adam({}), backend, regularization: { l2: 1e-4 } });
    const b = await lasagne.compileTraining(c.build(), { ...c.options(), updates: updates.adam({}), backend, regularization: { l2: 1e-4 } });
    try {
      const plan = a.plan;
      assert.is(plan.digest, b.plan.digest);
      assert.match(plan.digest, /^[0-9a-f]{16}$/);
      assert.is(plan.params.length, 4);
      for (const p of plan.params) assert.is(p.state.length, 2);
      assert.equal(plan.steps.slice(0, 2).map((s) => s.op), ['weight_form', 'transpose']);
      const ops = plan.steps.map((s) => s.op);
      assert.ok(ops.includes('loss') && ops.includes('weight_acts') && ops.includes('max_pool_grad') && ops.includes('nin_grad_weight'), ops.join(' '));
      assert.is(ops.filter((o) => o === 'update').length, 4);
      assert.is(ops.filter((o) => o === 'penalty').length, 2);
      assert.not.ok(ops.includes('img_acts'), 'no input gradient of the first layer unless asked');
      assert.not.ok(ops.includes('softmax'), 'the softmax is fused into the loss');
      const loss = plan.steps.find((s) => s.op === 'loss');
      assert.ok(loss.fusedSoftmax);
      // every tensor inside the arena, aligned, and tensors live at the same step never overlap
      for (const t of plan.tensors) assert.ok(t.offset % plan.alignment === 0 && t.offset + t.bytes <= plan.arenaBytes);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  t('bad options and inputs are refused with errors that name them', async () => {
    const c = cases[0];
    const net = c.build();
    const bad = async (options, re, type = lasagne.errors.ValueError) => {
      try {
        await lasagne.compileTraining(net, { backend, ...options });
        assert.unreachable(JSON.stringify(Object.keys(options)));
      } catch (e) {
        assert.ok(e instanceof type, `${e.constructor.name}: ${e.message}`);
        assert.match(e.message, re);
      }
    };
    await bad({}, /option 'updates' must be a descriptor from lasagne.updates/, TypeError);
    await bad({ updates: updates.sgd }, /the function itself/, TypeError);
    // a hand-made descriptor (the types allow one): completed with Lasagne's defaults, then range-checked
    await bad({ updates: { rule: 'momentum' } }, /momentum option 'learningRate' must be a finite number, but learningRate=undefined/, TypeError);
    await bad({ updates: { rule: 'adam', beta1: 1.5 } }, /adam requires 0 <= beta1 <= 1, but beta1=1.5/);
    const handMade = await lasagne.compileTraining(net, { backend, updates: { rule: 'adam', learningRate: 0.01 } });
    handMade.dispose();
    await bad({ updates: updates.sgd({ learningRate: 0.1 }), loss: (p) => p }, /option 'loss' must be one of lasagne.objectives/, TypeError);
    await bad({ updates: updates.sgd({ learningRate: 0.1 }), aggregate: 'normalized_sum' }, /require weights for normalized_sum/);
    await bad({ updates: updates.sgd({ learningRate: 0.1 }), regularization: { l3: 1 } }, /l3/, TypeError);
    await bad({ updates: updates.sgd({ learningRate: 0.1 }), learningrate: 1 }, /unknown option 'learningrate'/, TypeError);
    const trainer = await lasagne.compileTraining(net, { updates: updates.sgd({ learningRate: 0.1 }), backend });
    try {
      const x = randomArray(c.x, 1);
      for (const [args, re] of [
        [[randomArray([4, 1, 7, 8], 1), Int32Array.from([0, 1, 2, 3])], /input must have the compiled shape \(4, 1, 7, 7\), but got \(4, 1, 7, 8\)/],
        [[x, Int32Array.from([0, 1, 2])], /one class index per example \(4\), but has 3/],
        [[x, Int32Array.from([0, 1, 2, 5])], /targets\[3\] must be a class index in \[0, 5\), but is 5/],
        [[x, randomArray([4, 4], 1)], /targets must be an Int32Array of 4 class indices or an NDArray of shape \[4, 5\]/],
      ]) {
        try {
          await trainer.step(...args);
          assert.unreachable(re.source);
        } catch (e) {
          assert.instance(e, lasagne.errors.ValueError);
          assert.match(e.message, re);
        }
      }
      assert.throws(() => trainer.setLearningRate(NaN), /finite number/);
    } finally {
      trainer.dispose();
    }
    try {
      await trainer.step(randomArray(c.x, 1), Int32Array.from([0, 1, 2, 3]));
      assert.unreachable();
    } catch (e) {
      assert.instance(e, lasagne.errors.RuntimeError);
      assert.match(e.message, /disposed/);
    }
  });

  t.run();
}
