// Issue 15 (reliability) on every backend that can run here: shared input buffers, getOutput with
// several shapes at once, runs that use the parameters of their call, a frozen plan; on WebGPU,
// device loss (pending runs reject naming the reason; the next compile gets a new device, or with
// 'auto' another backend, and parameter values are kept).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { backendsHere, rejects, testDevice } from './env.mjs';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b } from 'lasagne-webgpu/layers/cuda_convnet';
import { randn } from '../reference/random.mjs';

const { InputLayer } = lasagne.layers;
const { RuntimeError } = lasagne.errors;
const f32 = (a) => ({ data: Float32Array.from(a.data), shape: [...a.shape] });
const sameData = (a, b, label) => {
  assert.equal(a.shape, b.shape, `${label}: shape`);
  for (let i = 0; i < a.data.length; i++) if (!Object.is(a.data[i], b.data[i])) assert.unreachable(`${label}: element ${i} is ${a.data[i]}, expected ${b.data[i]}`);
};

/** A small conv + pool + NIN network (bc01 in, c01b out), seeded. */
function smallNet(batch = 4) {
  lasagne.random.setRng(new lasagne.random.RandomState(7));
  const input = new InputLayer([batch, 3, 8, 8]);
  const conv = new Conv2DCCLayer(input, 16, 3, { pad: 1, name: 'conv' });
  const pool = new MaxPool2DCCLayer(conv, 2, { dimshuffle: true });
  const nin = new NINLayer_c01b(new lasagne.layers.cuda_convnet.bc01_to_c01b(pool), 16, { name: 'nin' });
  return { input, conv, nin };
}

/** NIN with identity: out = W x + b, W filled with `w` and x with ones gives w * C everywhere. */
function ninNet(C = 8, B = 4) {
  const input = new InputLayer([C, 2, 2, B]);
  const nin = new NINLayer_c01b(input, 4, { nonlinearity: null, b: null, W: new lasagne.init.Constant({ val: 1 }) });
  return { input, nin, x: lasagne.ndarray(new Float32Array(C * 4 * B).fill(1), [C, 2, 2, B]) };
}

const here = await backendsHere();

