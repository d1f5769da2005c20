// lasagne.memory() (device bytes of live networks and trainers) and layers.clearOutputCache().
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { backendsHere } from '../backend/env.mjs';

const here = Object.fromEntries(await backendsHere());
const { InputLayer } = lasagne.layers;
const mem = suite('memory() and clearOutputCache()');

function smallNet() {
  lasagne.random.setRng(new lasagne.random.RandomState(5));
  const input = new InputLayer([null, 3, 8, 8]);
  const conv = new Conv2DCCLayer(input, 16, 3, { pad: 'same' });
  return { input, conv, pool: new MaxPool2DCCLayer(conv, 2) };
}

mem('memory() counts a compiled network until dispose, per backend', async () => {
  const before = lasagne.memory();
  const { pool } = smallNet();
  const n = await lasagne.compile(pool, { backend: 'wasm', batchSize: 2, threads: 1 });
  const during = lasagne.memory();
  assert.is(during.numNetworks, before.numNetworks + 1);
  const added = during.byBackend.wasm - before.byBackend.wasm;
  // the kernels instance's linear memory holds at least the arena
  assert.ok(added >= n.plan.arenaBytes, `wasm bytes ${added} < arena ${n.plan.arenaBytes}`);
  assert.is(during.numBytes, during.byBackend.wasm + during.byBackend.webgpu);
  n.dispose();
  assert.equal(lasagne.memory(), before);
});

mem('WebGPU networks count their buffers: at least the arena and the parameters', async () => {
  if (here.webgpu !== null) return console.log(`  SKIP webgpu memory: ${here.webgpu}`);
  const before = lasagne.memory();
  const { conv } = smallNet();
  const n = await lasagne.compile(conv, { backend: 'webgpu', batchSize: 1 });
  try {
    const added = lasagne.memory().byBackend.webgpu - before.byBackend.webgpu;
    const params = lasagne.countParams(conv) * 4;
    assert.ok(added >= n.plan.arenaBytes + params, `webgpu bytes ${added} < arena ${n.plan.arenaBytes} + params ${params}`);
  } finally {
    n.dispose();
  }
  assert.equal(lasagne.memory(), before);
});

mem("getOutput's cached networks are counted, and clearOutputCache() releases them (one layer, or all)", async () => {
  const before = lasagne.memory();
  const { input, conv, pool } = smallNet();
  const x = lasagne.ndarray(new Float32Array(2 * 3 * 8 * 8).map((_, i) => Math.sin(i)), [2, 3, 8, 8]);
  const opts = { backend: 'wasm', threads: 1 };
  const y1 = await lasagne.layers.getOutput(conv, x, opts);
  await lasagne.layers.getOutput(pool, x, opts);
  await lasagne.layers.getOutput(pool, lasagne.ndarray(new Float32Array(3 * 3 * 8 * 8), [3, 3, 8, 8]), opts);
  assert.is(lasagne.memory().numNetworks, before.numNetworks + 3);
  assert.is(lasagne.layers.clearOutputCache(conv), 1);
  assert.is(lasagne.layers.clearOutputCache(conv), 0);
  // (disposal follows the compile promise: one tick)
  await new Promise((r) => setTimeout(r, 0));
  assert.is(lasagne.memory().numNetworks, before.numNetworks + 2);
  assert.is(lasagne.layers.clearOutputCache(input), 0, 'a layer getOutput never saw');
  assert.ok(lasagne.layers.clearOutputCache() >= 2);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(lasagne.memory(), before);
  // the next call compiles again and gives the same answer
  const y2 = await lasagne.layers.getOutput(conv, x, opts);
  assert.equal([...y2.data], [...y1.data]);
  assert.is(lasagne.memory().numNetworks, before.numNetworks + 1);
  lasagne.layers.clearOutputCache();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(lasagne.memory(), before);
  assert.throws(() => lasagne.layers.clearOutputCache('conv'), (e) => e instanceof TypeError && /clearOutputCache/.test(e.message));
});

mem('clearOutputCache() during a getOutput call: the call finishes, then its network is disposed', async () => {
  const before = lasagne.memory();
  const { conv } = smallNet();
  const x = lasagne.ndarray(new Float32Array(2 * 3 * 8 * 8).fill(0.5), [2, 3, 8, 8]);
  const call = lasagne.layers.getOutput(conv, x, { backend: 'wasm', threads: 1 });
  assert.is(lasagne.layers.clearOutputCache(conv), 1);
  const y = await call;
  assert.equal(y.shape, [2, 16, 8, 8]);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(lasagne.memory(), before);
});

mem('a Trainer is counted (numTrainers, its bytes) until dispose', async () => {
  if (here.webgpu !== null) return console.log(`  SKIP trainer memory: webgpu is ${here.webgpu}`);
  if (typeof lasagne.layers.DenseLayer !== 'function' || typeof lasagne.updates?.sgd !== 'function') {
    return console.log('  SKIP trainer memory: DenseLayer and updates have not landed yet');
  }
  const before = lasagne.memory();
  lasagne.random.setRng(new lasagne.random.RandomState(6));
  let n = new InputLayer([2, 4, 6, 6]);
  n = new Conv2DCCLayer(n, 16, 3, { pad: 1 });
  const net = new lasagne.layers.DenseLayer(n, 3, { nonlinearity: lasagne.nonlinearities.softmax });
  let trainer;
  try {
    trainer = await lasagne.compileTraining(net, { updates: lasagne.updates.sgd({ learningRate: 0.1 }), backend: 'webgpu' });
  } catch (e) {
    if (e instanceof lasagne.errors.NotImplementedError) return console.log(`  SKIP trainer memory: ${e.message}`);
    throw e;
  }
  const during = lasagne.memory();
  assert.is(during.numTrainers, before.numTrainers + 1);
  assert.ok(during.byBackend.webgpu - before.byBackend.webgpu >= lasagne.countParams(net) * 4, 'at least the parameters');
  trainer.dispose();
  assert.equal(lasagne.memory(), before);
});

mem('trackDeviceMemory / releaseDeviceMemory: what a trainer registers is counted until released', () => {
  const before = lasagne.memory();
  const trainer = {};
  let bytes = 1000;
  lasagne.trackDeviceMemory(trainer, () => bytes, 'webgpu', 'trainer');
  assert.is(lasagne.memory().numTrainers, before.numTrainers + 1);
  assert.is(lasagne.memory().byBackend.webgpu, before.byBackend.webgpu + 1000);
  bytes = 4096;
  assert.is(lasagne.memory().numBytes, before.numBytes + 4096);
  lasagne.trackDeviceMemory(trainer, 10, 'wasm', 'trainer'); // again: replaces
  assert.is(lasagne.memory().numTrainers, before.numTrainers + 1);
  assert.is(lasagne.memory().byBackend.wasm, before.byBackend.wasm + 10);
  lasagne.releaseDeviceMemory(trainer);
  lasagne.releaseDeviceMemory(trainer);
  assert.equal(lasagne.memory(), before);
  assert.throws(() => lasagne.trackDeviceMemory({}, -1, 'wasm'), (e) => e instanceof TypeError && /bytes=-1/.test(e.message));
  assert.throws(() => lasagne.trackDeviceMemory({}, 1, 'cuda'), (e) => e instanceof TypeError && /backend=cuda/.test(e.message));
  assert.throws(() => lasagne.trackDeviceMemory(null, 1, 'wasm'), (e) => e instanceof TypeError && /owner/.test(e.message));
});

mem.run();
