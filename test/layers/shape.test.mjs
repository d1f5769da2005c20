// FlattenLayer and ReshapeLayer: Lasagne's test_shape.py cases, errors, and the copy they lower to.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { throwsWith } from './support.mjs';
import { runPlan } from './plan_run.mjs';
import { uniform, toFloat32 } from '../reference/random.mjs';

const { InputLayer, FlattenLayer, flatten, ReshapeLayer, reshape, DenseLayer } = lasagne.layers;
const { ValueError } = lasagne.errors;

const F = suite('FlattenLayer');

F('test_get_output_shape_for: outdim 2 (default) keeps the first axis; other outdims; null propagates', () => {
  const layer = new FlattenLayer(new InputLayer([2, 3, 4, 5]));
  assert.is(layer.outdim, 2);
  assert.equal(layer.outputShape, [2, 60]);
  assert.equal(layer.getOutputShapeFor([null, 3, 4, 5]), [null, 60]);
  assert.equal(layer.getOutputShapeFor([2, null, 4, 5]), [2, null]);
  assert.equal(new FlattenLayer([2, 3, 4, 5], { outdim: 3 }).outputShape, [2, 3, 20]);
  assert.equal(new FlattenLayer([2, 3, 4, 5], { outdim: 1 }).outputShape, [120]);
  assert.equal(new FlattenLayer([2, 3, 4, 5], { outdim: 4 }).outputShape, [2, 3, 4, 5]);
  assert.is(flatten, FlattenLayer);
});

F("outdim < 1 is Lasagne's ValueError; outdim above the rank and non-integers are refused", () => {
  throwsWith(() => new FlattenLayer([2, 3], { outdim: 0 }), ValueError, 'Dim must be >0, was 0');
  throwsWith(() => new FlattenLayer([2, 3], { outdim: 3 }), ValueError, 'outdim=3');
  throwsWith(() => new FlattenLayer([2, 3], { outdim: 1.5 }), TypeError, "'outdim' must be an int");
});

const R = suite('ReshapeLayer');

R("test_get_output_shape_for: sizes, [i] references and -1, as Lasagne's", () => {
  const l = (shape, spec) => new ReshapeLayer(new InputLayer(shape), spec).outputShape;
  assert.equal(l([2, 3, 4], [6, 4]), [6, 4]);
  assert.equal(l([2, 3, 4], [[0], -1]), [2, 12]);
  assert.equal(l([2, 3, 4], [[0], [2], [1]]), [2, 4, 3]);
  assert.equal(l([2, 3, 4], [-1, 2, 2]), [6, 2, 2]);
  assert.equal(l([null, 3, 4], [[0], -1]), [null, 12]);
  assert.equal(l([null, 3, 4], [[0], 12]), [null, 12]);
  assert.equal(l([null, 3, 4], [-1, 12]), [null, 12]);
  assert.equal(l([null, 3, 4], [[0], [1], -1]), [null, 3, 4]);
  assert.equal(l([2, null, 4], [[0], -1, [2]]), [2, null, 4]);
  assert.is(reshape, ReshapeLayer);
  assert.equal(new ReshapeLayer([2, 3, 4], [[0], -1]).shape, [[0], -1]);
});

R("Lasagne's errors: bad integers, bad references, other types, several -1, references past the rank, size mismatches", () => {
  throwsWith(() => new ReshapeLayer([2, 3], [0, 6]), ValueError, '`shape` integers must be positive or -1');
  throwsWith(() => new ReshapeLayer([2, 3], [-2, 3]), ValueError, '`shape` integers must be positive or -1');
  throwsWith(() => new ReshapeLayer([2, 3], [[0, 1]]), ValueError, '`shape` input references must be single-element lists of int >= 0');
  throwsWith(() => new ReshapeLayer([2, 3], [[-1], 3]), ValueError, '`shape` input references must be single-element lists of int >= 0');
  throwsWith(() => new ReshapeLayer([2, 3], ['2', 3]), ValueError, '`shape` must be a tuple of int and/or [int]');
  throwsWith(() => new ReshapeLayer([2, 3], [1.5, 4]), ValueError, '`shape` must be a tuple of int and/or [int]');
  throwsWith(() => new ReshapeLayer([2, 3], [-1, -1]), ValueError, '`shape` cannot contain multiple -1');
  throwsWith(() => new ReshapeLayer([2, 3], [[2], 3]), ValueError, 'specification contains [2], but input shape has 2 dimensions only');
  throwsWith(() => new ReshapeLayer([2, 3, 4], [[0], 5]), ValueError, '(2, 3, 4) cannot be reshaped to specification ([0], 5). The total size mismatches.');
  throwsWith(() => new ReshapeLayer([2, 3, 4], [5, -1]), ValueError, 'cannot be reshaped to specification (5, -1)');
  throwsWith(() => new ReshapeLayer([2, 3], 6), TypeError, "argument 'shape' must be an array");
});

