import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { throwsWith } from './support.mjs';

const { Layer, InputLayer, Param } = lasagne.layers;
const { Constant } = lasagne.init;
const { ValueError } = lasagne.errors;

const one = () => new Constant({ val: 1 });
const tagsOf = (layer, p) => [...layer.params.get(p)].sort();

const Base = suite('Layer');

Base('a shape incoming gives inputShape and no inputLayer; a Layer incoming gives both', () => {
  const a = new Layer([2, 3]);
  assert.equal(a.inputShape, [2, 3]);
  assert.is(a.inputLayer, null);
  assert.is(a.name, null);
  assert.equal(a.outputShape, [2, 3]);
  const b = new Layer(a, 'b');
  assert.is(b.inputLayer, a);
  assert.equal(b.inputShape, [2, 3]);
  assert.is(b.name, 'b');
  assert.equal(b.getOutputShapeFor([5, null]), [5, null]);
});

Base('addParam tags a parameter trainable and regularizable by default', () => {
  const layer = new Layer([2, 3]);
  const W = layer.addParam(one(), [2, 2], 'W');
  assert.instance(W, Param);
  assert.equal(tagsOf(layer, W), ['regularizable', 'trainable']);
  assert.equal(W.shape, [2, 2]);
  assert.equal(Array.from(W.getValue().data), [1, 1, 1, 1]);
});

Base('addParam with trainable false removes that tag only', () => {
  const layer = new Layer([2, 3]);
  const W = layer.addParam(one(), [2, 2], 'W', { trainable: false });
  assert.equal(tagsOf(layer, W), ['regularizable']);
});

Base('getParams combines custom tags as Lasagne does', () => {
  const layer = new Layer([2, 3]);
  const A = layer.addParam(one(), [2, 2], 'A', { tag1: true });
  const B = layer.addParam(one(), [2, 2], 'B', { tag1: true, tag2: true });
  const C = layer.addParam(one(), [2, 2], 'C', { tag2: true });
  assert.equal(tagsOf(layer, A), ['regularizable', 'tag1', 'trainable']);
  assert.equal(layer.getParams(), [A, B, C]);
  assert.equal(layer.getParams({ tag1: true }), [A, B]);
  assert.equal(layer.getParams({ tag1: false }), [C]);
  assert.equal(layer.getParams({ tag2: true }), [B, C]);
  assert.equal(layer.getParams({ tag2: false }), [A]);
  assert.equal(layer.getParams({ tag1: true, tag2: true }), [B]);
  assert.equal(layer.getParams({ tag1: true, tag2: false }), [A]);
  assert.equal(layer.getParams({ tag1: false, tag2: false }), []);
});

Base("a named layer prefixes parameter names: 'layer_name.A'", () => {
  const layer = new Layer([2, 3], 'layer_name');
  assert.is(layer.addParam(one(), [2, 2], 'A').name, 'layer_name.A');
  assert.is(new Layer([2, 3]).addParam(one(), [2, 2], 'A').name, 'A');
});

Base('non-positive input shape dimensions raise ValueError; (None, 1, 1) is fine', () => {
  throwsWith(() => new Layer([null, -1, -1]), ValueError, 'Cannot create Layer with a non-positive input_shape dimension');
  throwsWith(() => new Layer([null, 0, 0]), ValueError, 'Cannot create Layer with a non-positive input_shape dimension', '(None, 0, 0)');
  assert.equal(new Layer([null, 1, 1]).inputShape, [null, 1, 1]);
});

Base('addParam refuses a non-positive parameter shape with ValueError', () => {
  const layer = new Layer([2, 3]);
  throwsWith(() => layer.addParam(one(), [0, 2], 'A'), ValueError, 'Cannot create param with a non-positive shape dimension', "name='A'");
  assert.equal(layer.getParams(), []);
});

Base('addParam checks an NDArray spec against the shape', () => {
  const layer = new Layer([2, 3]);
  throwsWith(
    () => layer.addParam({ data: new Float32Array(6), shape: [2, 3] }, [3, 2], 'A'),
    ValueError,
    'cannot initialize parameter A: the provided numpy array has shape (2, 3), should be (3, 2)',
  );
});

const Input = suite('InputLayer');

Input('the shape is the output shape and there is no input layer or input shape', () => {
  const l = new InputLayer([null, 3, 32, 32], { name: 'in' });
  assert.equal(l.outputShape, [null, 3, 32, 32]);
  assert.equal(l.shape, [null, 3, 32, 32]);
  assert.is(l.inputLayer, null);
  assert.is(l.inputShape, null);
  assert.is(l.name, 'in');
  l.outputShape[1] = 99;
  assert.equal(l.outputShape, [null, 3, 32, 32]);
});

Input('a non-positive shape dimension raises ValueError with Lasagne wording', () => {
  throwsWith(() => new InputLayer([null, 0, 32]), ValueError, 'Cannot create InputLayer with a non-positive shape dimension', 'shape=(None, 0, 32)');
  throwsWith(() => new InputLayer([-2]), ValueError, 'Cannot create InputLayer with a non-positive shape dimension', "self.name=None");
  throwsWith(() => new InputLayer([1, -1], { name: 'x' }), ValueError, "self.name='x'");
});

Input('an unknown option and a non-array shape are TypeErrors', () => {
  throwsWith(() => new InputLayer([1, 2], { input_var: null }), TypeError, "unknown option 'input_var'");
  throwsWith(() => new InputLayer(5), TypeError, 'shape');
});

const P = suite('Param');

P('getValue returns a copy', () => {
  const p = new Layer([2]).addParam(one(), [2, 2], 'A');
  const v = p.getValue();
  v.data.fill(5);
  assert.equal(Array.from(p.getValue().data), [1, 1, 1, 1]);
});

P('setValue replaces the value with a copy and bumps the version', () => {
  const p = new Layer([2]).addParam(one(), [2, 2], 'A');
  const v0 = p.version;
  const src = { data: Float32Array.of(1, 2, 3, 4), shape: [2, 2] };
  p.setValue(src);
  src.data.fill(0);
  assert.equal(Array.from(p.getValue().data), [1, 2, 3, 4]);
  assert.ok(p.version > v0);
});

P('setValue refuses another shape or float64 data with ValueError and keeps the value', () => {
  const p = new Layer([2]).addParam(one(), [2, 2], 'A');
  throwsWith(() => p.setValue({ data: new Float32Array(4), shape: [4] }), ValueError, 'mismatch', '(2, 2)', '(4,)');
  throwsWith(() => p.setValue({ data: new Float64Array(4), shape: [2, 2] }), ValueError, 'Float32Array');
  throwsWith(() => p.setValue({ data: new Float32Array(3), shape: [2, 2] }), ValueError);
  assert.equal(Array.from(p.getValue().data), [1, 1, 1, 1]);
});

Base.run();
Input.run();
P.run();
