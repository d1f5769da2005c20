// Inference and training-time plans of a classifier built from the cuda-convnet layers and the
// layers around them: the steps, tensors and lifetimes the backends will run, and the model file round trip.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';

const { InputLayer, DenseLayer, DropoutLayer, FlattenLayer, ReshapeLayer, GlobalPoolLayer, NonlinearityLayer, toJSON, fromJSON } = lasagne.layers;
const { softmax, tanh } = lasagne.nonlinearities;

/** conv -> pool -> dense -> dropout -> dense(softmax), Lasagne's MNIST-style classifier head. */
function classifier() {
  const l_in = new InputLayer([null, 3, 8, 8], { name: 'in' });
  const conv = new Conv2DCCLayer(l_in, 16, 3, { pad: 1, name: 'conv' });
  const pool = new MaxPool2DCCLayer(conv, 2, { name: 'pool' });
  const fc = new DenseLayer(pool, 32, { name: 'fc' });
  const drop = new DropoutLayer(fc, { p: 0.5, name: 'drop' });
  return new DenseLayer(drop, 10, { nonlinearity: softmax, name: 'out' });
}

const P = suite('plan of conv -> pool -> dense -> dropout -> dense(softmax)');

P('inference: one transpose in, the kernels batch last, dropout elided, softmax after the linear nin, one transpose out', () => {
  const net = classifier();
  const p = lasagne.plan(net, { batchSize: 4 });
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'filter_acts', 'max_pool', 'nin', 'nin', 'softmax', 'transpose']);
  const [, conv, pool, fc, out, sm, back] = p.steps;
  assert.equal(p.tensors[pool.output].shape, [16, 4, 4, 4]);
  assert.is(fc.input, pool.output, 'the dense layer reads the pool output as (C*H*W, N) with no transpose');
  assert.equal({ channels: fc.channels, units: fc.units, positions: fc.positions, batch: fc.batch, weightLayout: fc.weightLayout }, { channels: 256, units: 32, positions: 1, batch: 4, weightLayout: 'cu' });
  assert.equal(fc.nonlinearity, { kind: 'rectify', params: [] });
  assert.equal([fc.weight, fc.bias], [2, 3]);
  assert.is(out.input, fc.output, 'dropout is the identity: the next layer reads its input');
  assert.equal([out.weight, out.bias, out.channels, out.units], [4, 5, 32, 10]);
  assert.equal(out.nonlinearity, { kind: 'linear', params: [] });
  assert.is(p.tensors[out.output].producer, 'out#pre');
  assert.is(sm.input, out.output);
  assert.equal([sm.units, sm.batch], [10, 4]);
  assert.equal([back.perm, back.inShape], [[3, 0, 1, 2], [1, 1, 10, 4]], '(U, N) -> (N, U) as the transpose that moves the batch (last) first');
  assert.equal(p.tensors[p.outputs[0]].shape, [4, 10]);
  assert.equal(p.params.map((q) => [q.name, q.shape]), [['conv.W', [16, 3, 3, 3]], ['conv.b', [16]], ['fc.W', [256, 32]], ['fc.b', [32]], ['out.W', [32, 10]], ['out.b', [10]]]);
  assert.equal(p.layers.map((l) => l.layerClass), ['InputLayer', 'Conv2DCCLayer', 'MaxPool2DCCLayer', 'DenseLayer', 'DropoutLayer', 'DenseLayer']);
  // lifetimes: the logits live from the linear nin to the softmax only
  const logits = p.tensors[out.output];
  assert.equal([logits.first, logits.last], [4, 5]);
  for (const t of p.tensors) assert.ok(t.batchAxis === 0 || t.batchAxis === t.shape.length - 1, `${t.producer} batch axis ${t.batchAxis}`);
});

