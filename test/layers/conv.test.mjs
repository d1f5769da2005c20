import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { convNd, filterActsC01b } from '../reference/conv.mjs';
import { flipSpatial, transpose } from '../reference/array.mjs';
import { uniform, toFloat32 } from '../reference/random.mjs';
import { recordingSpec, throwsWith, expectLasagneTagFilters } from './support.mjs';

const { InputLayer, convOutputLength, convInputLength } = lasagne.layers;
const { ValueError, RuntimeError, NotImplementedError } = lasagne.errors;
const { identity, rectify } = lasagne.nonlinearities;

const seeded = (seed) => lasagne.random.setRng(new lasagne.random.RandomState(seed));

/** Lasagne's conv2d_test_sets(): 20 pad/stride/k cases plus the 4 k=3 extras. */
function conv2dTestSets() {
  const sets = [];
  for (const pad of [0, 1, 2, 'full', 'same'])
    for (const stride of [1, 2, 3])
      for (const k of [1, 3]) if (stride <= k) sets.push({ k, kwargs: { pad, stride, flipFilters: true } });
  sets.push({ k: 3, kwargs: { b: null, flipFilters: true } });
  sets.push({ k: 3, kwargs: { untieBiases: true, flipFilters: true } });
  sets.push({ k: 3, kwargs: { pad: 'valid', flipFilters: true } });
  sets.push({ k: 3, kwargs: { flipFilters: false }, correlation: true });
  return sets;
}

const input64 = uniform([3, 1, 11, 16], 1);

/** The test set's kernel (float64 for the oracle, float32 NDArray for the layer) and expected output. */
function caseData({ k, kwargs, correlation }) {
  const kernel64 = uniform([16, 1, k, k], 10 + k);
  const expected = convNd(input64, correlation ? flipSpatial(kernel64) : kernel64, kwargs.pad ?? 'valid', kwargs.stride ?? 1);
  return { kernel: toFloat32(kernel64), expected };
}

const Lengths = suite('convOutputLength / convInputLength');

Lengths('convOutputLength reproduces test_conv_output_length', () => {
  assert.is(convOutputLength(13, 5, 3, 'valid'), 3);
  assert.is(convOutputLength(13, 5, 3, 0), 3);
  assert.is(convOutputLength(13, 5, 3, 'full'), 6);
  assert.is(convOutputLength(13, 5, 3, 'same'), 5);
  assert.is(convOutputLength(13, 5, 3, 2), 5);
  assert.is(convOutputLength(null, 5, 3, 2), null);
  throwsWith(() => convOutputLength(13, 5, 3, '_nonexistent_mode'), ValueError, 'Invalid pad: ');
});

Lengths('convInputLength reproduces test_conv_input_length', () => {
  assert.is(convInputLength(2, 3, 1, 'valid'), 4);
  assert.is(convInputLength(2, 3, 1, 0), 4);
  assert.is(convInputLength(6, 4, 1, 2), 5);
  assert.is(convInputLength(2, 3, 2, 0), 5);
  assert.is(convInputLength(3, 3, 2, 'same'), 5);
  assert.is(convInputLength(3, 3, 2, 'full'), 3);
  throwsWith(() => convInputLength(2, 3, 1, '_nonexistent_mode'), ValueError, 'Invalid pad: ');
});

const Sets = suite('Conv2DCCLayer conv2d_test_sets');

Sets('there are 20 pad/stride/k cases and 4 extras', () => {
  assert.is(conv2dTestSets().length, 24);
});

for (const set of conv2dTestSets()) {
  const label = JSON.stringify(set.kwargs);
  Sets(`the output shape with k=${set.k} and ${label} equals the convNd oracle's`, () => {
    const { kernel, expected } = caseData(set);
    const layer = new Conv2DCCLayer(new InputLayer([3, 1, 11, 16]), 16, [set.k, set.k], { W: kernel, ...set.kwargs });
    assert.equal(layer.outputShape, expected.shape);
    assert.equal(Array.from(layer.W.getValue().data), Array.from(kernel.data));
    assert.equal(layer.W.shape, [16, 1, set.k, set.k]);
    if (set.kwargs.b === null) assert.is(layer.b, null);
    else assert.equal(layer.b.shape, set.kwargs.untieBiases ? [16, ...expected.shape.slice(2)] : [16]);
    if (set.kwargs.pad === 'valid') assert.equal(layer.pad, [0, 0]);
    assert.is(layer.flipFilters, set.kwargs.flipFilters);
  });
}

