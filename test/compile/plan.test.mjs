// plan(): step list, lifetimes, arena offsets, digest, and the run-time errors of the ops.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, ShuffleBC01ToC01BLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { fnv1a64 } from '../../dist/compile/digest.js';

const { InputLayer } = lasagne.layers;
const { ValueError, NotImplementedError } = lasagne.errors;

const digest = suite('plan digest');

function fnvReference(text) {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

digest('FNV-1a 64 matches the published test vectors and a BigInt reference', () => {
  assert.is(fnv1a64(''), 'cbf29ce484222325');
  assert.is(fnv1a64('a'), 'af63dc4c8601ec8c');
  assert.is(fnv1a64('foobar'), '85944171f73967e8');
  for (const s of ['hello world', 'ümlaut ✓', 'x'.repeat(1000), JSON.stringify({ a: [1, 2, 3] })]) assert.is(fnv1a64(s), fnvReference(s));
});

digest('the digest is identical across two processes, and changes with the network', () => {
  const script = "import * as l from 'lasagne-webgpu'; console.log(l.plan(l.cifar10Net(null), { batchSize: 128 }).digest)";
  const other = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
  const here = lasagne.plan(lasagne.cifar10Net(null), { batchSize: 128 }).digest;
  assert.match(here, /^[0-9a-f]{16}$/);
  assert.is(other, here);
  assert.is.not(lasagne.plan(lasagne.cifar10Net(null), { batchSize: 64 }).digest, here);
});

digest('the digest does not depend on weight values', () => {
  const a = lasagne.cifar10Net(null);
  const before = lasagne.plan(a, { batchSize: 8 }).digest;
  const values = lasagne.getAllParamValues(a).map((v) => ({ data: v.data.map(() => 1), shape: v.shape }));
  lasagne.setAllParamValues(a, values);
  assert.is(lasagne.plan(a, { batchSize: 8 }).digest, before);
});

const net = suite('plan of a network');

net('the CIFAR-10 network: one transpose in, one out, kernels in c01b, optimal arena', () => {
  const p = lasagne.plan(lasagne.cifar10Net(null), { batchSize: 128 });
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'filter_acts', 'max_pool', 'filter_acts', 'max_pool', 'filter_acts', 'max_pool', 'nin', 'transpose']);
  assert.equal(p.steps[0].perm, [1, 2, 3, 0]);
  assert.equal(p.steps.at(-1).perm, [3, 0, 1, 2]);
  assert.equal(p.tensors[p.inputs[0]].shape, [128, 3, 32, 32]);
  assert.equal(p.tensors[p.outputs[0]].shape, [128, 10, 4, 4]);
  p.steps.forEach((s, i) => {
    assert.is(s.index, i);
    assert.is(p.tensors[s.output].first, i);
    assert.ok(p.tensors[s.input].last >= i);
    if (i > 0) assert.is(s.input, p.steps[i - 1].output, 'a chain');
  });
  assert.equal(p.tensors[p.steps[1].input].shape, [3, 32, 32, 128]);
  // conv1's output (16 MiB) and pool1's (4 MiB) are live together at step 2: the lower bound.
  assert.is(p.arenaBytes, 20 * 2 ** 20);
  assert.ok(p.naiveBytes > p.arenaBytes);
  const { index, input, output, ...conv1 } = p.steps[1];
  assert.equal(conv1, {
    op: 'filter_acts', layer: 'conv1', weight: 0, weightLayout: 'fckk', flipFilters: false, bias: 1, biasMode: 'tied',
    nonlinearity: { kind: 'rectify', params: [] }, channels: 3, rows: 32, cols: 32, batch: 128, filters: 32, filterSize: 5,
    stride: 1, pad: 2, outRows: 32, outCols: 32,
  });
  assert.equal(p.params.map((q) => q.name), ['conv1.W', 'conv1.b', 'conv2.W', 'conv2.b', 'conv3.W', 'conv3.b', 'nin.W', 'nin.b']);
  assert.equal(p.steps[7].weight, 6);
  assert.equal(p.layers.map((l) => l.name), ['input', 'conv1', 'pool1', 'conv2', 'pool2', 'conv3', 'pool3', 'to_c01b', 'nin', 'to_bc01']);
});

