// spawnWorker in Node (worker_threads): pools of 1-4 workers, runs in flight, transfer, terminate
// with pending runs, a worker killed from outside, errors with their classes, bad model files, and
// workers whose script is missing (the message names the URL and the way out).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as lasagne from 'lasagne-webgpu';
import { backendsHere, rejects } from '../backend/env.mjs';

const { ValueError, RuntimeError } = lasagne.errors;
const root = fileURLToPath(new URL('../..', import.meta.url));
const spawn = suite('spawnWorker (Node worker_threads)');

const B = 2;
function batch(seed) {
  return lasagne.ndarray(new Float32Array(B * 3 * 32 * 32).map((_, i) => Math.sin(i * 0.01 + seed)), [B, 3, 32, 32]);
}

lasagne.random.setRng(new lasagne.random.RandomState(11));
const net = lasagne.cifar10Net(B);
/** The main thread's answers (WASM, one thread) for inputs 0..7. */
const expected = await (async () => {
  const network = await lasagne.compile(net, { backend: 'wasm', threads: 1 });
  const out = [];
  for (let s = 0; s < 8; s++) out.push(await network.run(batch(s)));
  network.dispose();
  return out;
})();

function same(y, ref, label) {
  assert.equal(y.shape, ref.shape, `${label}: shape`);
  // the same kernels on the same sub-batches: bit for bit
  assert.ok(y.data.every((v, i) => v === ref.data[i]), `${label}: values differ from the main thread's`);
}

spawn('pools of 1 to 4 workers give the main thread\'s results, with runs in flight sent to the least busy worker', async () => {
  for (const workers of [1, 2, 3, 4]) {
    const w = await lasagne.spawnWorker(net, { backend: 'wasm', workers, threads: 1 });
    try {
      assert.is(w.size, workers);
      assert.is(w.backend, 'wasm');
      const runs = [];
      for (let s = 0; s < 8; s++) runs.push(w.run(batch(s)));
      // 8 runs over N idle workers: each got its share, the first ones one more
      const loads = w.loads;
      assert.equal(loads, Array.from({ length: workers }, (_, i) => Math.floor(8 / workers) + (i < 8 % workers ? 1 : 0)), `loads with ${workers} workers`);
      const ys = await Promise.all(runs);
      ys.forEach((y, s) => same(y, expected[s], `${workers} workers, run ${s}`));
      assert.equal(w.loads, new Array(workers).fill(0));
    } finally {
      w.terminate();
    }
  }
});

spawn('a model file and npz weights give the same results; the WASM backend\'s own threads work inside a worker', async () => {
  const model = JSON.stringify(lasagne.layers.toJSON(net));
  const weights = lasagne.saveNpz(lasagne.getAllParamValues(net));
  const w = await lasagne.spawnWorker({ model, weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) }, { backend: 'wasm', threads: 2 });
  try {
    assert.match(w.device, /2 worker threads/);
    same(await w.run(batch(3)), expected[3], 'from a model file');
  } finally {
    w.terminate();
  }
  // without weights: the model file's initializers make fresh values (not the trained ones)
  const fresh = await lasagne.spawnWorker({ model }, { backend: 'wasm', threads: 1 });
  try {
    const y = await fresh.run(batch(3));
    assert.equal(y.shape, expected[3].shape);
    assert.ok(y.data.some((v, i) => v !== expected[3].data[i]));
  } finally {
    fresh.terminate();
  }
});

spawn('on WebGPU too: Dawn in a worker thread gives the main thread\'s answers within float32 rounding', async () => {
  const reason = (await backendsHere()).find(([name]) => name === 'webgpu')[1];
  if (reason !== null) {
    console.log(`  SKIP webgpu in a worker: ${reason}`);
    return;
  }
  const w = await lasagne.spawnWorker(net, { backend: 'webgpu' });
  try {
    assert.is(w.backend, 'webgpu');
    const y = await w.run(batch(2));
    assert.equal(y.shape, expected[2].shape);
    const scale = Math.max(...expected[2].data.map(Math.abs));
    y.data.forEach((v, i) => assert.ok(Math.abs(v - expected[2].data[i]) <= 1e-4 * scale, `element ${i}: ${v} vs ${expected[2].data[i]}`));
  } finally {
    w.terminate();
  }
});

