// DropoutLayer: options, errors, the identity when deterministic, and the training step's mask.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { throwsWith } from './support.mjs';
import { runPlan } from './plan_run.mjs';
import { uniform, toFloat32 } from '../reference/random.mjs';
import { dropoutMaskRef } from '../reference/training_ops.mjs';
import { transpose } from '../reference/array.mjs';

const { InputLayer, DropoutLayer, dropout, DenseLayer } = lasagne.layers;
const { ValueError, NotImplementedError } = lasagne.errors;

const D = suite('DropoutLayer');

D("defaults as Lasagne's: p 0.5, rescale true, no shared axes; the output shape is the input's; no params", () => {
  const layer = new DropoutLayer(new InputLayer([null, 3, 4]));
  assert.is(layer.p, 0.5);
  assert.is(layer.rescale, true);
  assert.equal(layer.sharedAxes, []);
  assert.equal(layer.outputShape, [null, 3, 4]);
  assert.equal(layer.getParams(), []);
  assert.is(dropout, DropoutLayer);
  assert.is(new DropoutLayer([2, 3], { p: 0.2 }).threshold, Math.round(0.2 * 2 ** 24));
});

D('p out of range, p = 1 with rescale, non-numbers, sharedAxes and unknown options are refused', () => {
  for (const p of [-0.1, 1.5]) throwsWith(() => new DropoutLayer([2, 3], { p }), ValueError, 'DropoutLayer requires 0 <= p < 1', `p=${p}`);
  throwsWith(() => new DropoutLayer([2, 3], { p: 1 }), ValueError, 'p=1', 'inf');
  assert.is(new DropoutLayer([2, 3], { p: 1, rescale: false }).p, 1);
  throwsWith(() => new DropoutLayer([2, 3], { p: '0.5' }), TypeError, "option 'p' must be a number");
  throwsWith(() => new DropoutLayer([2, 3], { p: NaN }), TypeError, "option 'p' must be a number");
  throwsWith(() => new DropoutLayer([2, 3], { rescale: 1 }), TypeError, "option 'rescale' must be a boolean");
  throwsWith(() => new DropoutLayer([2, 3], { sharedAxes: [2] }), NotImplementedError, 'DropoutLayer only supports sharedAxes=[]', 'sharedAxes=[2]');
  throwsWith(() => new DropoutLayer([2, 3], { shared_axes: [] }), TypeError, "did you mean 'sharedAxes'");
});

const P = suite('DropoutLayer lowering');

P('deterministic (the default) and p = 0: no step; the output is the input tensor', () => {
  const l_in = new InputLayer([4, 6]);
  for (const [layer, opts] of [[new DropoutLayer(l_in), {}], [new DropoutLayer(l_in, { p: 0 }), { deterministic: false }]]) {
    const p = lasagne.plan(layer, opts);
    assert.equal(p.steps, []);
    assert.equal(p.outputs, p.inputs);
  }
});

P('deterministic dropout between two layers passes the batch-last tensor through, with no transpose', () => {
  const l_in = new InputLayer([4, 6]);
  const a = new DenseLayer(l_in, 5);
  const b = new DenseLayer(new DropoutLayer(a), 3);
  const p = lasagne.plan(b);
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'nin', 'nin', 'transpose']);
  assert.is(p.steps[2].input, p.steps[1].output);
});

P('training: one dropout step on the batch-last form, seed = layer index, threshold round(p 2^24), scale 1/(1-p)', () => {
  const l_in = new InputLayer([null, 4, 6, 6]);
  const conv = new Conv2DCCLayer(l_in, 16, 3);
  const drop = new DropoutLayer(conv, { p: 0.25 });
  const p = lasagne.plan(drop, { batchSize: 3, deterministic: false });
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'filter_acts', 'dropout', 'transpose']);
  const s = p.steps[2];
  assert.is(s.input, p.steps[1].output);
  assert.equal(p.tensors[s.output].shape, [16, 4, 4, 3]);
  assert.equal({ count: s.count, batch: s.batch, p: s.p, threshold: s.threshold, scale: s.scale, seed: s.seed },
    { count: 16 * 4 * 4 * 3, batch: 3, p: 0.25, threshold: 2 ** 22, scale: 4 / 3, seed: 2 });
  const noRescale = lasagne.plan(new DropoutLayer(conv, { p: 0.25, rescale: false }), { batchSize: 3, deterministic: false });
  assert.is(noRescale.steps[2].scale, 1);
});

