// The WASM backend as a whole (src/backend/wasm): compile() networks on it, worker threads that
// split the batch, parameter re-upload on version change, profile(), dispose(). Values of single
// kernels are checked in wasm_kernels.test.mjs; here the reference is the same network run on the
// calling thread: splitting the batch must not change a single bit (every output element is
// computed by the same float32 sequence whatever the sub-batch), plus the float64 oracle chain.
import { suite } from 'uvu';
import { rejects } from './env.mjs';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, ShuffleBC01ToC01BLayer, ShuffleC01BToBC01Layer } from 'lasagne-webgpu/layers/cuda_convnet';
import { wasmBackend, prepareWasm, kernelsModule } from '../../dist/backend/wasm/index.js';
import { uniform } from '../reference/random.mjs';
import { layerForward, termsPerOutput, lipschitz, tolerance } from '../reference/layers.mjs';

// Without Emscripten the package builds with an empty kernels module: say so and skip.
const available = await wasmBackend.available();
const reason = available ? '' : await kernelsModule().then(() => 'no WebAssembly SIMD', (e) => e.message);
if (!available) {
  const s = suite('wasmBackend');
  s(`skipped: the WASM backend is not available here (${reason})`, () => console.log(`  SKIP wasm: ${reason}`));
  s.run();
}

// A worker that never answers would hang the run (uvu has no per-test timeout): fail instead. The
// watchdog covers this file's suite only, from its first test to its last: `npm test` imports every
// file before it runs any, and the others may take longer than 180 s on a loaded machine.
let watchdog;
const startWatchdog = () => {
  watchdog = setTimeout(() => {
    console.error('wasm.test.mjs: no progress in 180 s; a worker thread never answered');
    process.exit(1);
  }, 180000).unref();
};

const { InputLayer } = lasagne.layers;
const { ValueError, RuntimeError } = lasagne.errors;
const f32 = (a) => ({ data: Float32Array.from(a.data), shape: [...a.shape] });
const sym = (shape, seed) => {
  const a = uniform(shape, seed);
  return { data: Float32Array.from(a.data, (v) => 2 * v - 1), shape: [...shape] };
};


function sameBits(a, b, label) {
  assert.equal(a.shape, b.shape, `${label}: shape`);
  for (let i = 0; i < a.data.length; i++) {
    if (!Object.is(a.data[i], b.data[i])) assert.unreachable(`${label}: element ${i} is ${a.data[i]} with threads, ${b.data[i]} without`);
  }
}

/** A CIFAR-like bc01 stack: conv-pool-conv-pool-NIN (dimshuffle true), output bc01. */
function cifarLike(batch) {
  const l0 = new InputLayer([batch, 3, 12, 12]);
  const c1 = new Conv2DCCLayer(l0, 16, 5, { pad: 2, nonlinearity: lasagne.nonlinearities.rectify });
  const p1 = new MaxPool2DCCLayer(c1, 3, { stride: 2 });
  const c2 = new Conv2DCCLayer(p1, 32, 3, { pad: 1, untieBiases: true, nonlinearity: lasagne.nonlinearities.tanh });
  const p2 = new MaxPool2DCCLayer(c2, 2);
  const toC01b = new ShuffleBC01ToC01BLayer(p2);
  const nin = new NINLayer_c01b(toC01b, 10, { nonlinearity: lasagne.nonlinearities.sigmoid });
  const out = new ShuffleC01BToBC01Layer(nin);
  return { input: l0, layers: [c1, p1, c2, p2, toC01b, nin, out], out, conv: c1 };
}

/** A c01b stack (dimshuffle false): input and outputs with the batch last. */
function c01bNet(batch) {
  const l0 = new InputLayer([4, 9, 9, batch]);
  const c = new Conv2DCCLayer(l0, 16, 3, { dimshuffle: false, stride: 2, pad: 1, nonlinearity: lasagne.nonlinearities.elu });
  const p = new MaxPool2DCCLayer(c, 2, { dimshuffle: false });
  const n = new NINLayer_c01b(p, 5, { untieBiases: true, nonlinearity: lasagne.nonlinearities.softplus });
  return { c, p, n };
}