net('elision: inverse shuffles cancel; without it every dimshuffle layer transposes in and out', () => {
  const count = (p) => p.steps.filter((s) => s.op === 'transpose').length;
  const net = lasagne.cifar10Net(8);
  assert.is(count(lasagne.plan(net)), 2);
  assert.is(count(lasagne.plan(net, { elide: false })), 2 * 6 + 2);
  assert.equal(lasagne.plan(net, { elide: false }).tensors.at(-1).shape, [8, 10, 4, 4]);
  // all c01b: no transposes at all
  let c = new InputLayer([4, 12, 12, 8]);
  c = new Conv2DCCLayer(c, 16, 3, { dimshuffle: false });
  c = new MaxPool2DCCLayer(c, 2, { dimshuffle: false });
  c = new NINLayer_c01b(c, 16);
  assert.is(count(lasagne.plan(c)), 0);
  // a shuffle pair on the input cancels without any step; two same-direction shuffles rotate by 2
  const x = new InputLayer([2, 4, 6, 8]);
  const there = new ShuffleBC01ToC01BLayer(x);
  assert.is(lasagne.plan(new lasagne.layers.cuda_convnet.ShuffleC01BToBC01Layer(there)).steps.length, 0);
  const twice = lasagne.plan(new ShuffleBC01ToC01BLayer(there));
  assert.equal(twice.steps.map((s) => s.perm), [[3, 0, 1, 2], [3, 0, 1, 2]]);
  assert.equal(twice.tensors[twice.outputs[0]].shape, [6, 8, 2, 4]);
});

net('a layer read in two layouts is transposed once and shared', () => {
  const x = new InputLayer([2, 4, 6, 6]);
  const conv = new Conv2DCCLayer(x, 16, 3, { name: 'conv' });
  const pool = new MaxPool2DCCLayer(conv, 2, { name: 'pool' });
  const p = lasagne.plan([conv, pool]);
  assert.equal(p.steps.map((s) => `${s.op}:${s.layer}`), ['transpose:0:InputLayer', 'filter_acts:conv', 'max_pool:pool', 'transpose:conv', 'transpose:pool']);
  assert.is(p.tensors[p.steps[3].input].last, 3, 'conv\'s c01b output stays live until its bc01 copy is made');
});

net('a null batch needs batchSize; bc01 inputs put it first and c01b inputs last', () => {
  const bc01 = new Conv2DCCLayer(new InputLayer([null, 3, 8, 8]), 16, 3);
  assert.throws(() => lasagne.plan(bc01), (e) => e instanceof ValueError && /batchSize/.test(e.message));
  assert.equal(lasagne.plan(bc01, { batchSize: 5 }).tensors[0].shape, [5, 3, 8, 8]);
  const c01b = new Conv2DCCLayer(new InputLayer([4, 8, 8, null]), 16, 3, { dimshuffle: false });
  const p = lasagne.plan(c01b, { batchSize: 5 });
  assert.equal(p.tensors[p.inputs[0]].shape, [4, 8, 8, 5]);
  assert.equal(p.tensors[p.outputs[0]].shape, [16, 6, 6, 5]);
});

net('inputShapes fills unknown spatial sizes, and a weight shaped for other inputs is refused', () => {
  const input = new InputLayer([null, 1, null, null]);
  const conv = new Conv2DCCLayer(input, 16, 3);
  const p = lasagne.plan(conv, { inputShapes: [2, 1, 11, 16] });
  assert.equal(p.tensors[p.outputs[0]].shape, [2, 16, 9, 14]);
  const untied = new Conv2DCCLayer(new InputLayer([2, 1, 11, 16]), 16, 3, { untieBiases: true });
  assert.throws(() => lasagne.plan(untied, { inputShapes: [2, 1, 12, 16] }), (e) => e instanceof ValueError && /b has shape \(16, 9, 14\)/.test(e.message));
  assert.throws(() => lasagne.plan(conv, { inputShapes: new Map([[conv, [2, 16, 9, 14]]]) }), (e) => e instanceof ValueError && /not an InputLayer of this network/.test(e.message));
  assert.equal(lasagne.plan(conv, { inputShapes: new Map([[input, [1, 1, 5, 6]]]) }).tensors[0].shape, [1, 1, 5, 6]);
});

net('stride > filter size passes construction and fails when planned, as FilterActs fails when run', () => {
  const conv = new Conv2DCCLayer(new InputLayer([2, 3, 16, 16]), 16, 3, { stride: 4 });
  assert.throws(() => lasagne.plan(conv), (e) => e instanceof ValueError && e.message.includes('stride 4 greater than filter size (3, 3)'));
});

net('a pooling region larger than the image is refused when planned', () => {
  const pool = new MaxPool2DCCLayer(new InputLayer([2, 16, 2, 5]), 3);
  assert.equal(pool.outputShape, [2, 16, 1, 2]);
  assert.throws(() => lasagne.plan(pool), (e) => e instanceof ValueError && e.message.includes('ds(3) must be <= imgSizeX(5) and imgSizeY(2).'));
});