Sets('the num_groups=3 case raises RuntimeError (not ValueError), as for Lasagne where it is skipped', () => {
  const kernel = toFloat32(uniform([9, 2, 3, 3], 4));
  const err = throwsWith(
    () => new Conv2DCCLayer(new InputLayer([2, 6, 11, 16]), 9, [3, 3], { W: kernel, numGroups: 3, flipFilters: true }),
    RuntimeError,
    'num_groups',
  );
  assert.not.instance(err, ValueError);
});

Sets('test_with_nones: a (None, 1, None, None) input gives (None, 16, None, None)', () => {
  let n = 0;
  for (const set of conv2dTestSets()) {
    if (set.kwargs.untieBiases) continue;
    const { kernel } = caseData(set);
    const layer = new Conv2DCCLayer(new InputLayer([null, 1, null, null]), 16, [set.k, set.k], { W: kernel, ...set.kwargs });
    assert.equal(layer.outputShape, [null, 16, null, null], JSON.stringify(set.kwargs));
    n++;
  }
  assert.is(n, 23);
});

Sets('untied biases need known output sizes: a None spatial dim is a TypeError, as in Lasagne under Python 3', () => {
  throwsWith(() => new Conv2DCCLayer(new InputLayer([null, 1, null, null]), 16, 3, { untieBiases: true }), TypeError, 'None');
});

const Conv = suite('Conv2DCCLayer');

Conv('test_init_none_nonlinearity_bias: null nonlinearity is identity and null b is no bias', () => {
  const layer = new Conv2DCCLayer(new InputLayer([1, 2, 3, 3]), 16, [3, 3], { nonlinearity: null, b: null });
  assert.is(layer.nonlinearity, identity);
  assert.is(layer.b, null);
  assert.equal(layer.getParams(), [layer.W]);
});

Conv('the default nonlinearity is rectify and flipFilters defaults to false', () => {
  const layer = new Conv2DCCLayer(new InputLayer([1, 2, 3, 3]), 16, [3, 3]);
  assert.is(layer.nonlinearity, rectify);
  assert.is(layer.flipFilters, false);
  assert.is(layer.dimshuffle, true);
  assert.is(layer.partialSum, 1);
  assert.is(Array.from(layer.b.getValue().data).every((v) => v === 0), true);
});

Conv('test_invalid_pad: an unknown pad mode is a TypeError and same padding needs odd filters', () => {
  throwsWith(() => new Conv2DCCLayer(new InputLayer([1, 2, 3, 3]), 16, [3, 3], { pad: '_nonexistent_mode' }), TypeError, 'iterable of int');
  throwsWith(() => new Conv2DCCLayer(new InputLayer([1, 2, 3, 3]), 16, [4, 4], { pad: 'same' }), NotImplementedError, 'requires odd filter size');
});

Conv('test_get_params: tag filters select W and b as in Lasagne', () => {
  const layer = new Conv2DCCLayer(new InputLayer([128, 3, 32, 32]), 16, [3, 3]);
  expectLasagneTagFilters(layer);
});

Conv('test_unsupported_settings: each cuda-convnet limit raises RuntimeError with Lasagne wording', () => {
  const l = new InputLayer([128, 3, 32, 32]);
  throwsWith(() => new Conv2DCCLayer(l, 16, [3, 5]), RuntimeError, 'Conv2DCCLayer only supports square filters');
  throwsWith(() => new Conv2DCCLayer(l, 16, [3, 3], { stride: [1, 2] }), RuntimeError, 'Conv2DCCLayer only supports square strides');
  throwsWith(() => new Conv2DCCLayer(l, 15, [3, 3]), RuntimeError, 'Conv2DCCLayer requires num_filters to be a multiple of 16', 'but num_filters is 15');
  throwsWith(() => new Conv2DCCLayer(l, 16, [3, 3], { pad: [1, 2] }), RuntimeError, 'Conv2DCCLayer only supports square padding');
  throwsWith(
    () => new Conv2DCCLayer(new InputLayer([128, 7, 32, 32]), 16, [3, 3]),
    RuntimeError,
    'Conv2DCCLayer requires the number of input channels to be 1, 2, 3 or a multiple of 4',
  );
});

