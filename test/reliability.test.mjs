// Issue 15 (reliability) without a backend: options read from own properties of plain objects
// only, one element limit checked before allocating, values read once, cycles and sparse arrays
// refused with LasagneErrors, the plan option range.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b } from 'lasagne-webgpu/layers/cuda_convnet';

const { InputLayer } = lasagne.layers;
const { ValueError } = lasagne.errors;

function throwsWith(fn, cls, pattern, label = '') {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof cls, `${label}: expected ${cls.name}, got ${e && e.constructor.name}: ${e && e.message}`);
    if (pattern) assert.match(e.message, pattern, label);
    return e;
  }
  assert.unreachable(`${label}: expected ${cls.name}, nothing was thrown`);
}

const options = suite('options are own properties of plain objects');

options('a key on Object.prototype changes no layer and no compile option', () => {
  Object.prototype.pad = 2;
  Object.prototype.stride = 3;
  Object.prototype.nonlinearity = null;
  Object.prototype.batchSize = 'oops';
  try {
    const conv = new Conv2DCCLayer([1, 16, 8, 8], 16, 3);
    assert.equal(conv.pad, [0, 0]);
    assert.equal(conv.stride, [1, 1]);
    assert.is(conv.nonlinearity.kind, 'rectify');
    assert.equal(conv.outputShape, [1, 16, 6, 6]);
    const withOpts = new Conv2DCCLayer([1, 16, 8, 8], 16, 3, { name: 'c' });
    assert.equal(withOpts.pad, [0, 0]);
    assert.equal(new MaxPool2DCCLayer([1, 16, 8, 8], 2, {}).stride, 2);
    assert.is(lasagne.plan(new InputLayer([1, 16, 8, 8]), {}).tensors[0].shape[0], 1);
  } finally {
    delete Object.prototype.pad;
    delete Object.prototype.stride;
    delete Object.prototype.nonlinearity;
    delete Object.prototype.batchSize;
  }
});

options('an object with another prototype, a Map, a Date or a class instance is a TypeError', () => {
  class Opts {
    constructor() {
      this.pad = 1;
    }
  }
  for (const [bad, what] of [
    [{ __proto__: { pad: 1 } }, /prototype other than Object.prototype/],
    [Object.create({ pad: 1 }), /prototype other than Object.prototype/],
    [new Map([['pad', 1]]), /a Map/],
    [new Date(0), /a Date/],
    [new Opts(), /an? Opts/],
    [[1], /an Array/],
  ]) {
    throwsWith(() => new Conv2DCCLayer([1, 16, 8, 8], 16, 3, bad), TypeError, what, String(what));
    throwsWith(() => new lasagne.init.Constant(bad), TypeError, /options must be an object/, `Constant ${what}`);
  }
  // a null-prototype object and a plain object are fine
  const bare = Object.create(null);
  bare.pad = 1;
  assert.equal(new Conv2DCCLayer([1, 16, 8, 8], 16, 3, bare).pad, [1, 1]);
  throwsWith(() => new Conv2DCCLayer([1, 16, 8, 8], 16, 3, { [Symbol('pad')]: 1 }), TypeError, /symbol key/);
});

options('a getter option is read once, its value kept', () => {
  let reads = 0;
  const opts = { get pad() { reads++; return reads === 1 ? 1 : 'oops'; } };
  const conv = new Conv2DCCLayer([1, 16, 8, 8], 16, 3, opts);
  assert.equal(conv.pad, [1, 1]);
  assert.is(reads, 1);
});

options('getParams tags are a plain object too (a Map would select everything)', () => {
  const conv = new Conv2DCCLayer([1, 16, 8, 8], 16, 3);
  throwsWith(() => conv.getParams(new Map([['trainable', false]])), TypeError, /tags must be an object.*a Map/);
  throwsWith(() => lasagne.getAllParams(conv, new Map([['regularizable', true]])), TypeError, /tags must be an object/);
  assert.equal(conv.getParams({ regularizable: true }).map((p) => p.name), ['W']);
});

options.run();

const limits = suite('one element limit, checked before allocating');

limits('layer constructors refuse parameters beyond 2^28 elements with ValueError, allocating nothing', () => {
  assert.is(lasagne.MAX_ELEMENTS, 2 ** 28);
  const before = process.memoryUsage().rss;
  const cases = [
    () => new NINLayer_c01b([16, 4, 4, 2], 2 ** 28),
    () => new NINLayer_c01b([16, 4, 4, 2], 2 ** 31),
    () => new NINLayer_c01b([16, 4, 4, 2], 2 ** 53),
    () => new Conv2DCCLayer([1, 2 ** 28, 4, 4], 16, 3),
    () => new Conv2DCCLayer([1, 16, 2 ** 14, 2 ** 14], 16, 3, { untieBiases: true }),
    () => new lasagne.init.GlorotUniform().sample([2 ** 20, 2 ** 20]),
    () => new lasagne.init.Constant().sample([2 ** 15, 2 ** 14]),
  ];
  cases.forEach((f, i) => throwsWith(f, ValueError, /limit of 2\^28 = 268435456 elements/, `case ${i}`));
  assert.ok(process.memoryUsage().rss - before < 256 * 2 ** 20, 'nothing large was allocated');
  // just under the limit a shape is accepted (no sampling: a spec check only)
  const nin = new NINLayer_c01b([16, 1, 1, 1], 2 ** 12, { W: new lasagne.init.Constant({ val: 0 }) });
  assert.equal(nin.W.shape, [4096, 16]);
});