const L = suite('FlattenLayer and ReshapeLayer lowering');

L('after a conv (c01b exists): Flatten copies between batch-last forms, with no transpose before the dense layer', () => {
  const l_in = new InputLayer([null, 4, 6, 6]);
  const conv = new Conv2DCCLayer(l_in, 16, 3);
  const dense = new DenseLayer(new FlattenLayer(conv), 10);
  const p = lasagne.plan(dense, { batchSize: 2 });
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'filter_acts', 'copy', 'nin', 'transpose']);
  const copy = p.steps[2];
  assert.equal(p.tensors[copy.input].shape, [16, 4, 4, 2]);
  assert.equal(p.tensors[copy.output].shape, [256, 2]);
  assert.equal([copy.count, copy.batch], [512, 2]);
  assert.is(p.steps[3].input, copy.output);
});

L('on an input (C order only): Reshape copies C order to C order, and the values are a reshape', () => {
  const l_in = new InputLayer([3, 12]);
  const r = new ReshapeLayer(l_in, [[0], 3, 4]);
  const p = lasagne.plan(r);
  assert.equal(p.steps.map((s) => s.op), ['copy']);
  assert.equal(p.tensors[p.outputs[0]].shape, [3, 3, 4]);
  const x = toFloat32(uniform([3, 12], 5));
  assert.equal(Array.from(runPlan(p, [], [x])[0].data), Array.from(x.data));
});

L('a reshape that changes the first axis copies C order and names the new first axis as the batch', () => {
  const l_in = new InputLayer([4, 6]);
  const dense = new DenseLayer(l_in, 6, { nonlinearity: null });
  const r = new ReshapeLayer(dense, [-1, 3]);
  const p = lasagne.plan(r);
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'nin', 'transpose', 'copy']);
  const copy = p.steps[3];
  assert.equal(p.tensors[copy.input].shape, [4, 6]);
  assert.equal(p.tensors[copy.output].shape, [8, 3]);
  assert.is(copy.batch, 8);
  assert.is(p.tensors[copy.output].batchAxis, 0);
  const x = toFloat32(uniform([4, 6], 6, -1, 1));
  const [y] = runPlan(p, lasagne.getAllParamValues(r), [x]);
  const [d] = runPlan(lasagne.plan(dense), lasagne.getAllParamValues(dense), [x]);
  assert.equal(Array.from(y.data), Array.from(d.data));
});

L('Flatten of a c01b-computed layer followed by a dense layer computes flatten(x) @ W (values)', () => {
  const l_in = new InputLayer([2, 3, 2, 2]);
  const dense1 = new DenseLayer(new ReshapeLayer(l_in, [[0], 6, 2]), 4, { nonlinearity: null });
  const net = new DenseLayer(new FlattenLayer(new ReshapeLayer(dense1, [[0], 2, 2])), 3, { nonlinearity: null, b: null });
  const p = lasagne.plan(net);
  const x = toFloat32(uniform([2, 3, 2, 2], 7, -1, 1));
  const [y] = runPlan(p, lasagne.getAllParamValues(net), [x]);
  const [W1, b1, W2] = lasagne.getAllParamValues(net);
  for (let n = 0; n < 2; n++) for (let v = 0; v < 3; v++) {
    let s = 0;
    for (let u = 0; u < 4; u++) {
      let h = b1.data[u];
      for (let k = 0; k < 12; k++) h += x.data[n * 12 + k] * W1.data[k * 4 + u];
      s += h * W2.data[u * 3 + v];
    }
    assert.ok(Math.abs(y.data[n * 3 + v] - s) < 1e-12);
  }
  assert.equal(p.steps.filter((s) => s.op === 'transpose').length, 2, 'one transpose in, one out');
});

F.run();
R.run();
L.run();