P('training-time pass (deterministic false): a dropout step between the dense layers, seeded by the layer index', () => {
  const p = lasagne.plan(classifier(), { batchSize: 4, deterministic: false });
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'filter_acts', 'max_pool', 'nin', 'dropout', 'nin', 'softmax', 'transpose']);
  const d = p.steps[4];
  assert.equal({ count: d.count, batch: d.batch, threshold: d.threshold, scale: d.scale, seed: d.seed }, { count: 128, batch: 4, threshold: 2 ** 23, scale: 2, seed: 4 });
  assert.is(d.input, p.steps[3].output);
  assert.is(p.steps[5].input, d.output);
  assert.equal(p.tensors[d.output].shape, [32, 4]);
  assert.is.not(p.digest, lasagne.plan(classifier(), { batchSize: 4 }).digest);
});

P('elide: false keeps every layer its own declared copy and gives the same step kinds around the new layers', () => {
  const p = lasagne.plan(classifier(), { batchSize: 2, elide: false });
  const ops = p.steps.map((s) => s.op);
  assert.ok(ops.includes('softmax') && !ops.includes('dropout'));
  assert.is(p.steps.at(-1).op, 'transpose');
});

P('a global-pool head: conv -> GlobalPool -> NonlinearityLayer(tanh) -> Flatten -> Dense(softmax)', () => {
  const l_in = new InputLayer([null, 4, 6, 6]);
  const conv = new Conv2DCCLayer(l_in, 16, 3);
  const net = new DenseLayer(new FlattenLayer(new NonlinearityLayer(new GlobalPoolLayer(conv), { nonlinearity: tanh })), 5, { nonlinearity: softmax });
  const p = lasagne.plan(net, { batchSize: 3 });
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'filter_acts', 'global_pool', 'activation', 'copy', 'nin', 'softmax', 'transpose']);
  p.steps.slice(2, 7).forEach((s, i) => assert.is(s.input, p.steps[i + 1].output, `${s.op} reads the previous step's output`));
});

const J = suite('model files with the new layers');

J('toJSON / fromJSON round trip: the same classes, options, params and plan digest, for inference and training', () => {
  lasagne.random.setRng(new lasagne.random.RandomState(5));
  const l_in = new InputLayer([null, 2, 6, 6], { name: 'in' });
  let net = new Conv2DCCLayer(l_in, 16, 3, { name: 'c' });
  net = new GlobalPoolLayer(net);
  net = new ReshapeLayer(net, [[0], 4, 4]);
  net = new NonlinearityLayer(net, { nonlinearity: tanh });
  net = new FlattenLayer(net, { outdim: 2 });
  net = new DropoutLayer(net, { p: 0.3, rescale: false });
  net = new DenseLayer(net, 7, { b: null, nonlinearity: softmax, name: 'out' });
  const model = toJSON(net);
  assert.equal(model.layers.map((l) => l.class), ['InputLayer', 'Conv2DCCLayer', 'GlobalPoolLayer', 'ReshapeLayer', 'NonlinearityLayer', 'FlattenLayer', 'DropoutLayer', 'DenseLayer']);
  assert.equal(model.layers[3].args, [[[0], 4, 4]]);
  assert.equal(model.layers[6].options, { p: 0.3, rescale: false, sharedAxes: [], name: null });
  assert.equal(model.layers[7].options.nonlinearity, { ref: 'softmax' });
  assert.not.ok('b' in model.layers[7].options && model.layers[7].options.b !== null);
  const copy = fromJSON(JSON.parse(JSON.stringify(model)));
  assert.equal(toJSON(copy), model);
  assert.equal(lasagne.getAllParams(copy).map((q) => [q.name, q.shape]), lasagne.getAllParams(net).map((q) => [q.name, q.shape]));
  assert.is(copy.b, null);
  for (const deterministic of [true, false]) {
    assert.is(lasagne.plan(copy, { batchSize: 2, deterministic }).digest, lasagne.plan(net, { batchSize: 2, deterministic }).digest);
  }
});

P.run();
J.run();