P('on c01b layers (dimshuffle false) the batch is the last axis: the step names batch N, not C', () => {
  const l_in = new InputLayer([4, 6, 6, null]);
  const conv = new Conv2DCCLayer(l_in, 16, 3, { dimshuffle: false });
  const p = lasagne.plan(new DropoutLayer(conv), { batchSize: 5, deterministic: false });
  assert.equal(p.steps.map((s) => s.op), ['filter_acts', 'dropout']);
  assert.equal([p.steps[1].batch, p.steps[1].count], [5, 16 * 16 * 5]);
  assert.is(p.tensors[p.steps[1].output].batchAxis, 3);
});

P('training on a bc01 input: the mask is drawn on the batch-last form; the values are x * mask * scale', () => {
  const l_in = new InputLayer([5, 7]);
  const drop = new DropoutLayer(l_in, { p: 0.4 });
  const p = lasagne.plan(drop, { deterministic: false });
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'dropout', 'transpose']);
  assert.equal(p.tensors[p.steps[1].input].shape, [7, 5]);
  const x = toFloat32(uniform([5, 7], 3, -1, 1));
  for (const counter of [0, 1, 7]) {
    const [y] = runPlan(p, [], [x], { counter });
    const keep = transpose({ data: dropoutMaskRef(35, 1, Math.round(0.4 * 2 ** 24), counter), shape: [7, 5] }, [1, 0]).data;
    assert.equal(Array.from(y.data), Array.from(x.data, (v, i) => (keep[i] ? v / 0.6 : 0)));
  }
  // an MLP's input dropout costs no transpose of its own: the dense layer reads the batch-last form
  const mlp = lasagne.plan(new DenseLayer(drop, 3), { deterministic: false });
  assert.equal(mlp.steps.map((s) => s.op), ['transpose', 'dropout', 'nin', 'transpose']);
  const kept = dropoutMaskRef(10000, 1, Math.round(0.4 * 2 ** 24), 0).reduce((a, v) => a + v, 0);
  assert.ok(Math.abs(kept / 10000 - 0.6) < 0.03, `kept fraction ${kept / 10000}`);
});

P('two dropout layers draw different masks (different seeds); batch-last layout is the mask index order', () => {
  const l_in = new InputLayer([3, 8]);
  const a = new DenseLayer(l_in, 8, { nonlinearity: null });
  const net = new DropoutLayer(new DropoutLayer(a, { p: 0.5 }), { p: 0.5 });
  const p = lasagne.plan(net, { deterministic: false });
  const drops = p.steps.filter((s) => s.op === 'dropout');
  assert.is(drops.length, 2);
  assert.is.not(drops[0].seed, drops[1].seed);
  assert.equal(p.tensors[drops[0].input].shape, [8, 3]);
  const x = toFloat32(uniform([3, 8], 4, 1, 2));
  const [y] = runPlan(p, lasagne.getAllParamValues(net), [x]);
  // the result in bc01 is the dense output (U, N) masked twice, transposed back
  const k1 = dropoutMaskRef(24, drops[0].seed, 2 ** 23, 0);
  const k2 = dropoutMaskRef(24, drops[1].seed, 2 ** 23, 0);
  const zeros = transpose({ data: Float64Array.from(k1, (v, i) => v * k2[i]), shape: [8, 3] }, [1, 0]).data;
  y.data.forEach((v, i) => assert.is(v === 0, zeros[i] === 0, `element ${i}`));
});

D.run();
P.run();