for (const [backend, missing] of here) {
  const s = suite(`reliability on ${backend}`);
  if (missing) {
    s(`skipped: backend ${backend} is ${missing}`, () => console.log(`  SKIP ${backend}: ${missing}`));
    s.run();
    continue;
  }
  const configs = backend === 'wasm' ? [{ backend, threads: 1 }, { backend, threads: 2 }] : [{ backend }];

  s('an input on a SharedArrayBuffer (or a resizable ArrayBuffer) runs like a plain one', async () => {
    const { nin } = smallNet();
    const x = f32(randn([4, 3, 8, 8], 3));
    for (const options of configs) {
      const network = await lasagne.compile(nin, options);
      try {
        const plain = await network.run(x);
        const shared = new Float32Array(new SharedArrayBuffer(4 * x.data.length));
        shared.set(x.data);
        sameData(await network.run(lasagne.ndarray(shared, x.shape)), plain, `shared ${JSON.stringify(options)}`);
        const resizable = new Float32Array(new ArrayBuffer(4 * x.data.length, { maxByteLength: 8 * x.data.length }));
        resizable.set(x.data);
        sameData(await network.run(lasagne.ndarray(resizable, x.shape)), plain, `resizable ${JSON.stringify(options)}`);
        // several in flight, the shared one refilled right after its call
        const pending = [network.run(lasagne.ndarray(shared, x.shape)), network.run(x), network.run(lasagne.ndarray(shared, x.shape))];
        shared.fill(0);
        for (const y of await Promise.all(pending)) sameData(y, plain, `in flight ${JSON.stringify(options)}`);
      } finally {
        network.dispose();
      }
    }
  });

  s('runs queued with run() use the parameter values current at their call, with runs in flight', async () => {
    for (const options of configs) {
      const { nin, x } = ninNet();
      const network = await lasagne.compile(nin, options);
      try {
        const pending = [];
        for (let i = 0; i < 6; i++) {
          nin.W.setValue(lasagne.ndarray(new Float32Array(4 * 8).fill(i + 1), [4, 8]));
          pending.push(network.run(x));
        }
        nin.W.setValue(lasagne.ndarray(new Float32Array(4 * 8).fill(100), [4, 8]));
        const outs = await Promise.all(pending);
        outs.forEach((y, i) => assert.ok(y.data.every((v) => v === 8 * (i + 1)), `${JSON.stringify(options)} run ${i}: ${y.data[0]}, expected ${8 * (i + 1)}`));
        assert.ok((await network.run(x)).data.every((v) => v === 800), 'the next run sees the last value');
        // setAllParamValues too, interleaved with runs of unchanged parameters
        const a = network.run(x);
        lasagne.setAllParamValues(nin, [lasagne.ndarray(new Float32Array(32).fill(2), [4, 8])]);
        const b = network.run(x);
        const c = network.run(x);
        const [ya, yb, yc] = await Promise.all([a, b, c]);
        assert.ok(ya.data.every((v) => v === 800) && yb.data.every((v) => v === 16) && yc.data.every((v) => v === 16), JSON.stringify(options));
      } finally {
        network.dispose();
      }
    }
  });

  s('network.plan is deeply frozen: editing a shape throws and the run is unchanged', async () => {
    const { nin } = smallNet();
    const x = f32(randn([4, 3, 8, 8], 5));
    const network = await lasagne.compile(nin, configs[0]);
    try {
      const before = await network.run(x);
      const plan = network.plan;
      assert.ok(Object.isFrozen(plan) && Object.isFrozen(plan.tensors) && Object.isFrozen(plan.tensors[0]) && Object.isFrozen(plan.tensors[0].shape));
      assert.ok(Object.isFrozen(plan.steps[0]) && Object.isFrozen(plan.layers[1].config) && Object.isFrozen(network.inputLayers));
      assert.throws(() => {
        plan.tensors[plan.outputs[0]].shape[3] = 2;
      }, TypeError);
      assert.throws(() => {
        plan.tensors[plan.inputs[0]].shape[0] = 2;
      }, TypeError);
      assert.throws(() => plan.steps.push({}), TypeError);
      sameData(await network.run(x), before, 'after the attempts');
      // freezing copies: the layers' own arrays stay as they were
      assert.not.ok(Object.isFrozen(network.inputLayers[0].shape));
    } finally {
      network.dispose();
    }
  });

  s('getOutput on one layer with several input shapes at once: every call resolves with its own shape', async () => {
    const input = new InputLayer([null, 16, null, null]);
    const pool = new MaxPool2DCCLayer(input, 2);
    const sizes = [4, 6, 8, 10, 12, 14];
    const xs = sizes.map((n, i) => f32(randn([1 + (i % 2), 16, n, n], 20 + i)));
    for (let round = 0; round < 2; round++) {
      const outs = await Promise.all(xs.map((x) => lasagne.layers.getOutput(pool, x, backend === 'wasm' ? { backend, threads: 2 } : { backend })));
      outs.forEach((y, i) => assert.equal(y.shape, [1 + (i % 2), 16, sizes[i] / 2, sizes[i] / 2], `round ${round} size ${sizes[i]}`));
      // interleaved: the second shape's compile must not dispose the first one's running network
      const pending = [];
      for (let k = 0; k < 3; k++) for (const x of xs.slice(0, 2)) pending.push(lasagne.layers.getOutput(pool, x, backend === 'wasm' ? { backend, threads: 2 } : { backend }));
      for (const y of await Promise.all(pending)) assert.equal(y.shape.length, 4);
    }
  });

  s.run();
}

// ---------------------------------------------------------------- device loss (WebGPU)