limits('planned tensors beyond 2^28 elements are refused by plan and compile before anything is allocated', async () => {
  const net = new MaxPool2DCCLayer(new InputLayer([null, 16, 2 ** 13, 2 ** 12]), 2);
  throwsWith(() => lasagne.plan(net, { batchSize: 1 }), ValueError, /limit of 2\^28/);
  throwsWith(() => lasagne.plan(net, { batchSize: 2 ** 20 }), ValueError, /limit of 2\^28/);
  let error = null;
  try {
    await lasagne.compile(net, { batchSize: 4, backend: 'wasm' });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ValueError && /limit of 2\^28/.test(error.message), String(error));
  throwsWith(() => new InputLayer(new Array(65).fill(1)), ValueError, /at most 64 dimensions/);
});

limits('a parameter keeps a built-in initializer\'s new sample without a second copy; arrays the caller holds are copied', () => {
  const constant = new lasagne.init.Constant({ val: 0.5 });
  const sample = constant.sample.bind(constant);
  let made = null;
  constant.sample = (shape) => (made = sample(shape));
  const nin = new NINLayer_c01b([8, 2, 2, 1], 4, { W: constant });
  assert.is(nin.W.valueRef.data, made.data, 'no copy of a sample nobody else asked for');
  const glorot = new NINLayer_c01b([8, 2, 2, 1], 4);
  assert.is(glorot.W.valueRef.data.length, 32);
  // a sample the caller holds (passed as an array) is copied
  const held = new lasagne.init.Constant({ val: 1 }).sample([4, 8]);
  const a = new NINLayer_c01b([8, 2, 2, 1], 4, { W: held });
  held.data[0] = 9;
  assert.is(a.W.getValue().data[0], 1);
  // and so is one a custom initializer keeps after delegating to a built-in one
  class Keep extends lasagne.init.Initializer {
    sample(shape) {
      this.kept = new lasagne.init.Constant({ val: 2 }).sample(shape);
      return this.kept;
    }
  }
  const keep = new Keep();
  const b = new NINLayer_c01b([8, 2, 2, 1], 4, { W: keep });
  keep.kept.data[0] = 9;
  assert.is(b.W.getValue().data[0], 2);
});

limits.run();

const small = suite('smaller reliability items');

small('Param.setValue reads a getter-backed data and shape once', () => {
  const conv = new Conv2DCCLayer([1, 3, 8, 8], 16, 3);
  let reads = 0;
  const forged = {
    get data() {
      reads++;
      return reads === 1 ? new Float32Array(16 * 27).fill(0.5) : new Float32Array(3);
    },
    shape: [16, 3, 3, 3],
  };
  conv.W.setValue(forged);
  assert.is(reads, 1);
  const v = conv.W.getValue();
  assert.is(v.data.length, 16 * 27);
  assert.ok(v.data.every((x) => x === 0.5));
  let shapeReads = 0;
  const shifty = {
    data: new Float32Array(16 * 27),
    get shape() {
      shapeReads++;
      return shapeReads === 1 ? [16, 3, 3, 3] : [3];
    },
  };
  conv.W.setValue(shifty);
  assert.equal(conv.W.getValue().shape, [16, 3, 3, 3]);
  assert.is(shapeReads, 1);
});

small('plan alignment beyond 2^16 is a ValueError naming the option, not an internal planner error', () => {
  const net = new MaxPool2DCCLayer(new InputLayer([1, 16, 4, 4]), 2);
  for (const a of [2 ** 40, 2 ** 31, 2 ** 17, 2 ** 32]) {
    throwsWith(() => lasagne.plan(net, { alignment: a }), ValueError, /'alignment' must be a power of two from 4 to 2\^16/, String(a));
  }
  assert.is(lasagne.plan(net, { alignment: 2 ** 16 }).alignment, 2 ** 16);
});

small('saveNpz of a sparse array names the hole; a cycle of inputLayers is a ValueError everywhere', () => {
  const a = { data: new Float32Array(1), shape: [1] };
  // eslint-disable-next-line no-sparse-arrays
  throwsWith(() => lasagne.saveNpz([, a]), ValueError, /arrays\[0\] must be an NDArray.*undefined/);
  const input = new InputLayer([1, 16, 4, 4]);
  const p = new MaxPool2DCCLayer(input, 2, { name: 'p' });
  const q = new MaxPool2DCCLayer(p, 1, { name: 'q' });
  Object.defineProperty(p, 'inputLayer', { value: q });
  for (const [label, f] of [
    ['getAllLayers', () => lasagne.getAllLayers(q)],
    ['getAllParams', () => lasagne.getAllParams(q)],
    ['plan', () => lasagne.plan(q)],
    ['getOutputShape', () => lasagne.getOutputShape(q, [1, 16, 4, 4])],
    ['countParams', () => lasagne.countParams(q)],
  ]) {
    throwsWith(f, ValueError, /cycle/, label);
  }
});

small.run();
