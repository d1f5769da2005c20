// NonlinearityLayer: defaults, errors, and its lowering (activation, softmax, identity).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { throwsWith } from './support.mjs';
import { runPlan } from './plan_run.mjs';
import { uniform, toFloat32 } from '../reference/random.mjs';
import { nonlinearity } from '../reference/layers.mjs';

const { InputLayer, NonlinearityLayer } = lasagne.layers;
const { identity, rectify, softmax, LeakyRectify, elu } = lasagne.nonlinearities;
const { ValueError } = lasagne.errors;

const N = suite('NonlinearityLayer');

N("defaults as Lasagne's: rectify; null is identity; the output shape is the input's; no params", () => {
  assert.is(new NonlinearityLayer([2, 3]).nonlinearity, rectify);
  assert.is(new NonlinearityLayer([2, 3], { nonlinearity: null }).nonlinearity, identity);
  const layer = new NonlinearityLayer(new InputLayer([null, 3, 5]), { nonlinearity: elu });
  assert.equal(layer.outputShape, [null, 3, 5]);
  assert.equal(layer.getParams(), []);
});

N('softmax needs a 2-D input; functions that are not ours and unknown options are refused', () => {
  throwsWith(() => new NonlinearityLayer([2, 3, 4], { nonlinearity: softmax }), ValueError, 'NonlinearityLayer with softmax requires a 2-D input', '(2, 3, 4)');
  throwsWith(() => new NonlinearityLayer([2, 3], { nonlinearity: (x) => x }), TypeError, "option 'nonlinearity'");
  throwsWith(() => new NonlinearityLayer([2, 3], { nonlinearty: rectify }), TypeError, "did you mean 'nonlinearity'");
});

const L = suite('NonlinearityLayer lowering');

L('elementwise: one activation step in the rotation that exists (c01b after a conv, C order after an input)', () => {
  const l_in = new InputLayer([2, 4, 5, 5]);
  const conv = new Conv2DCCLayer(l_in, 16, 3, { nonlinearity: null });
  const leaky = new LeakyRectify({ leakiness: 0.2 });
  const p = lasagne.plan(new NonlinearityLayer(conv, { nonlinearity: leaky }));
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'filter_acts', 'activation', 'transpose']);
  const a = p.steps[2];
  assert.equal({ nonlinearity: a.nonlinearity, count: a.count, batch: a.batch }, { nonlinearity: { kind: 'leaky_rectify', params: [0.2] }, count: 16 * 9 * 2, batch: 2 });
  assert.equal(p.tensors[a.output].shape, [16, 3, 3, 2]);
  const direct = lasagne.plan(new NonlinearityLayer(l_in, { nonlinearity: leaky }));
  assert.equal(direct.steps.map((s) => s.op), ['activation']);
  const x = toFloat32(uniform([2, 4, 5, 5], 1, -2, 2));
  const [y] = runPlan(direct, [], [x]);
  assert.equal(Array.from(y.data), Array.from(x.data, (v) => nonlinearity('leaky_rectify', [0.2], v)));
});

L('through an identity layer (deterministic dropout) the existing rotation is still found: no extra transpose', () => {
  const l_in = new InputLayer([2, 4, 5, 5]);
  const conv = new Conv2DCCLayer(l_in, 16, 3);
  const drop = new lasagne.layers.DropoutLayer(conv);
  const p = lasagne.plan(new NonlinearityLayer(drop, { nonlinearity: elu }));
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'filter_acts', 'activation', 'transpose']);
  assert.is(p.steps[2].input, p.steps[1].output);
});

L('identity: no step, the output is the input; softmax: one softmax step on (classes, batch)', () => {
  const l_in = new InputLayer([3, 4]);
  const id = lasagne.plan(new NonlinearityLayer(l_in, { nonlinearity: null }));
  assert.equal(id.steps, []);
  assert.equal(id.outputs, id.inputs);
  const p = lasagne.plan(new NonlinearityLayer(l_in, { nonlinearity: softmax }));
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'softmax', 'transpose']);
  assert.equal([p.steps[1].units, p.steps[1].batch], [4, 3]);
  const x = toFloat32(uniform([3, 4], 2, -3, 3));
  const [y] = runPlan(p, [], [x]);
  const want = softmax(x);
  y.data.forEach((v, i) => assert.ok(Math.abs(v - want.data[i]) < 1e-6, `element ${i}: ${v} vs ${want.data[i]}`));
  for (let n = 0; n < 3; n++) assert.ok(Math.abs(y.data.slice(n * 4, n * 4 + 4).reduce((s, v) => s + v, 0) - 1) < 1e-12);
});

N.run();
L.run();
