import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { NINLayer_c01b } from 'lasagne-webgpu/layers/cuda_convnet';
import { recordingSpec, expectLasagneTagFilters } from './support.mjs';

const { InputLayer } = lasagne.layers;
const { identity, rectify, tanh } = lasagne.nonlinearities;

const ones = (shape) => ({ data: new Float32Array(shape.reduce((n, d) => n * d, 1)).fill(1), shape: [...shape] });
// c01b: C = 3, rows = 4, cols = 5, batch = 2
const fixture = () => new InputLayer([3, 4, 5, 2]);

const NIN = suite('NINLayer_c01b');

NIN('test_init: W is called with (5, 3), b with (5,), and their values are stored', () => {
  const W = recordingSpec(ones);
  const b = recordingSpec(ones);
  const layer = new NINLayer_c01b(fixture(), 5, { W, b, nonlinearity: tanh });
  assert.equal(W.calls, [[5, 3]]);
  assert.equal(b.calls, [[5]]);
  assert.equal(layer.W.getValue(), ones([5, 3]));
  assert.equal(layer.b.getValue(), ones([5]));
  assert.is(layer.nonlinearity, tanh);
  assert.is(layer.numUnits, 5);
});

NIN('the default nonlinearity is rectify and the default bias is zero', () => {
  const layer = new NINLayer_c01b(fixture(), 5);
  assert.is(layer.nonlinearity, rectify);
  assert.is(layer.untieBiases, false);
  assert.equal(layer.b.getValue(), { data: new Float32Array(5), shape: [5] });
});

NIN('test_init_none_nonlinearity_bias: null nonlinearity is identity and null b is no bias', () => {
  const layer = new NINLayer_c01b(fixture(), 3, { nonlinearity: null, b: null });
  assert.is(layer.nonlinearity, identity);
  assert.is(layer.b, null);
  assert.equal(layer.getParams(), [layer.W]);
});

NIN('test_init_untie_biases: untied b has shape (5, 4, 5)', () => {
  const layer = new NINLayer_c01b(fixture(), 5, { untieBiases: true });
  assert.equal(layer.b.shape, [5, 4, 5]);
  assert.is(layer.untieBiases, true);
});

NIN('test_get_params: tag filters select W and b as in Lasagne', () => {
  const layer = new NINLayer_c01b(fixture(), 5);
  expectLasagneTagFilters(layer);
});

NIN('test_get_output_shape_for: (6, 7, 8, 5) becomes (5, 7, 8, 5) with 5 units', () => {
  const layer = new NINLayer_c01b(fixture(), 5);
  assert.equal(layer.getOutputShapeFor([6, 7, 8, 5]), [5, 7, 8, 5]);
  assert.equal(layer.outputShape, [5, 4, 5, 2]);
  assert.equal(layer.getOutputShapeFor([6, null, 8, null]), [5, null, 8, null]);
});

NIN('W is (numUnits, C), the transpose of NINLayer, and a named layer prefixes its parameters', () => {
  const layer = new NINLayer_c01b(fixture(), 7, { name: 'foo' });
  assert.equal(layer.W.shape, [7, 3]);
  assert.is(layer.W.name, 'foo.W');
  assert.is(layer.b.name, 'foo.b');
});

NIN.run();