Conv('BaseConvLayer checks: rank, as_tuple type and length, and a negative pad', () => {
  throwsWith(
    () => new Conv2DCCLayer(new InputLayer([1, 3, 11]), 16, 3),
    ValueError,
    'Tried to create a 2D convolution layer with input shape (1, 3, 11). Expected 4 input dimensions',
  );
  throwsWith(() => new Conv2DCCLayer(new InputLayer([1, 3, 11, 11]), 16, [3, 3, 3]), ValueError, 'expected a single value or an iterable with length 2');
  throwsWith(() => new Conv2DCCLayer(new InputLayer([1, 3, 11, 11]), 16, 3, { stride: 1.5 }), TypeError, 'iterable of int');
  throwsWith(() => new Conv2DCCLayer(new InputLayer([1, 3, 11, 11]), 16, 3, { pad: -1 }), ValueError, 'bad value of pad (must be non-negative): -1');
});

Conv('an unknown channel count cannot size W: TypeError, as create_param under Python 3', () => {
  throwsWith(() => new Conv2DCCLayer(new InputLayer([1, null, 11, 11]), 16, 3), TypeError, 'None', "name='W'");
});

Conv('test_pad: pad (3, 3) on 32x32 with 3x3 filters gives (128, 16, 36, 36)', () => {
  const layer = new Conv2DCCLayer(new InputLayer([128, 3, 32, 32]), 16, [3, 3], { pad: [3, 3] });
  assert.equal(layer.outputShape, [128, 16, 36, 36]);
  assert.equal(layer.pad, [3, 3]);
});

Conv('test_dimshuffle_false_shapes: c01b W is (C, k, k, F) and b is (F,) or (F, rows, cols)', () => {
  const tied = new Conv2DCCLayer(new InputLayer([4, 32, 32, 128]), 16, [3, 3], { dimshuffle: false });
  assert.equal(tied.W.shape, [4, 3, 3, 16]);
  assert.equal(tied.b.shape, [16]);
  assert.equal(tied.outputShape, [16, 30, 30, 128]);
  const untied = new Conv2DCCLayer(new InputLayer([4, 32, 32, 128]), 16, [3, 3], { dimshuffle: false, untieBiases: true });
  assert.equal(untied.W.shape, [4, 3, 3, 16]);
  assert.equal(untied.b.shape, [16, 30, 30]);
});

Conv('test_dimshuffle_false_get_output_for: the c01b output shape equals FilterActs on (4,5,5,8)', () => {
  const input = uniform([4, 5, 5, 8], 21);
  const kernel = uniform([4, 3, 3, 16], 22);
  const layer = new Conv2DCCLayer(new InputLayer([4, 5, 5, 8]), 16, [3, 3], { dimshuffle: false, W: toFloat32(kernel), b: null, nonlinearity: null });
  const expected = filterActsC01b(input, kernel, 0, 1);
  assert.equal(expected.shape, [16, 3, 3, 8]);
  assert.equal(layer.outputShape, expected.shape);
});

const TABLE = [
  // [pad, stride, Lasagne (rows, cols), cuda-convnet raw grid] for 11 x 16 input, k = 3
  [0, 1, [9, 14], [9, 14]], [0, 2, [5, 7], [5, 8]], [0, 3, [3, 5], [4, 6]],
  [1, 2, [6, 8], [6, 9]], [1, 3, [4, 6], [5, 6]], [2, 2, [7, 9], [7, 10]], [2, 3, [5, 6], [5, 7]],
  ['full', 2, [7, 9], [7, 10]], ['full', 3, [5, 6], [5, 7]], ['same', 2, [6, 8], [6, 9]], ['same', 3, [4, 6], [5, 6]],
];