const gpuSuite = suite('device loss on webgpu');
const gpu = here.find(([b]) => b === 'webgpu');
const gpuMissing = gpu === undefined ? 'not built' : gpu[1];
if (gpuMissing) {
  gpuSuite(`skipped: webgpu is ${gpuMissing}`, () => console.log(`  SKIP device loss: ${gpuMissing}`));
} else {
  const lostError = (e) => e instanceof RuntimeError && /device was lost/.test(e.message) && /'destroyed'/.test(e.message);

  gpuSuite('destroy() mid-run: pending and later runs reject naming the reason; compile on it rejects (webgpu) or moves (auto)', async () => {
    const { device, reason } = await testDevice();
    assert.is(reason, undefined, reason);
    const { nin } = smallNet();
    const x = f32(randn([4, 3, 8, 8], 9));
    const reference = await lasagne.compile(nin, { backend: 'wasm', threads: 1 });
    const want = await reference.run(x);
    const network = await lasagne.compile(nin, { device });
    assert.is(network.backend, 'webgpu');
    const pending = [1, 2, 3, 4, 5].map(() => network.run(x).then(() => null, (e) => e));
    device.destroy();
    for (const e of await Promise.all(pending)) assert.ok(e === null || lostError(e), `a pending run: ${e}`);
    assert.ok((await Promise.all(pending)).some((e) => e !== null), 'runs in flight at destroy() reject');
    await rejects(() => network.run(x), lostError, 'a run after the loss');
    await rejects(() => lasagne.compile(nin, { device, backend: 'webgpu' }), lostError, "compile on the lost device with backend 'webgpu'");
    const moved = await lasagne.compile(nin, { device, backend: 'auto' });
    try {
      const y = await moved.run(x);
      assert.equal(y.shape, want.shape);
      for (let i = 0; i < y.data.length; i++) assert.ok(Math.abs(y.data[i] - want.data[i]) <= 1e-4 * (1 + Math.abs(want.data[i])), `auto after loss: element ${i}`);
    } finally {
      moved.dispose();
      network.dispose();
      reference.dispose();
    }
  });

  gpuSuite('compile on a device destroyed just before rejects rather than resolve to a dead network', async () => {
    const { device } = await testDevice();
    const { nin } = smallNet();
    device.destroy();
    await rejects(() => lasagne.compile(nin, { device, backend: 'webgpu' }), lostError, 'compile right after destroy()');
  });

  gpuSuite('the default device lost: the next compile gets a new one, with the parameter values set meanwhile', async () => {
    const { defaultDeviceHandle } = await import('../../dist/backend/webgpu/device.js');
    const { nin, x } = ninNet();
    const network = await lasagne.compile(nin, { backend: 'webgpu' });
    assert.ok((await network.run(x)).data.every((v) => v === 8));
    assert.ok((await lasagne.layers.getOutput(nin, x, { backend: 'webgpu' })).data.every((v) => v === 8), 'getOutput caches a network');
    const old = (await defaultDeviceHandle()).device;
    const pending = [network.run(x), network.run(x)].map((p) => p.then(() => null, (e) => e));
    old.destroy();
    for (const e of await Promise.all(pending)) assert.ok(e === null || lostError(e), `a pending run: ${e}`);
    nin.W.setValue(lasagne.ndarray(new Float32Array(32).fill(3), [4, 8]));
    const again = await lasagne.compile(nin, { backend: 'webgpu' });
    try {
      assert.is.not((await defaultDeviceHandle()).device, old);
      assert.ok((await again.run(x)).data.every((v) => v === 24), 'the new network runs with the values set after the loss');
      // getOutput's cached network was on the lost device: one call may hear of the loss, the next compiles again
      const first = await lasagne.layers.getOutput(nin, x, { backend: 'webgpu' }).then((y) => y, (e) => e);
      assert.ok(!(first instanceof Error) || lostError(first), String(first));
      assert.ok((await lasagne.layers.getOutput(nin, x, { backend: 'webgpu' })).data.every((v) => v === 24), 'getOutput after the loss');
    } finally {
      again.dispose();
      network.dispose();
    }
  });

  gpuSuite("the default device lost and no adapter left: compile with 'auto' falls back to WASM, with the parameter values", async () => {
    const { defaultDeviceHandle } = await import('../../dist/backend/webgpu/device.js');
    const { nin, x } = ninNet();
    const network = await lasagne.compile(nin, { backend: 'webgpu' });
    nin.W.setValue(lasagne.ndarray(new Float32Array(32).fill(5), [4, 8]));
    (await defaultDeviceHandle()).device.destroy();
    // an environment whose WebGPU entry point now has no adapter (navigator.gpu comes first)
    globalThis.navigator = { gpu: { requestAdapter: async () => null } };
    try {
      const moved = await lasagne.compile(nin);
      try {
        assert.is(moved.backend, 'wasm');
        assert.ok((await moved.run(x)).data.every((v) => v === 40));
      } finally {
        moved.dispose();
      }
      await rejects(() => lasagne.compile(nin, { backend: 'webgpu' }), (e) => e instanceof RuntimeError && /no WebGPU adapter/.test(e.message), "backend 'webgpu' without an adapter");
    } finally {
      delete globalThis.navigator;
      network.dispose();
    }
    const back = await lasagne.compile(nin, { backend: 'webgpu' });
    assert.ok((await back.run(x)).data.every((v) => v === 40), 'a new default device once there is an adapter again');
    back.dispose();
  });
}
gpuSuite.run();