const Backend = suite('wasmBackend');
Backend.before(startWatchdog);
Backend.after(() => clearTimeout(watchdog));

Backend('is named wasm and available without a GPU', async () => {
  assert.is(wasmBackend.name, 'wasm');
  assert.is(await wasmBackend.available(), true);
});

Backend('runs a network layer by layer within the float32 bound of the float64 oracle chain', async () => {
  const { out, layers } = cifarLike(5);
  const x = sym([5, 3, 12, 12], 1);
  const net = await lasagne.compile(layers, { backend: 'wasm', threads: 1 });
  assert.is(net.backend, 'wasm');
  const outs = await net.run(x);
  assert.is(outs.length, layers.length);
  // each layer checked against its oracle applied to our own (float32) input to it
  let input = x;
  layers.forEach((layer, i) => {
    const ref = layerForward(layer, input);
    const N = termsPerOutput(layer, input.shape);
    const mag = N === 0 ? null : layerForward(layer, input, { abs: true });
    const L = N === 0 ? 0 : lipschitz(layer.nonlinearity.kind, layer.nonlinearity.params);
    assert.equal(outs[i].shape, ref.shape, `layer ${i}: shape`);
    for (let j = 0; j < ref.data.length; j++) {
      const tol = N === 0 ? 0 : tolerance(N, L, mag.data[j], ref.data[j]);
      if (!(Math.abs(outs[i].data[j] - ref.data[j]) <= tol)) assert.unreachable(`layer ${i} (${layer.constructor.name}) element ${j}: ${outs[i].data[j]} vs ${ref.data[j]}`);
    }
    input = outs[i];
  });
  assert.equal(outs[outs.length - 1].shape, out.outputShape);
  net.dispose();
});

Backend('splitting the batch over worker threads changes no bit, bc01 and c01b, one or many outputs', async () => {
  for (const batch of [7, 8, 13]) {
    const { layers } = cifarLike(batch);
    const x = sym([batch, 3, 12, 12], batch);
    const one = await lasagne.compile(layers, { backend: 'wasm', threads: 1 });
    const ref = await one.run(x);
    one.dispose();
    for (const threads of [2, 3, batch + 4]) {
      const net = await lasagne.compile(layers, { backend: 'wasm', threads });
      assert.match(net.device, `${Math.min(threads, batch)} worker threads`);
      const outs = await net.run(x);
      outs.forEach((o, i) => sameBits(o, ref[i], `batch ${batch} threads ${threads} output ${i}`));
      net.dispose();
    }
    const { c, p, n } = c01bNet(batch);
    const y = sym([4, 9, 9, batch], batch + 50);
    const single = await lasagne.compile([n, c, p], { backend: 'wasm', threads: 1 });
    const refC = await single.run(y);
    single.dispose();
    const split = await lasagne.compile([n, c, p], { backend: 'wasm', threads: 3 });
    (await split.run(y)).forEach((o, i) => sameBits(o, refC[i], `c01b batch ${batch} output ${i}`));
    split.dispose();
  }
});

Backend('uploads parameters again when their version changes, on one thread and on several', async () => {
  for (const threads of [1, 2]) {
    const { out, conv } = cifarLike(4);
    const x = sym([4, 3, 12, 12], 3);
    const net = await lasagne.compile(out, { backend: 'wasm', threads });
    const before = await net.run(x);
    assert.equal((await net.run(x)).data, before.data, 'same parameters, same result');
    conv.W.setValue(f32(sym(conv.W.shape, 99)));
    const after = await net.run(x);
    assert.not.equal(after.data, before.data, `threads ${threads}: new W ignored`);
    const fresh = await lasagne.compile(out, { backend: 'wasm', threads: 1 });
    sameBits(after, await fresh.run(x), `threads ${threads}: after setValue`);
    fresh.dispose();
    net.dispose();
  }
});

