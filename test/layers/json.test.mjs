// layers.toJSON / layers.fromJSON: the model file format, round trips, and refusals.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, bc01_to_c01b, c01b_to_bc01 } from 'lasagne-webgpu/layers/cuda_convnet';
import { throwsWith } from './support.mjs';

const { InputLayer, toJSON, fromJSON } = lasagne.layers;
const { ValueError } = lasagne.errors;
const { init, nonlinearities } = lasagne;

const json = suite('layers.toJSON / layers.fromJSON');

/** A network that uses every registered layer class, c01b and bc01, several initializers and nonlinearities. */
function everything() {
  let net = new InputLayer([null, 3, 16, 12], { name: 'in' });
  net = new Conv2DCCLayer(net, 16, 3, {
    pad: 'same', untieBiases: true, name: 'conv1', W: new init.HeNormal({ gain: 'relu' }), b: new init.Constant({ val: 0.1 }),
    nonlinearity: new nonlinearities.LeakyRectify({ leakiness: 0.2 }),
  });
  net = new MaxPool2DCCLayer(net, 3, { stride: 2 });
  net = new bc01_to_c01b(net, { name: 'shuffle' });
  net = new Conv2DCCLayer(net, 32, [2, 2], {
    dimshuffle: false, stride: 2, b: null, flipFilters: true, partialSum: null,
    W: new init.Glorot(init.Normal, { gain: 2, c01b: true }), nonlinearity: nonlinearities.tanh,
  });
  net = new MaxPool2DCCLayer(net, 2, { dimshuffle: false });
  net = new NINLayer_c01b(net, 10, { nonlinearity: null, W: new init.Uniform({ range: [-0.5, 0.25] }), name: 'nin' });
  return new c01b_to_bc01(net);
}

function paramsOf(net) {
  return lasagne.getAllParams(net).map((p) => [p.name, [...p.shape]]);
}

json('a round trip gives the same classes, names, shapes, params, options and plan digest', () => {
  lasagne.random.setRng(new lasagne.random.RandomState(3));
  const net = everything();
  const model = toJSON(net);
  assert.is(model.format, 'lasagne-webgpu-model');
  assert.is(model.version, 1);
  const text = JSON.stringify(model);
  const copy = fromJSON(text);
  const a = lasagne.getAllLayers(net);
  const b = lasagne.getAllLayers(copy);
  assert.equal(b.map((l) => l.constructor.name), a.map((l) => l.constructor.name));
  assert.equal(b.map((l) => l.name), a.map((l) => l.name));
  assert.equal(b.map((l) => l.outputShape), a.map((l) => l.outputShape));
  assert.equal(paramsOf(copy), paramsOf(net));
  assert.equal(b.map((l) => l.config()), a.map((l) => l.config()));
  assert.is(b[1].nonlinearity.leakiness, 0.2);
  assert.is(b[4].W.getValue().shape.length, 4);
  assert.is(b[4].b, null);
  assert.is(b[4].partialSum, null);
  assert.equal(toJSON(copy), model, 'writing the copy gives the same file');
  assert.is(lasagne.plan(copy, { batchSize: 5 }).digest, lasagne.plan(net, { batchSize: 5 }).digest);
  const cifar = lasagne.cifar10Net(null);
  assert.is(lasagne.plan(fromJSON(toJSON(cifar)), { batchSize: 8 }).digest, lasagne.plan(cifar, { batchSize: 8 }).digest);
});

