import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import * as cudaConvnet from 'lasagne-webgpu/layers/cuda_convnet';
import { ShuffleBC01ToC01BLayer, ShuffleC01BToBC01Layer, bc01_to_c01b, c01b_to_bc01 } from 'lasagne-webgpu/layers/cuda_convnet';
import { transpose } from '../reference/array.mjs';
import { uniform } from '../reference/random.mjs';
import { throwsWith } from './support.mjs';

const { InputLayer } = lasagne.layers;

const Shuffle = suite('ShuffleBC01ToC01BLayer / ShuffleC01BToBC01Layer');

Shuffle('bc01 to c01b: (1, 2, 3, 4) becomes (2, 3, 4, 1), the shape of x.transpose(1, 2, 3, 0)', () => {
  const layer = new ShuffleBC01ToC01BLayer(new InputLayer([1, 2, 3, 4]));
  assert.equal(layer.outputShape, [2, 3, 4, 1]);
  assert.equal(layer.outputShape, transpose(uniform([1, 2, 3, 4], 1), [1, 2, 3, 0]).shape);
  assert.equal(layer.getParams(), []);
});

Shuffle('c01b to bc01: (1, 2, 3, 4) becomes (4, 1, 2, 3), the shape of x.transpose(3, 0, 1, 2)', () => {
  const layer = new ShuffleC01BToBC01Layer(new InputLayer([1, 2, 3, 4]));
  assert.equal(layer.outputShape, [4, 1, 2, 3]);
  assert.equal(layer.outputShape, transpose(uniform([1, 2, 3, 4], 2), [3, 0, 1, 2]).shape);
});

Shuffle('the aliases are the same class objects', () => {
  assert.is(bc01_to_c01b, ShuffleBC01ToC01BLayer);
  assert.is(c01b_to_bc01, ShuffleC01BToBC01Layer);
  assert.instance(new bc01_to_c01b([1, 2, 3, 4]), ShuffleBC01ToC01BLayer);
});

Shuffle('None passes through both shuffles and a round trip restores the shape', () => {
  const lin = new InputLayer([null, 3, null, 5]);
  const c01b = new ShuffleBC01ToC01BLayer(lin);
  assert.equal(c01b.outputShape, [3, null, 5, null]);
  const back = new ShuffleC01BToBC01Layer(c01b);
  assert.equal(back.outputShape, [null, 3, null, 5]);
  assert.is(back.inputLayer, c01b);
});

Shuffle('a shape array works as incoming and a name is kept', () => {
  const layer = new ShuffleC01BToBC01Layer([3, 8, 8, null], { name: 'to_bc01' });
  assert.equal(layer.outputShape, [null, 3, 8, 8]);
  assert.is(layer.name, 'to_bc01');
  assert.is(layer.inputLayer, null);
});

Shuffle('a non-4-D input is refused with ValueError', () => {
  throwsWith(() => new ShuffleBC01ToC01BLayer(new InputLayer([1, 2, 3])), lasagne.errors.ValueError, '4-dimensional');
  throwsWith(() => new ShuffleC01BToBC01Layer(new InputLayer([1, 2, 3, 4, 5])), lasagne.errors.ValueError, '4-dimensional');
});

const Module = suite('layers.cuda_convnet');

Module('layers.cuda_convnet is the same module namespace object as the subpath import', () => {
  assert.is(lasagne.layers.cuda_convnet, cudaConvnet);
  assert.is(lasagne.layers.cuda_convnet.Conv2DCCLayer, cudaConvnet.Conv2DCCLayer);
});

Module('the cuda-convnet layers are not re-exported flat into layers, as in Lasagne', () => {
  for (const name of ['Conv2DCCLayer', 'MaxPool2DCCLayer', 'ShuffleBC01ToC01BLayer', 'ShuffleC01BToBC01Layer', 'NINLayer_c01b', 'bc01_to_c01b', 'c01b_to_bc01']) {
    assert.is(name in lasagne.layers, false, name);
    assert.type(cudaConvnet[name], 'function', name);
  }
});

Shuffle.run();
Module.run();
