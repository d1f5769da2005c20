import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { max_pool_2d } from '../reference/pool.mjs';
import { transpose } from '../reference/array.mjs';
import { randn } from '../reference/random.mjs';
import { throwsWith } from './support.mjs';

const { InputLayer } = lasagne.layers;
const { ValueError, NotImplementedError } = lasagne.errors;

const Pool = suite('MaxPool2DCCLayer');

const SHAPE_CASES = [
  [[32, 64, 24, 24], [32, 64, 12, 12]],
  [[null, 64, 24, 24], [null, 64, 12, 12]],
  [[32, null, 24, 24], [32, null, 12, 12]],
  [[32, 64, null, 24], [32, 64, null, 12]],
  [[32, 64, 24, null], [32, 64, 12, null]],
  [[32, 64, null, null], [32, 64, null, null]],
];

Pool('test_get_output_shape_for: pool_size (2, 2) with stride None halves known dims and keeps None', () => {
  const layer = new MaxPool2DCCLayer(new InputLayer([32, 64, 24, 24]), [2, 2], { stride: null });
  for (const [input, output] of SHAPE_CASES) {
    assert.equal(layer.getOutputShapeFor(input), output, JSON.stringify(input));
    assert.equal(new MaxPool2DCCLayer(new InputLayer(input), [2, 2]).outputShape, output, JSON.stringify(input));
  }
});

const SIZES = [[2, 1, 15], [2, 2, 8], [3, 1, 14], [3, 2, 8], [3, 3, 6]];

for (const [P, s, n] of SIZES) {
  Pool(`test_get_output_for sizes: pool ${P} stride ${s} on 16 gives ${n}, the oracle's size`, () => {
    const input = randn([8, 16, 16, 16], 100 * P + s);
    const layer = new MaxPool2DCCLayer(new InputLayer([8, 16, 16, 16]), [P, P], { stride: [s, s] });
    assert.equal(layer.outputShape, [8, 16, n, n]);
    assert.equal(layer.outputShape, max_pool_2d(input, [P, P], [s, s]).shape);
  });
}

Pool('test_not_implemented: each unsupported setting raises NotImplementedError with Lasagne wording', () => {
  const l = new InputLayer([128, 4, 12, 12]);
  throwsWith(() => new MaxPool2DCCLayer(l, 2, { pad: 2 }), NotImplementedError, 'MaxPool2DCCLayer does not support padding');
  throwsWith(() => new MaxPool2DCCLayer(l, [2, 3]), NotImplementedError, 'MaxPool2DCCLayer only supports square pooling regions');
  throwsWith(() => new MaxPool2DCCLayer(l, 2, { stride: [1, 2] }), NotImplementedError, 'MaxPool2DCCLayer only supports using the same stride in both directions');
  throwsWith(() => new MaxPool2DCCLayer(l, 2, { stride: 3 }), NotImplementedError, 'MaxPool2DCCLayer only supports stride <= pool_size');
  throwsWith(() => new MaxPool2DCCLayer(l, 2, { ignoreBorder: true }), NotImplementedError, 'MaxPool2DCCLayer does not support ignore_border=True');
});

Pool('a pad of 0 (int or pair) is accepted, as Lasagne accepts it through kwargs', () => {
  const l = new InputLayer([128, 4, 12, 12]);
  assert.equal(new MaxPool2DCCLayer(l, 2, { pad: 0 }).outputShape, [128, 4, 6, 6]);
  assert.equal(new MaxPool2DCCLayer(l, 2, { pad: [0, 0] }).outputShape, [128, 4, 6, 6]);
});

Pool('test_dimshuffle_false: c01b (4, 12, 12, 16) pools to (4, 6, 6, 16), the oracle size', () => {
  const layer = new MaxPool2DCCLayer(new InputLayer([4, 12, 12, 16]), 2, { dimshuffle: false });
  assert.equal(layer.outputShape, [4, 6, 6, 16]);
  const x = randn([4, 12, 12, 16], 3);
  const expected = transpose(max_pool_2d(transpose(x, [3, 0, 1, 2]), [2, 2], [2, 2]), [1, 2, 3, 0]);
  assert.equal(layer.outputShape, expected.shape);
  assert.is(layer.dimshuffle, false);
});

Pool('poolSize and stride are ints, and stride defaults to poolSize', () => {
  const a = new MaxPool2DCCLayer(new InputLayer([2, 4, 12, 12]), 3, { stride: 2 });
  assert.is(a.poolSize, 3);
  assert.is(a.stride, 2);
  const b = new MaxPool2DCCLayer(new InputLayer([2, 4, 12, 12]), [3, 3]);
  assert.is(b.poolSize, 3);
  assert.is(b.stride, 3);
  assert.is(b.ignoreBorder, false);
  assert.is(b.dimshuffle, true);
  assert.equal(b.getParams(), []);
});

Pool('non-square inputs are accepted (a lifted cuda-convnet limit) with the oracle size', () => {
  const layer = new MaxPool2DCCLayer(new InputLayer([2, 4, 12, 20]), 3, { stride: 2 });
  assert.equal(layer.outputShape, [2, 4, 6, 10]);
  assert.equal(layer.outputShape, max_pool_2d(randn([2, 4, 12, 20], 4), [3, 3], [2, 2]).shape);
});

Pool('a 3-D input is refused with ValueError', () => {
  throwsWith(() => new MaxPool2DCCLayer(new InputLayer([4, 12, 12]), 2), ValueError, '4-dimensional', '(4, 12, 12)');
  throwsWith(() => new MaxPool2DCCLayer(new InputLayer([4, 12, 12]), 2, { dimshuffle: false }), ValueError, '4-dimensional');
});

Pool.run();