Conv('every row of the 11x16 table: Lasagne output size and cuda-convnet raw grid (k=3)', () => {
  const input = uniform([1, 1, 11, 16], 5);
  const kernel = uniform([16, 1, 3, 3], 6);
  for (const [pad, stride, lasagneSize, raw] of TABLE) {
    const layer = new Conv2DCCLayer(new InputLayer([2, 1, 11, 16]), 16, 3, { pad, stride });
    const what = `pad=${pad} stride=${stride}`;
    assert.equal(layer.outputShape, [2, 16, ...lasagneSize], what);
    assert.equal(layer.moduleGrid(11, 16), raw, what);
    assert.equal(convNd(input, kernel, pad, stride).shape.slice(2), lasagneSize, `oracle ${what}`);
    const p = pad === 'same' ? 1 : pad === 'full' ? 2 : pad;
    assert.is(layer.resolvedPad, p, what);
    const grid = filterActsC01b(transpose(input, [1, 2, 3, 0]), transpose(kernel, [1, 2, 3, 0]), p, stride).shape.slice(1, 3);
    assert.equal(grid, raw, `oracle ${what}`);
  }
});

Conv('every k=1 row of the table: pad 0/1/2/full/same gives (11,16), (13,18), (15,20), (11,16), (11,16)', () => {
  const rows = [[0, [11, 16]], [1, [13, 18]], [2, [15, 20]], ['full', [11, 16]], ['same', [11, 16]]];
  for (const [pad, size] of rows) {
    const layer = new Conv2DCCLayer(new InputLayer([2, 1, 11, 16]), 16, 1, { pad });
    assert.equal(layer.outputShape, [2, 16, ...size], `pad=${pad}`);
    assert.equal(layer.moduleGrid(11, 16), size, `pad=${pad}`);
  }
});

Conv('the default W is GlorotUniform with c01b when dimshuffle is false (bound gain*sqrt(6/((F+C)k^2)))', () => {
  // C=4, k=3, F=64: the c01b bound is sqrt(6/(68*9)) = 0.0990; reading (4,3,3,64) as bc01 would
  // give sqrt(6/(7*192)) = 0.0668, below 0.9 of it, so a wrong fan would fail the lower check.
  const bound = Math.sqrt(6 / ((64 + 4) * 9));
  for (const dimshuffle of [false, true]) {
    seeded(1234);
    const shape = dimshuffle ? [8, 4, 10, 10] : [4, 10, 10, 8];
    const layer = new Conv2DCCLayer(new InputLayer(shape), 64, 3, { dimshuffle });
    const w = layer.W.getValue();
    assert.equal(w.shape, dimshuffle ? [64, 4, 3, 3] : [4, 3, 3, 64]);
    const maxAbs = w.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(maxAbs <= bound * (1 + 1e-6), `dimshuffle=${dimshuffle}: max |W| ${maxAbs} > bound ${bound}`);
    assert.ok(maxAbs > 0.9 * bound, `dimshuffle=${dimshuffle}: max |W| ${maxAbs} <= 0.9 * bound ${bound}`);
    const mean = w.data.reduce((s, v) => s + v, 0) / w.data.length;
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  }
});

Conv('a W NDArray of the right shape is copied: later changes to the source do not leak in', () => {
  const kernel = toFloat32(uniform([16, 3, 3, 3], 8));
  const original = Array.from(kernel.data);
  const layer = new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3, { W: kernel });
  kernel.data.fill(99);
  assert.equal(Array.from(layer.W.getValue().data), original);
  const copy = layer.W.getValue();
  copy.data.fill(-1);
  assert.equal(Array.from(layer.W.getValue().data), original);
});

Conv('a W NDArray of the wrong shape is a ValueError naming both shapes', () => {
  const wrong = { data: new Float32Array(16 * 3 * 3 * 3), shape: [16, 3, 9] };
  throwsWith(
    () => new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3, { W: wrong }),
    ValueError,
    'cannot initialize parameter W: the provided numpy array has shape',
    '(16, 3, 9)',
    '(16, 3, 3, 3)',
  );
});

Conv('a W with Float64Array or plain-array data is a ValueError, never a silent conversion', () => {
  const w64 = { data: new Float64Array(16 * 3 * 3 * 3), shape: [16, 3, 3, 3] };
  throwsWith(() => new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3, { W: w64 }), ValueError, 'Float32Array');
  const wList = { data: new Array(16 * 3 * 3 * 3).fill(0), shape: [16, 3, 3, 3] };
  throwsWith(() => new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3, { W: wList }), ValueError, 'Float32Array');
});