json('initializers and nonlinearities are written by name with their options', () => {
  const model = toJSON(everything());
  const conv1 = model.layers[1];
  assert.equal(conv1, {
    class: 'Conv2DCCLayer', incoming: 0, args: [16, [3, 3]],
    options: {
      stride: [1, 1], pad: 'same', untieBiases: true,
      W: { class: 'HeNormal', options: { gain: Math.SQRT2, c01b: false } },
      b: { class: 'Constant', options: { val: 0.1 } },
      nonlinearity: { class: 'LeakyRectify', options: { leakiness: 0.2 } },
      dimshuffle: true, flipFilters: false, partialSum: 1, numGroups: 1, name: 'conv1',
    },
  });
  assert.equal(model.layers[4].options.W, { class: 'Glorot', args: [{ ref: 'Normal' }], options: { gain: 2, c01b: true } });
  assert.equal(model.layers[4].options.nonlinearity, { ref: 'tanh' });
  assert.equal(model.layers[6].options.nonlinearity, { ref: 'linear' }, 'nonlinearity: null is identity, written as linear');
  assert.equal(model.layers[0], { class: 'InputLayer', args: [[null, 3, 16, 12]], options: { name: 'in' } });
  assert.is(model.output, 7);
});

json('weights travel as npz bytes: the rebuilt network computes the same values', async () => {
  const net = everything();
  const copy = fromJSON(toJSON(net));
  lasagne.setAllParamValues(copy, lasagne.loadNpz(lasagne.saveNpz(lasagne.getAllParamValues(net))));
  const x = lasagne.ndarray(new Float32Array(2 * 3 * 16 * 12).map((_, i) => Math.cos(i * 0.7)), [2, 3, 16, 12]);
  const y0 = await lasagne.layers.getOutput(net, x, { backend: 'wasm', threads: 1 });
  const y1 = await lasagne.layers.getOutput(copy, x, { backend: 'wasm', threads: 1 });
  assert.equal(y1.shape, y0.shape);
  assert.ok(y0.data.some((v) => v !== 0));
  assert.equal(Array.from(y1.data), Array.from(y0.data));
});

json('a parameter given as an array is left out (the weights file carries it) and rebuilt by the default initializer', () => {
  const W = lasagne.ndarray(new Float32Array(16 * 3 * 3 * 3).fill(0.5), [16, 3, 3, 3]);
  const net = new Conv2DCCLayer(new InputLayer([1, 3, 8, 8]), 16, 3, { W, b: new init.Constant({ val: 1 }) });
  const model = toJSON(net);
  assert.not.ok('W' in model.layers[1].options);
  const copy = fromJSON(model);
  assert.equal(copy.W.shape, [16, 3, 3, 3]);
  assert.ok(copy.W.getValue().data.some((v) => v !== 0.5));
  assert.ok(copy.b.getValue().data.every((v) => v === 1));
  assert.equal(model.layers[1].incoming, 0);
  const onShape = new Conv2DCCLayer([null, 3, 8, 8], 16, 3);
  assert.equal(toJSON(onShape).layers[0].incoming, [null, 3, 8, 8], 'a layer built on a shape keeps the shape as incoming');
  assert.equal(fromJSON(toJSON(onShape)).outputShape, onShape.outputShape);
});

json('several outputs are written as outputs and rebuilt as a list', () => {
  const l_in = new InputLayer([2, 3, 8, 8]);
  const a = new Conv2DCCLayer(l_in, 16, 3, { name: 'a' });
  const b = new MaxPool2DCCLayer(l_in, 2, { name: 'b' });
  const model = toJSON([a, b]);
  assert.equal(model.outputs, [1, 2]);
  const [a2, b2] = fromJSON(model);
  assert.is(a2.name, 'a');
  assert.is(b2.name, 'b');
  assert.is(a2.inputLayer, b2.inputLayer, 'the shared InputLayer stays shared');
});