spawn('several inputs and outputs: arrays in the order of the InputLayers, a list of outputs', async () => {
  const { Conv2DCCLayer, MaxPool2DCCLayer } = lasagne.layers.cuda_convnet;
  const in1 = new lasagne.layers.InputLayer([2, 3, 8, 8], { name: 'a' });
  const in2 = new lasagne.layers.InputLayer([1, 4, 6, 6], { name: 'b' });
  const outs = [new Conv2DCCLayer(in1, 16, 3, { name: 'conv' }), new MaxPool2DCCLayer(in2, 2, { name: 'pool' })];
  const x1 = lasagne.ndarray(new Float32Array(2 * 3 * 8 * 8).map((_, i) => Math.cos(i)), [2, 3, 8, 8]);
  const x2 = lasagne.ndarray(new Float32Array(4 * 6 * 6).map((_, i) => Math.sin(i)), [1, 4, 6, 6]);
  const network = await lasagne.compile(outs, { backend: 'wasm', threads: 1 });
  const ref = await network.run(new Map([[in1, x1], [in2, x2]]));
  network.dispose();
  const w = await lasagne.spawnWorker(outs, { backend: 'wasm', threads: 1 });
  try {
    assert.equal(w.inputShapes, [[2, 3, 8, 8], [1, 4, 6, 6]]);
    const ys = await w.run([x1, x2], { transfer: true });
    assert.is(ys.length, 2);
    ys.forEach((y, i) => same(y, ref[i], `output ${i}`));
    await rejects(() => w.run(x1), (e) => e instanceof ValueError && /has 2 InputLayers; pass an array/.test(e.message), 'one array for two inputs');
  } finally {
    w.terminate();
  }
});

spawn('transfer: true hands the input buffer over; without it the input stays usable', async () => {
  const w = await lasagne.spawnWorker(net, { backend: 'wasm', threads: 1 });
  try {
    const x = batch(5);
    const copied = w.run(x);
    x.data.fill(0);   // after run(): not seen by the run
    same(await copied, expected[5], 'copied');
    x.data.set(batch(5).data);
    assert.is(x.data.length, B * 3 * 32 * 32);
    same(await w.run(x, { transfer: true }), expected[5], 'transferred');
    assert.is(x.data.length, 0, 'the transferred array is detached');
    const big = new Float32Array(3 * B * 3 * 32 * 32);
    big.set(batch(6).data, B * 3 * 32 * 32);
    same(await w.run(lasagne.ndarray(big.subarray(B * 3 * 32 * 32, 2 * B * 3 * 32 * 32), [B, 3, 32, 32])), expected[6], 'a view of a larger buffer');
    await rejects(() => w.run(batch(0), { transfer: 'yes' }), (e) => e instanceof TypeError && /'transfer' must be a boolean/.test(e.message), 'transfer type');
    await rejects(() => w.run(batch(0), { trasnfer: true }), (e) => e instanceof TypeError && /did you mean 'transfer'/.test(e.message), 'option typo');
  } finally {
    w.terminate();
  }
});

spawn('terminate rejects pending runs with RuntimeError, and later runs too', async () => {
  const w = await lasagne.spawnWorker(net, { backend: 'wasm', workers: 2, threads: 1 });
  const runs = [0, 1, 2, 3].map((s) => w.run(batch(s)).then(() => 'resolved', (e) => e));
  w.terminate();
  for (const r of await Promise.all(runs)) {
    assert.ok(r instanceof RuntimeError, `pending run: ${r}`);
    assert.match(r.message, 'terminated while this run was pending');
  }
  await rejects(() => w.run(batch(0)), (e) => e instanceof RuntimeError && /was terminated/.test(e.message), 'run after terminate');
  w.terminate();
});

spawn('a worker killed from outside rejects its pending runs saying so, and the pool replaces it', async () => {
  const w = await lasagne.spawnWorker(net, { backend: 'wasm', workers: 2, threads: 1 });
  try {
    const runs = [0, 1, 2, 3].map((s) => w.run(batch(s)).then((y) => y, (e) => e));
    await w.rawWorkers[0].terminate();   // Node's Worker: dies with its runs pending
    const results = await Promise.all(runs);
    // runs 0 and 2 went to worker 0
    for (const s of [0, 2]) {
      assert.ok(results[s] instanceof RuntimeError, `run ${s}: ${results[s]}`);
      assert.match(results[s].message, /worker 0 died \(the worker exited with code 1\) with 2 runs pending/);
      assert.match(results[s].message, 'started a replacement');
    }
    for (const s of [1, 3]) same(results[s], expected[s], `run ${s} on the other worker`);
    assert.is(w.size, 2);
    // the replacement takes work again (runs sent while it starts are held until it is ready),
    // each run on its input as it was when run() was called, copied or transferred
    const inputs = [4, 5, 6, 7].map((s) => batch(s));
    const pending = inputs.map((x, i) => w.run(x, { transfer: i % 2 === 1 }));
    inputs.forEach((x, i) => i % 2 === 0 && x.data.fill(0));   // the copied ones; the others are detached
    const ys = await Promise.all(pending.map((p) => p.catch((e) => e)));
    ys.forEach((y, i) => same(y, expected[4 + i], `after the replacement, run ${4 + i}`));
    assert.equal(inputs.map((x) => x.data.length), [B * 3 * 32 * 32, 0, B * 3 * 32 * 32, 0], 'transferred inputs are detached at once');
  } finally {
    w.terminate();
  }
});

