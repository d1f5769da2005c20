// DenseLayer: Lasagne's test_dense.py cases, errors, and its lowering run by the float64 plan interpreter.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { recordingSpec, expectLasagneTagFilters, throwsWith } from './support.mjs';
import { runPlan } from './plan_run.mjs';
import { uniform, toFloat32 } from '../reference/random.mjs';
import { nonlinearity } from '../reference/layers.mjs';
import { maxAbsDiff } from '../reference/array.mjs';

const { InputLayer, DenseLayer } = lasagne.layers;
const { identity, rectify, tanh, softmax } = lasagne.nonlinearities;
const { ValueError, NotImplementedError } = lasagne.errors;

const ones = (shape) => ({ data: new Float32Array(shape.reduce((n, d) => n * d, 1)).fill(1), shape: [...shape] });

const D = suite('DenseLayer');

D('test_init: W is called with (num_inputs, num_units) = (12, 3) for a (2, 3, 4) input, b with (3,)', () => {
  const W = recordingSpec(ones);
  const b = recordingSpec(ones);
  const layer = new DenseLayer(new InputLayer([2, 3, 4]), 3, { W, b, nonlinearity: tanh });
  assert.equal(W.calls, [[12, 3]]);
  assert.equal(b.calls, [[3]]);
  assert.equal(layer.W.getValue(), ones([12, 3]));
  assert.is(layer.nonlinearity, tanh);
  assert.is(layer.numUnits, 3);
  assert.is(layer.numLeadingAxes, 1);
});

D('defaults: rectify, a zero bias, GlorotUniform weights within its bound', () => {
  const layer = new DenseLayer(new InputLayer([null, 100]), 50);
  assert.is(layer.nonlinearity, rectify);
  assert.equal(layer.b.getValue(), { data: new Float32Array(50), shape: [50] });
  const bound = Math.sqrt(6 / 150);
  assert.ok(layer.W.getValue().data.every((v) => Math.abs(v) <= bound));
  assert.ok(layer.W.getValue().data.some((v) => Math.abs(v) > bound * 0.9));
});

D('test_init_none_nonlinearity_bias: null nonlinearity is identity and null b is no bias', () => {
  const layer = new DenseLayer(new InputLayer([2, 3]), 3, { nonlinearity: null, b: null });
  assert.is(layer.nonlinearity, identity);
  assert.is(layer.b, null);
  assert.equal(layer.getParams(), [layer.W]);
});

D('test_get_params: the tag filters select W and b as in Lasagne', () => {
  expectLasagneTagFilters(new DenseLayer(new InputLayer([2, 3]), 4));
});

D('test_get_output_shape_for: the trailing axes are flattened into num_units', () => {
  const layer = new DenseLayer(new InputLayer([null, 10]), 3);
  assert.equal(layer.outputShape, [null, 3]);
  assert.equal(layer.getOutputShapeFor([5, 6, 7]), [5, 3]);
  assert.equal(new DenseLayer(new InputLayer([4, 2, 3, 5]), 7).outputShape, [4, 7]);
});

D('named layers prefix their parameters', () => {
  const layer = new DenseLayer(new InputLayer([2, 3]), 4, { name: 'fc' });
  assert.equal(layer.getParams().map((p) => p.name), ['fc.W', 'fc.b']);
});

D("num_leading_axes: Lasagne's range errors, then NotImplementedError for anything but 1", () => {
  throwsWith(() => new DenseLayer(new InputLayer([2, 3]), 4, { numLeadingAxes: 2 }), ValueError,
    'Got num_leading_axes=2 for a 2-dimensional input, leaving no trailing axes for the dot product.');
  throwsWith(() => new DenseLayer(new InputLayer([2, 3]), 4, { numLeadingAxes: -3 }), ValueError,
    'Got num_leading_axes=-3 for a 2-dimensional input, requesting more trailing axes than there are input dimensions.');
  throwsWith(() => new DenseLayer(new InputLayer([2, 3, 4]), 4, { numLeadingAxes: 2 }), NotImplementedError, 'num_leading_axes=2');
  throwsWith(() => new DenseLayer(new InputLayer([2, 3, 4]), 4, { numLeadingAxes: -1 }), NotImplementedError, 'num_leading_axes=-1');
  throwsWith(() => new DenseLayer(new InputLayer([1]), 4), ValueError, 'leaving no trailing axes');
  const minusOne = new DenseLayer(new InputLayer([null, 3]), 4, { numLeadingAxes: -1 });
  assert.equal([minusOne.outputShape, minusOne.W.shape, minusOne.numLeadingAxes], [[null, 4], [3, 4], -1]);
});