Backend('profiles every step of the last run', async () => {
  const { out } = cifarLike(2);
  for (const threads of [1, 2]) {
    const net = await lasagne.compile(out, { backend: 'wasm', threads });
    assert.is(net.profile(), null, 'no run yet');
    await net.run(sym([2, 3, 12, 12], 4));
    const p = net.profile();
    assert.ok(Array.isArray(p) && p.length > 0);
    const steps = p.flatMap((l) => l.steps);
    assert.is(steps.length, net.plan.steps.length);
    for (const s of steps) assert.ok(s.ms >= 0 && Number.isFinite(s.ms), `step ${s.step} time ${s.ms}`);
    net.dispose();
  }
});

Backend('dispose is idempotent and a disposed network refuses to run', async () => {
  for (const threads of [1, 2]) {
    const { out } = cifarLike(2);
    const net = await lasagne.compile(out, { backend: 'wasm', threads });
    await net.run(sym([2, 3, 12, 12], 5));
    net.dispose();
    net.dispose();
    await rejects(() => net.run(sym([2, 3, 12, 12], 5)), (e) => e instanceof RuntimeError, `threads ${threads}`);
  }
});

Backend('checks the threads option and its inputs', async () => {
  const { out } = cifarLike(2);
  for (const threads of [0, 1.5, -2, 'two']) {
    await rejects(() => lasagne.compile(out, { backend: 'wasm', threads }), (e) => e instanceof ValueError || e instanceof TypeError, `threads ${threads}`);
  }
  const net = await lasagne.compile(out, { backend: 'wasm', threads: 1 });
  const prepared = await prepareWasm(net.plan, [], { threads: 1 }).catch((e) => e);
  assert.ok(prepared instanceof RuntimeError, 'missing parameters are refused');
  net.dispose();
});

Backend('starts many worker pools at once without losing a worker\'s first message', async () => {
  // a worker can say hello before its pool listens; that message must not be lost (it hung once)
  const timeout = (ms) => new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref());
  for (let round = 0; round < 3; round++) {
    const nets = await Promise.race([
      Promise.all(Array.from({ length: 6 }, (_, i) => lasagne.compile(cifarLike(3 + (i % 3)).out, { backend: 'wasm', threads: 3 }))),
      timeout(30000),
    ]);
    const outs = await Promise.race([Promise.all(nets.map((n, i) => n.run(sym([3 + (i % 3), 3, 12, 12], i)))), timeout(30000)]);
    assert.is(outs.length, 6);
    nets.forEach((n) => n.dispose());
  }
});

Backend('prepares and runs on the calling thread without ever leaving the event loop idle', async () => {
  // Awaiting WebAssembly.instantiate() lets Node's loop go idle and enter NodePlatform::DrainTasks,
  // which can deadlock (nodejs/node#54918; it hung this suite under load). Our Node path is
  // synchronous: a macrotask scheduled first must not run before prepare, run and dispose finish.
  const { out } = cifarLike(2);
  const plan = lasagne.plan(out);
  const params = lasagne.layers.getAllParams(out);
  let yielded = false;
  setImmediate(() => {
    yielded = true;
  });
  const net = await prepareWasm(plan, params, { threads: 1 });
  await net.run([sym([2, 3, 12, 12], 6).data]);
  net.dispose();
  assert.is(yielded, false, 'the event loop ran in between');
});

Backend('defaults to at most one thread per batch entry, and to the calling thread for tiny networks', async () => {
  const tiny = new ShuffleBC01ToC01BLayer(new InputLayer([8, 2, 3, 3]));
  const a = await lasagne.compile(tiny, { backend: 'wasm' });
  assert.match(a.device, 'calling thread');
  a.dispose();
  const { out } = cifarLike(1);
  const b = await lasagne.compile(out, { backend: 'wasm' });
  assert.match(b.device, 'calling thread', 'batch 1 cannot be split');
  b.dispose();
});

if (available) Backend.run();