spawn('errors raised in the worker arrive with their class and message', async () => {
  const model = lasagne.layers.toJSON(lasagne.cifar10Net(null));
  let mainError = null;
  try {
    await lasagne.compile(lasagne.layers.fromJSON(model), { backend: 'wasm' });
  } catch (e) {
    mainError = e;
  }
  assert.ok(mainError instanceof ValueError, 'compile without a batch size raises ValueError on the main thread');
  await rejects(() => lasagne.spawnWorker({ model }, { backend: 'wasm' }), (e) => e instanceof ValueError && e.message === mainError.message, 'same class and message');
  await rejects(() => lasagne.spawnWorker({ model }, { backend: 'wasm', batchSize: 2, threads: 0 }), (e) => e instanceof ValueError && /threads/.test(e.message), 'threads: 0');
  const w = await lasagne.spawnWorker(net, { backend: 'wasm', threads: 1 });
  try {
    await rejects(() => w.run(lasagne.ndarray(new Float32Array(3), [3])), (e) => e instanceof ValueError && /input 0 has shape \(3,\) but the network was compiled for \(2, 3, 32, 32\)/.test(e.message), 'wrong shape');
    await rejects(() => w.run({ data: new Float64Array(B * 3 * 32 * 32), shape: [B, 3, 32, 32] }), (e) => e instanceof ValueError && /Float32Array/.test(e.message), 'Float64Array');
  } finally {
    w.terminate();
  }
});

spawn('model files with an unknown class, option or version are refused with fromJSON\'s errors', async () => {
  const model = lasagne.layers.toJSON(net);
  const bad = JSON.parse(JSON.stringify(model));
  bad.layers[3].class = 'Conv2DLayer';
  await rejects(() => lasagne.spawnWorker({ model: bad }), (e) => e instanceof ValueError && /layer 3 names the unknown layer class "Conv2DLayer"/.test(e.message), 'unknown class');
  const badOption = JSON.parse(JSON.stringify(model));
  badOption.layers[1].options.untie_biases = true;
  await rejects(() => lasagne.spawnWorker({ model: badOption }), (e) => e instanceof TypeError && /unknown option 'untie_biases' for Conv2DCCLayer; did you mean 'untieBiases'\?/.test(e.message), 'unknown option');
  await rejects(() => lasagne.spawnWorker({ model: { ...model, version: 9 } }), (e) => e instanceof ValueError && /version=9/.test(e.message), 'version');
});

spawn('spawnWorker\'s own options and arguments are checked before any worker starts', async () => {
  await rejects(() => lasagne.spawnWorker(net, { device: {} }), (e) => e instanceof TypeError && /cannot take option 'device'/.test(e.message), 'device');
  await rejects(() => lasagne.spawnWorker(net, { workers: 0 }), (e) => e instanceof ValueError && /'workers' must be an integer from 1 to 64, but workers=0/.test(e.message), 'workers 0');
  await rejects(() => lasagne.spawnWorker(net, { workers: 1e9 }), (e) => e instanceof ValueError && /workers=1000000000/.test(e.message), 'workers huge');
  await rejects(() => lasagne.spawnWorker(net, { worker: 2 }), (e) => e instanceof TypeError && /did you mean 'workers'\?/.test(e.message), 'typo');
  await rejects(() => lasagne.spawnWorker({ model: lasagne.layers.toJSON(net), weights: [1, 2] }), (e) => e instanceof TypeError && /weights must be saveNpz bytes/.test(e.message), 'weights type');
  await rejects(() => lasagne.spawnWorker(42), (e) => e instanceof TypeError && /expected a Layer/.test(e.message), 'source');
});

spawn('a worker script that is missing: the error names the URL tried and, for WASM threads, threads: 1', async () => {
  // a copy of the package without its worker scripts, as a bundler that did not emit them leaves it
  const dir = mkdtempSync(join(tmpdir(), 'lasagne-noworker-'));
  try {
    cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    rmSync(join(dir, 'dist/backend/wasm/worker.js'));
    rmSync(join(dir, 'dist/worker/inference_worker.js'));
    const copy = await import(pathToFileURL(join(dir, 'dist/index.js')).href);
    const small = copy.cifar10Net(2);
    const wasmUrl = pathToFileURL(join(dir, 'dist/backend/wasm/worker.js')).href;
    await rejects(
      () => copy.compile(small, { backend: 'wasm', threads: 2 }),
      (e) => e instanceof copy.errors.RuntimeError && e.message.includes(`failed to start from ${wasmUrl}`) && e.message.includes('threads: 1'),
      'WASM thread pool',
    );
    const one = await copy.compile(small, { backend: 'wasm', threads: 1 });
    assert.equal((await one.run(copy.ndarray(new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]))).shape, [2, 10, 4, 4], 'threads: 1 works');
    one.dispose();
    const workerUrl = pathToFileURL(join(dir, 'dist/worker/inference_worker.js')).href;
    await rejects(
      () => copy.spawnWorker(small, { backend: 'wasm', threads: 1 }),
      (e) => e instanceof copy.errors.RuntimeError && e.message.includes(`worker 0 failed to start from ${workerUrl}`) && e.message.includes('Bundlers'),
      'spawnWorker',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

spawn.run();
