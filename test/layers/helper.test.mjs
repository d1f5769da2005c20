import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { NINLayer_c01b, Conv2DCCLayer, MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { throwsWith } from './support.mjs';

const { InputLayer, getAllLayers, getOutputShape, getAllParams, countParams, getAllParamValues, setAllParamValues } = lasagne.layers;
const { ValueError } = lasagne.errors;

/**
 * Lasagne's InputLayer((10, 20)) -> Dense(30) -> Dense(40), in c01b: 10 input channels (the
 * features), 1 x 1 positions, batch 3; NINLayer_c01b is the dense layer.
 */
function denseNet() {
  const lin = new InputLayer([10, 1, 1, 3]);
  const l1 = new NINLayer_c01b(lin, 30);
  const l2 = new NINLayer_c01b(l1, 40);
  return { lin, l1, l2 };
}

const fill = (shape, v) => ({ data: new Float32Array(shape.reduce((n, d) => n * d, 1)).fill(v), shape: [...shape] });

const Params = suite('getAllParams / countParams / getAllParamValues / setAllParamValues');

Params('countParams counts 10*30 + 30*40 + 30 + 40 values', () => {
  const { l2 } = denseNet();
  assert.is(countParams(l2), 10 * 30 + 30 * 40 + 30 + 40);
});

Params('regularizable: true keeps only the weights', () => {
  const { l1, l2 } = denseNet();
  assert.equal(getAllParams(l2, { regularizable: true }), [l1.W, l2.W]);
  assert.is(countParams(l2, { regularizable: true }), 10 * 30 + 30 * 40);
  assert.equal(getAllParams(l2, { regularizable: false }), [l1.b, l2.b]);
});

Params('getAllParams lists W, b per layer in topological order without duplicates', () => {
  const { l1, l2 } = denseNet();
  assert.equal(getAllParams(l2), [l1.W, l1.b, l2.W, l2.b]);
  assert.equal(getAllParams([l2, l1]), [l1.W, l1.b, l2.W, l2.b]);
});

Params('getAllParamValues gives 4 copies in getAllParams order', () => {
  const { l1, l2 } = denseNet();
  const values = getAllParamValues(l2);
  assert.is(values.length, 4);
  assert.equal(values.map((v) => v.shape), [[30, 10], [30], [40, 30], [40]]);
  assert.equal(Array.from(values[2].data), Array.from(l2.W.getValue().data));
  values[0].data.fill(123);
  assert.ok(l1.W.getValue().data[0] !== 123);
});

Params('setAllParamValues sets every value from a list', () => {
  const { l1, l2 } = denseNet();
  setAllParamValues(l2, [fill([30, 10], 1), fill([30], 2), fill([40, 30], 3), fill([40], 4)]);
  assert.is(l1.W.getValue().data[7], 1);
  assert.is(l1.b.getValue().data[0], 2);
  assert.is(l2.W.getValue().data[1199], 3);
  assert.is(l2.b.getValue().data[39], 4);
});

Params('setAllParamValues with 3 values for 4 parameters is a ValueError', () => {
  const { l2 } = denseNet();
  const values = getAllParamValues(l2);
  throwsWith(() => setAllParamValues(l2, values.slice(0, 3)), ValueError, 'mismatch: got 3 values to set 4 parameters');
});

Params('setAllParamValues with a wrong shape is a ValueError and changes nothing', () => {
  const { l1, l2 } = denseNet();
  const before = getAllParamValues(l2);
  throwsWith(
    () => setAllParamValues(l2, [fill([30, 10], 7), fill([30], 7), fill([25, 40], 7), fill([40], 7)]),
    ValueError,
    'mismatch: parameter has shape',
    '(40, 30)',
    '(25, 40)',
  );
  // the wrong value is the third: the first two must not have been set either
  throwsWith(() => setAllParamValues(l2, [fill([30, 10], 7), fill([30], 7), fill([40, 30], 7), fill([41], 7)]), ValueError, 'mismatch: parameter has shape');
  const after = getAllParamValues(l2);
  after.forEach((v, i) => assert.equal(Array.from(v.data), Array.from(before[i].data), `parameter ${i}`));
  assert.ok(l1.W.getValue().data.every((v) => v !== 7));
});

const Layers = suite('getAllLayers');

Layers('returns inputs first, in topological order, without duplicates', () => {
  const { lin, l1, l2 } = denseNet();
  assert.equal(getAllLayers(l2), [lin, l1, l2]);
  assert.equal(getAllLayers([l2, l1]), [lin, l1, l2]);
  assert.equal(getAllLayers(lin), [lin]);
});

Layers('two branches on one input list the input once, then each branch depth-first', () => {
  const lin = new InputLayer([4, 8, 8, 2]);
  const a1 = new NINLayer_c01b(lin, 5);
  const a2 = new NINLayer_c01b(a1, 6);
  const b1 = new NINLayer_c01b(lin, 7);
  assert.equal(getAllLayers([a2, b1]), [lin, a1, a2, b1]);
  assert.equal(getAllLayers([b1, a2]), [lin, b1, a1, a2]);
});

Layers('treatAsInput layers are included but not expanded', () => {
  const { l1, l2 } = denseNet();
  assert.equal(getAllLayers(l2, [l1]), [l1, l2]);
  assert.equal(getAllLayers(l2, [l2]), [l2]);
});

const Shapes = suite('getOutputShape');

Shapes('without input shapes it returns the built output shape(s)', () => {
  const { l1, l2 } = denseNet();
  assert.equal(getOutputShape(l2), [40, 1, 1, 3]);
  assert.equal(getOutputShape([l1, l2]), [[30, 1, 1, 3], [40, 1, 1, 3]]);
});

Shapes('a single shape is used for the only InputLayer', () => {
  const { l2 } = denseNet();
  assert.equal(getOutputShape(l2, [10, 4, 5, null]), [40, 4, 5, null]);
  const lin = new InputLayer([null, 3, 32, 32]);
  const conv = new Conv2DCCLayer(lin, 16, 3);
  const pool = new MaxPool2DCCLayer(conv, 2);
  assert.equal(getOutputShape(pool, [8, 3, 20, 20]), [8, 16, 9, 9]);
});

Shapes('a Map gives shapes per layer, and a mapped inner layer is treated as an input', () => {
  const { lin, l1, l2 } = denseNet();
  assert.equal(getOutputShape(l2, new Map([[lin, [10, 2, 2, 7]]])), [40, 2, 2, 7]);
  assert.equal(getOutputShape(l2, new Map([[l1, [30, 6, 6, 1]]])), [40, 6, 6, 1]);
});

Shapes('a list of layers gives a list of shapes', () => {
  const { lin, l1, l2 } = denseNet();
  assert.equal(getOutputShape([l1, l2, lin], [10, 2, 3, 4]), [[30, 2, 3, 4], [40, 2, 3, 4], [10, 2, 3, 4]]);
});

Shapes('an InputLayer missing from the Map is a free-floating ValueError', () => {
  const { l2 } = denseNet();
  const other = new InputLayer([10, 1, 1, 3]);
  throwsWith(() => getOutputShape(l2, new Map([[other, [10, 2, 2, 2]]])), ValueError, 'free-floating');
});

Shapes('a single shape for a network with two InputLayers is a ValueError', () => {
  const a = denseNet();
  const b = denseNet();
  throwsWith(() => getOutputShape([a.l2, b.l2], [10, 2, 2, 2]), ValueError, 'single input shape');
});

Shapes('a non-Layer key in the Map is a TypeError', () => {
  const { l2 } = denseNet();
  throwsWith(() => getOutputShape(l2, new Map([['input', [10, 2, 2, 2]]])), TypeError, 'Layer');
});

Shapes('the top-level exports are the same helpers as layers.*', () => {
  assert.is(lasagne.getOutputShape, getOutputShape);
  assert.is(lasagne.getAllLayers, getAllLayers);
  assert.is(lasagne.setAllParamValues, setAllParamValues);
});

Params.run();
Layers.run();
Shapes.run();