net('training plans check partialSum against the untruncated grid and report scratch bytes', () => {
  // 11 x 16, k = 3, s = 3: Lasagne 3 x 5 positions, cuda-convnet grid 4 x 6 = 24
  const make = (partialSum) => new Conv2DCCLayer(new InputLayer([2, 4, 11, 16]), 16, 3, { stride: 3, partialSum });
  assert.not.throws(() => lasagne.plan(make(15)), 'forward plans do not check partialSum');
  assert.throws(() => lasagne.plan(make(15), { training: true }), (e) => e instanceof ValueError && /partialSum=15 and numModules=24/.test(e.message));
  assert.equal(lasagne.plan(make(6), { training: true }).weightGradients, [{ layer: '1:Conv2DCCLayer', rowsCC: 4, colsCC: 6, effective: 6, scratchBytes: 4 * 4 * 4 * 9 * 16 }]);
  assert.equal(lasagne.plan(make(null), { training: true }).weightGradients[0].effective, 24);
  assert.is(lasagne.plan(make(null), { training: true }).weightGradients[0].scratchBytes, 0);
  assert.is(lasagne.plan(make(6)).weightGradients, undefined);
});

net('several outputs stay live to the end; shared inputs are planned once', () => {
  const input = new InputLayer([4, 8, 8, 2]);
  const a = new NINLayer_c01b(input, 8, { name: 'a' });
  const b = new NINLayer_c01b(input, 16, { name: 'b' });
  const p = lasagne.plan([a, b]);
  assert.is(p.tensors.length, 3);
  assert.equal(p.outputs, [1, 2]);
  for (const t of p.tensors.slice(1)) assert.is(t.last, 1);
});

net('layers without kernels and layers built on bare shapes are refused clearly', () => {
  const input = new InputLayer([2, 4, 4, 4]);
  assert.throws(() => lasagne.plan(new lasagne.layers.Layer(input)), (e) => e instanceof NotImplementedError && /has no kernel/.test(e.message));
  assert.throws(() => lasagne.plan(new ShuffleBC01ToC01BLayer([2, 4, 4, 4])), (e) => e instanceof ValueError && /built on a shape/.test(e.message));
});

net('bad options are refused', () => {
  const net = lasagne.cifar10Net(4);
  assert.throws(() => lasagne.plan(net, { batch_size: 4 }), (e) => e instanceof TypeError && /did you mean 'batchSize'/.test(e.message));
  assert.throws(() => lasagne.plan(net, { alignment: 100 }), (e) => e instanceof ValueError && /power of two/.test(e.message));
  assert.throws(() => lasagne.plan(net, { batchSize: 0 }), (e) => e instanceof ValueError && /batchSize/.test(e.message));
});

net('every tensor records its batch axis, and the WASM backend splits along it without guessing', async () => {
  // bc01 input -> conv (dimshuffle, c01b inside) -> bc01_to_c01b -> NIN (c01b); and a c01b input
  const x = new InputLayer([null, 3, 8, 8]);
  const conv = new Conv2DCCLayer(x, 16, 3, { pad: 1 });
  const nin = new NINLayer_c01b(new ShuffleBC01ToC01BLayer(conv), 8);
  const y = new InputLayer([4, 6, 6, null]);
  const pool = new MaxPool2DCCLayer(y, 2, { dimshuffle: false });
  const p = lasagne.plan([nin, pool], { batchSize: 5 });
  for (const t of p.tensors) {
    assert.is(t.shape[t.batchAxis], 5, `${t.producer} ${JSON.stringify(t.shape)} batch axis ${t.batchAxis}`);
  }
  const byProducer = Object.fromEntries(p.tensors.map((t) => [t.producer, t.batchAxis]));
  assert.equal(byProducer, { '0:InputLayer': 0, '0:InputLayer@r1': 3, '1:Conv2DCCLayer@r1': 3, '3:NINLayer_c01b': 3, '4:InputLayer': 3, '5:MaxPool2DCCLayer': 3 });
  const { batchAxes } = await import('../../dist/backend/wasm/index.js');
  assert.equal(batchAxes(p), ['first', 'last', 'last', 'last', 'last', 'last']);
  // the recorded axis wins over what the steps would suggest: a tensor recorded with its batch on a
  // middle axis cannot be split, whatever its steps
  const odd = { ...p, tensors: p.tensors.map((t, i) => (i === 2 ? { ...t, batchAxis: 1 } : t)) };
  assert.is(batchAxes(odd), null);
});

digest.run();
net.run();