json('unknown classes, options, versions and malformed files are refused with clear errors', () => {
  const model = toJSON(lasagne.cifar10Net(4));
  const edit = (f) => {
    const m = JSON.parse(JSON.stringify(model));
    f(m);
    return m;
  };
  throwsWith(() => fromJSON(edit((m) => (m.layers[1].class = 'Conv2DCCLayr'))), ValueError, "layer 1 names the unknown layer class \"Conv2DCCLayr\"", "did you mean 'Conv2DCCLayer'?");
  throwsWith(() => fromJSON(edit((m) => (m.layers[1].class = 'BatchNormLayer'))), ValueError, 'unknown layer class "BatchNormLayer"', "'InputLayer'");
  throwsWith(() => fromJSON(edit((m) => (m.layers[1].options.untie_biases = true))), TypeError, "unknown option 'untie_biases' for Conv2DCCLayer; did you mean 'untieBiases'?");
  throwsWith(() => fromJSON(edit((m) => (m.layers[1].options.nonlinearity = { ref: 'relu' }))), ValueError, 'unknown class or function "relu"');
  throwsWith(() => fromJSON(edit((m) => (m.layers[1].options.W = { class: 'GlorotUniform', options: { gian: 1 } }))), TypeError, "unknown option 'gian' for GlorotUniform; did you mean 'gain'?");
  throwsWith(() => fromJSON(edit((m) => (m.layers[1].args = [20, [5, 5]]))), lasagne.errors.RuntimeError, 'Conv2DCCLayer requires num_filters to be a multiple of 16, but num_filters is 20');
  throwsWith(() => fromJSON(edit((m) => (m.version = 2))), ValueError, 'reads model files of version 1, but version=2', 'upgrade');
  throwsWith(() => fromJSON(edit((m) => delete m.version)), ValueError, 'version=undefined');
  throwsWith(() => fromJSON(edit((m) => (m.format = 'keras'))), ValueError, "format must be 'lasagne-webgpu-model'");
  throwsWith(() => fromJSON(edit((m) => (m.layers[2].incoming = 5))), ValueError, 'index of an earlier layer (0 to 1), but incoming=5');
  throwsWith(() => fromJSON(edit((m) => (m.layers[2].incomming = 1))), ValueError, "unknown key 'incomming'; did you mean 'incoming'?");
  throwsWith(() => fromJSON(edit((m) => (m.layers[1].args = [32]))), ValueError, 'args to be an array of 2 (numFilters, filterSize)');
  throwsWith(() => fromJSON(edit((m) => (m.output = 99))), ValueError, 'output must be a layer index');
  throwsWith(() => fromJSON('{"format":'), ValueError, 'the text is not JSON');
  // a hostile file cannot make us allocate: parameters are bounded before anything is sampled
  throwsWith(() => fromJSON(edit((m) => (m.layers[1].args[0] = 16 * 2 ** 24))), ValueError, 'more than the limit of 2^28', 'parameter conv1.W');
  throwsWith(() => fromJSON(null), ValueError, 'expected a model object or its JSON text');
});

json('a layer, initializer or nonlinearity that is not registered cannot be written', () => {
  class MyConv extends Conv2DCCLayer {}
  throwsWith(() => toJSON(new MyConv(new InputLayer([1, 3, 8, 8]), 16, 3)), ValueError, 'is not a registered layer class', 'layers.registerLayer');
  class MyInit extends init.Initializer {
    sample(shape) {
      return new init.Constant({ val: 1 }).sample(shape);
    }
  }
  throwsWith(() => toJSON(new Conv2DCCLayer(new InputLayer([1, 3, 8, 8]), 16, 3, { W: new MyInit() })), ValueError, "option 'W'", 'not a registered initializer or nonlinearity');
  throwsWith(() => toJSON(42), TypeError, 'expected a Layer');
});

json('registerLayer makes a new layer class writable in one line', () => {
  class Scale2 extends lasagne.layers.Layer {
    constructor(incoming, options = {}) {
      super(incoming, options.name ?? null);
    }
  }
  lasagne.layers.registerLayer('TestScale2', Scale2, { options: ['name'] });
  const net = new Scale2(new InputLayer([1, 2]), { name: 's' });
  const copy = fromJSON(toJSON(net));
  assert.ok(copy instanceof Scale2);
  assert.is(copy.name, 's');
  throwsWith(() => lasagne.layers.registerLayer('TestScale2', Scale2), TypeError, "'TestScale2' is already registered");
});

json.run();