Conv('b given as a plain number is a ValueError that suggests init.Constant', () => {
  throwsWith(() => new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3, { b: 0.5 }), ValueError, 'init.Constant');
  const ok = new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3, { b: new lasagne.init.Constant({ val: 0.5 }) });
  assert.ok(Array.from(ok.b.getValue().data).every((v) => v === 0.5));
});

Conv('a Lasagne-spelled option is a TypeError suggesting the camelCase key', () => {
  throwsWith(
    () => new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3, { untie_biases: true }),
    TypeError,
    "unknown option 'untie_biases'",
    "did you mean 'untieBiases'",
  );
});

Conv('c01b untied biases accept a correct (F, rows, cols) NDArray, also with a null batch (documented deviation)', () => {
  const b = toFloat32(uniform([16, 30, 30], 9));
  for (const batch of [128, null]) {
    const layer = new Conv2DCCLayer(new InputLayer([4, 32, 32, batch]), 16, [3, 3], { dimshuffle: false, untieBiases: true, b });
    assert.equal(layer.b.shape, [16, 30, 30]);
    assert.equal(Array.from(layer.b.getValue().data), Array.from(b.data));
    assert.equal(layer.outputShape, [16, 30, 30, batch]);
    assert.equal(layer.getParams(), [layer.W, layer.b]);
  }
});

Conv('nothing is constructed half-way: a function W is not called when a later check fails', () => {
  const make = (shape) => ({ data: new Float32Array(shape.reduce((n, d) => n * d, 1)), shape });
  const W = recordingSpec(make);
  const b = recordingSpec(make);
  throwsWith(() => new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 15, 3, { W, b }), RuntimeError, 'multiple of 16');
  throwsWith(() => new Conv2DCCLayer(new InputLayer([2, 7, 8, 8]), 16, 3, { W, b }), RuntimeError, 'input channels');
  throwsWith(() => new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3, { W, b, pad: [1, 2] }), RuntimeError, 'square padding');
  assert.equal(W.calls, []);
  assert.equal(b.calls, []);
  const layer = new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3, { W, b });
  assert.equal(W.calls, [[16, 3, 3, 3]]);
  assert.equal(b.calls, [[16]]);
  assert.equal(layer.W.shape, [16, 3, 3, 3]);
});

Conv('a named layer names its parameters conv.W and conv.b', () => {
  const layer = new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3, { name: 'conv' });
  assert.is(layer.name, 'conv');
  assert.is(layer.W.name, 'conv.W');
  assert.is(layer.b.name, 'conv.b');
  const unnamed = new Conv2DCCLayer(new InputLayer([2, 3, 8, 8]), 16, 3);
  assert.is(unnamed.W.name, 'W');
  assert.is(unnamed.b.name, 'b');
});

Conv('stride greater than the filter size passes construction (Lasagne fails only at run time)', () => {
  const layer = new Conv2DCCLayer(new InputLayer([1, 1, 11, 16]), 16, 1, { stride: 2 });
  assert.equal(layer.stride, [2, 2]);
  assert.equal(layer.filterSize, [1, 1]);
  assert.equal(layer.outputShape, [1, 16, 6, 8]);
});

Conv('filterSize and stride are stored as pairs and the attributes keep Lasagne meanings', () => {
  const layer = new Conv2DCCLayer(new InputLayer([2, 4, 12, 12]), 32, 5, { stride: 1, pad: 'same', partialSum: 4 });
  assert.equal(layer.filterSize, [5, 5]);
  assert.equal(layer.stride, [1, 1]);
  assert.is(layer.pad, 'same');
  assert.is(layer.resolvedPad, 2);
  assert.is(layer.numFilters, 32);
  assert.is(layer.numInputChannels, 4);
  assert.is(layer.partialSum, 4);
  assert.is(layer.n, 2);
  assert.equal(layer.outputShape, [2, 32, 12, 12]);
});

Lengths.run();
Sets.run();
Conv.run();