D('a trailing null dimension, a bad num_units, bad options and a bad W are refused', () => {
  throwsWith(() => new DenseLayer(new InputLayer([2, null]), 4), ValueError, 'A DenseLayer requires a fixed input shape (except for the leading axes). Got (2, None)');
  throwsWith(() => new DenseLayer(new InputLayer([2, 3]), 0), ValueError, 'non-positive shape dimension');
  throwsWith(() => new DenseLayer(new InputLayer([2, 3]), 2.5), TypeError, "argument 'num_units' must be an int");
  throwsWith(() => new DenseLayer(new InputLayer([2, 3]), 2, { num_units: 3 }), TypeError, "unknown option 'num_units'");
  throwsWith(() => new DenseLayer(new InputLayer([2, 3]), 2, { numLeadingAxis: 1 }), TypeError, "did you mean 'numLeadingAxes'");
  throwsWith(() => new DenseLayer(new InputLayer([2, 3]), 2, { W: ones([2, 3]) }), ValueError, 'has shape (2, 3), should be (3, 2)');
  throwsWith(() => new DenseLayer(new InputLayer([2, 3]), 2, { nonlinearity: Math.tanh }), TypeError, "option 'nonlinearity'");
});

/** Lasagne's get_output_for in float64: x.reshape(N, -1) @ W + b, then the nonlinearity (row-wise softmax). */
function denseRef(x, W, b, nl) {
  const N = x.shape[0];
  const [K, U] = W.shape;
  const z = new Float64Array(N * U);
  for (let n = 0; n < N; n++) for (let u = 0; u < U; u++) {
    let s = b === null ? 0 : b.data[u];
    for (let k = 0; k < K; k++) s += x.data[n * K + k] * W.data[k * U + u];
    z[n * U + u] = s;
  }
  if (nl.kind !== 'softmax') return z.map((v) => nonlinearity(nl.kind, nl.params, v));
  for (let n = 0; n < N; n++) {
    const row = z.subarray(n * U, (n + 1) * U);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    row.set(e.map((v) => v / s));
  }
  return z;
}

const L = suite('DenseLayer lowering');

L('2-D, 3-D and 4-D inputs, tanh, no bias and softmax compute Lasagne\'s formula (float64 plan interpreter)', () => {
  const cases = [
    { shape: [5, 7], units: 4, opts: { nonlinearity: tanh } },
    { shape: [3, 2, 5], units: 6, opts: { b: null, nonlinearity: null } },
    { shape: [2, 3, 2, 4], units: 5, opts: { nonlinearity: softmax } },
    { shape: [4, 3], units: 3, opts: { nonlinearity: softmax, b: null } },
  ];
  cases.forEach(({ shape, units, opts }, i) => {
    const l_in = new InputLayer(shape);
    const layer = new DenseLayer(l_in, units, { ...opts, b: opts.b === null ? null : { data: toFloat32(uniform([units], 10 + i, -1, 1)).data, shape: [units] } });
    const x = toFloat32(uniform(shape, 20 + i, -1, 1));
    const p = lasagne.plan(layer);
    const [y] = runPlan(p, lasagne.getAllParamValues(layer), [x]);
    assert.equal(y.shape, [shape[0], units]);
    const want = denseRef(x, layer.W.getValue(), layer.b === null ? null : layer.b.getValue(), layer.nonlinearity);
    const diff = maxAbsDiff(y, { data: want, shape: [shape[0], units] });
    assert.ok(diff < 1e-12, `case ${i}: ${diff}`);
  });
});

L('the plan: one nin step in batch-last form with the (C, U) weight; softmax writes the logits to <label>#pre first', () => {
  const layer = new DenseLayer(new InputLayer([8, 3, 4]), 5, { nonlinearity: softmax, name: 'out' });
  const p = lasagne.plan(layer);
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'nin', 'softmax', 'transpose']);
  const [, nin, sm] = p.steps;
  assert.is(nin.weightLayout, 'cu');
  assert.equal([nin.channels, nin.units, nin.positions, nin.batch], [12, 5, 1, 8]);
  assert.equal(nin.nonlinearity, { kind: 'linear', params: [] });
  assert.is(nin.weight, 0);
  assert.is(nin.bias, 1);
  assert.is(nin.biasMode, 'tied');
  assert.equal(p.tensors[nin.input].shape, [3, 4, 8]);
  assert.is(p.tensors[nin.output].producer, 'out#pre');
  assert.equal(p.tensors[nin.output].shape, [5, 8]);
  assert.is(p.tensors[nin.output].batchAxis, 1);
  assert.is(sm.input, nin.output);
  assert.equal([sm.units, sm.batch], [5, 8]);
  assert.equal(p.tensors[sm.output].shape, [5, 8]);
  assert.equal(p.tensors[p.outputs[0]].shape, [8, 5]);
});

L('a parameter built for another input shape is refused when planned', () => {
  const layer = new DenseLayer(new InputLayer([null, 3, 4]), 5);
  throwsWith(() => lasagne.plan(layer, { inputShapes: [2, 4, 4] }), ValueError, 'W has shape (12, 5) but these input shapes need (16, 5)');
});

D.run();
L.run();
