// Every byte in the plan: compile() asks its backend for the scratch of each step (WebGPU split-K
// partial sums, the C kernels' padded input copy and tap table) before offsets are fixed, so
// network.plan.arenaBytes is exactly the arena the backend allocates, and nothing is allocated past it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { backendsHere } from '../backend/env.mjs';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { uniform } from '../reference/random.mjs';
import { layerForward, termsPerOutput, lipschitz, tolerance } from '../reference/layers.mjs';

const { InputLayer } = lasagne.layers;
const here = Object.fromEntries(await backendsHere());

/** C3 of the benchmarks at batch 8: few tiles and a long K (800), so a GPU splits K; pad 2, so C copies a padded input. */
function c3() {
  lasagne.random.setRng(new lasagne.random.RandomState(7));
  const input = new InputLayer([8, 32, 8, 8]);
  return new Conv2DCCLayer(input, 64, 5, { pad: 2 });
}

function expectOracle(layer, x, ours, label) {
  const ref = layerForward(layer, x);
  const mag = layerForward(layer, x, { abs: true });
  const N = termsPerOutput(layer, x.shape);
  const L = lipschitz(layer.nonlinearity.kind, layer.nonlinearity.params);
  assert.equal(ours.shape, ref.shape, `${label}: shape`);
  for (let i = 0; i < ref.data.length; i++) {
    const t = tolerance(N, L, mag.data[i], ref.data[i]);
    if (!(Math.abs(ours.data[i] - ref.data[i]) <= t)) assert.unreachable(`${label}: element ${i} is ${ours.data[i]}, reference ${ref.data[i]}`);
  }
}

const scratchTensors = (plan) => plan.tensors.filter((t) => t.producer.endsWith('#scratch'));

const s = suite('arena scratch');

s('plan() without a backend has no scratch; steps name none', () => {
  const p = lasagne.plan(c3());
  assert.equal(scratchTensors(p), []);
  assert.ok(p.steps.every((st) => st.scratch === undefined));
});

if (here.wasm === null) {
  s('wasm: the padded copy and tap table are a tensor of the plan, and the engine reserves exactly arenaBytes', async () => {
    const { prepareWasm, kernelsModule } = await import('../../dist/backend/wasm/index.js');
    const layer = c3();
    const net = await lasagne.compile(layer, { backend: 'wasm', threads: 1 });
    const step = net.plan.steps.find((st) => st.op === 'filter_acts');
    const [scratch] = scratchTensors(net.plan);
    assert.ok(scratch !== undefined && step.scratch === scratch.id, 'the conv step names its scratch tensor');
    // what the C kernel itself asks for: C * (H + 2p) * (W + 2p) * B floats plus C * k * k offsets
    const k = new WebAssembly.Instance(await kernelsModule(), {}).exports;
    assert.is(scratch.bytes, k.filter_acts_scratch_bytes(32, 8, 8, 8, 5, 2));
    assert.is(scratch.bytes, 4 * (32 * 12 * 12 * 8 + 32 * 25));
    assert.ok(scratch.first === step.index && scratch.last === step.index, 'live during its step only');
    assert.ok(scratch.offset + scratch.bytes <= net.plan.arenaBytes);
    const prepared = await prepareWasm(net.plan, lasagne.getAllParams(layer), { threads: 1 });
    assert.is(prepared.arenaBytes, net.plan.arenaBytes);
    const x = { data: Float32Array.from(uniform([8, 32, 8, 8], 3).data, (v) => 2 * v - 1), shape: [8, 32, 8, 8] };
    const [out] = await prepared.run([x.data]);
    expectOracle(layer, x, { data: out, shape: [8, 64, 8, 8] }, 'wasm');
    const threaded = await lasagne.compile(layer, { backend: 'wasm', threads: 3 });
    assert.equal((await threaded.run(x)).data, out, 'three workers, each with its sub-batch scratch: the same bits');
    prepared.dispose();
    net.dispose();
    threaded.dispose();
  });
}

if (here.webgpu === null) {
  s('webgpu: the split-K partial sums are a tensor of the plan, and the arena buffer is exactly arenaBytes', async () => {
    const { prepareWebGpu, filterActsScratchBytes, launchOf, DEFAULT_GPU_LIMITS } = await import('../../dist/backend/webgpu/index.js');
    const layer = c3();
    const net = await lasagne.compile(layer, { backend: 'webgpu' });
    const step = net.plan.steps.find((st) => st.op === 'filter_acts');
    const [scratch] = scratchTensors(net.plan);
    // a GPU takes 4 slices of K for 8 tiles of 64 x 64: 4 * 4 * F * N bytes of partial sums
    assert.is(filterActsScratchBytes(step, DEFAULT_GPU_LIMITS), 4 * 4 * 64 * (8 * 8 * 8));
    assert.ok(scratch !== undefined && step.scratch === scratch.id && scratch.bytes === 4 * 4 * 64 * 512, 'the conv step names its scratch tensor');
    assert.ok(scratch.first === step.index && scratch.last === step.index, 'live during its step only');
    // the GPU variants (forced here on SwiftShader) use it; the arena buffer is the plan's arenaBytes and no more
    const prepared = await prepareWebGpu(net.plan, lasagne.getAllParams(layer), { cpuVariants: false });
    assert.is(prepared.plan, net.plan, 'nothing added to a compiled plan');
    assert.is(prepared.arenaBufferBytes, Math.ceil(net.plan.arenaBytes / 16) * 16);
    const launch = launchOf(net.plan, step, { ...DEFAULT_GPU_LIMITS, maxComputeWorkgroupStorageSize: 49152 });
    assert.ok(launch.then?.[0]?.entryPoint === 'split_sum', 'split K runs');
    assert.ok(launch.arenaRange.offset + launch.arenaRange.size <= prepared.arenaBufferBytes, 'inside the arena');
    const x = { data: Float32Array.from(uniform([8, 32, 8, 8], 3).data, (v) => 2 * v - 1), shape: [8, 32, 8, 8] };
    const [out] = await prepared.run([x.data]);
    expectOracle(layer, x, { data: out, shape: [8, 64, 8, 8] }, 'webgpu split K');
    prepared.dispose();
    net.dispose();
  });

  s('webgpu: a 3x3 layer of 64 channels and filters compiles with Winograd\'s scratch in the plan (sized for this device); prepare adds nothing', async () => {
    const { prepareWebGpu, launchOf, DEFAULT_GPU_LIMITS } = await import('../../dist/backend/webgpu/index.js');
    const { winogradFor } = await import('../../dist/backend/webgpu/geometry.js');
    lasagne.random.setRng(new lasagne.random.RandomState(11));
    const layer = new Conv2DCCLayer(new InputLayer([8, 64, 6, 6]), 64, 3, { pad: 1 });
    const net = await lasagne.compile(layer, { backend: 'webgpu' });
    const step = net.plan.steps.find((st) => st.op === 'filter_acts');
    const need = winogradFor(step, DEFAULT_GPU_LIMITS);
    assert.ok(need !== null, 'the layer takes Winograd');
    const [scratch] = scratchTensors(net.plan);
    assert.ok(scratch !== undefined && step.scratch === scratch.id && scratch.bytes >= need.bytes, `the plan holds U + V + M (${need.bytes} bytes)`);
    const prepared = await prepareWebGpu(net.plan, lasagne.getAllParams(layer), {});
    assert.is(prepared.plan, net.plan, 'nothing added to a compiled plan');
    assert.is(prepared.arenaBufferBytes, Math.ceil(net.plan.arenaBytes / 16) * 16);
    assert.is(launchOf(net.plan, step, DEFAULT_GPU_LIMITS).family, 'winograd');
    const x = { data: Float32Array.from(uniform([8, 64, 6, 6], 12).data, (v) => 2 * v - 1), shape: [8, 64, 6, 6] };
    const out = await net.run(x);
    const ref = layerForward(layer, x);
    assert.equal(out.shape, ref.shape, 'shape');
    let big = 0;
    let diff = 0;
    for (let i = 0; i < ref.data.length; i++) {
      big = Math.max(big, Math.abs(ref.data[i]));
      diff = Math.max(diff, Math.abs(out.data[i] - ref.data[i]));
    }
    assert.ok(diff <= 1e-5 * big, `max |ours - float64| ${diff} within 1e-5 of the largest output ${big} (Winograd's rounding; webgpu_winograd.test.mjs bounds it per element)`);
    prepared.dispose();
    net.dispose();
    // a layer whose Winograd scratch passes WebGPU's guaranteed 128 MiB binding but fits this device's
    // (SwiftShader: 1 GiB): the plan is sized for the device, not for the guaranteed limits (32 x 32
    // outputs: F(4x4), 4 * 36 * (64 * 64 + 2 * 64 * 8 * 8 * 128) bytes = 152 MB at batch 128)
    const wide = new Conv2DCCLayer(new InputLayer([128, 64, 32, 32]), 64, 3, { pad: 1 });
    const wideNet = await lasagne.compile(wide, { backend: 'webgpu' });
    const bigStep = wideNet.plan.steps.find((st) => st.op === 'filter_acts');
    const device = winogradFor(bigStep, { ...DEFAULT_GPU_LIMITS, maxStorageBufferBindingSize: 2 ** 30 });
    assert.is(winogradFor(bigStep, DEFAULT_GPU_LIMITS), null, 'beyond 128 MiB');
    assert.ok(device !== null && device.m === 4 && device.bytes > 2 ** 27, `F(${device?.m}x${device?.m}): ${device?.bytes} bytes of scratch`);
    assert.ok(wideNet.plan.tensors[bigStep.scratch].bytes >= device.bytes, 'the compiled plan holds them');
    const bigPrepared = await prepareWebGpu(wideNet.plan, lasagne.getAllParams(wide), {});
    assert.is(bigPrepared.plan, wideNet.plan, 'nothing added to a compiled plan');
    bigPrepared.dispose();
    wideNet.dispose();
  });

  s('webgpu: compile(net, { winograd: false }) keeps the direct kernel and no transform scratch; a non-boolean is a TypeError', async () => {
    const { launchOf, DEFAULT_GPU_LIMITS } = await import('../../dist/backend/webgpu/index.js');
    const { winogradFor } = await import('../../dist/backend/webgpu/geometry.js');
    lasagne.random.setRng(new lasagne.random.RandomState(13));
    const layer = new Conv2DCCLayer(new InputLayer([8, 64, 6, 6]), 64, 3, { pad: 1 });
    const on = await lasagne.compile(layer, { backend: 'webgpu' });
    const off = await lasagne.compile(layer, { backend: 'webgpu', winograd: false });
    const step = off.plan.steps.find((st) => st.op === 'filter_acts');
    const need = winogradFor(step, DEFAULT_GPU_LIMITS).bytes;
    const scratchOf = (net) => scratchTensors(net.plan).reduce((n, t) => n + t.bytes, 0);
    assert.ok(scratchOf(on) >= need, 'default: U + V + M in the plan');
    assert.ok(scratchOf(off) < need, `winograd: false: no transform scratch (${scratchOf(off)} bytes)`);
    assert.ok(off.plan.arenaBytes < on.plan.arenaBytes, 'a smaller arena');
    assert.is(launchOf(off.plan, step, { ...DEFAULT_GPU_LIMITS, tile: { winograd: false } }).family, 'filter_acts');
    const x = { data: Float32Array.from(uniform([8, 64, 6, 6], 14).data, (v) => 2 * v - 1), shape: [8, 64, 6, 6] };
    expectOracle(layer, x, await off.run(x), 'winograd: false (direct kernel, its tolerance)');
    on.dispose();
    off.dispose();
    for (const bad of ['no', 0, null]) {
      const e = await lasagne.compile(layer, { backend: 'webgpu', winograd: bad }).then(() => null, (err) => err);
      assert.ok(e instanceof TypeError && /compile option 'winograd' must be a boolean, but got/.test(e.message), String(e));
    }
  });

  s('webgpu: a step plan without scratch gets it appended before anything is allocated', async () => {
    const { prepareWebGpu, stepPlan } = await import('../../dist/backend/webgpu/index.js');
    const layer = c3();
    const bare = lasagne.plan(layer);
    const small = stepPlan(bare.tensors.map((t) => t.shape), bare.steps, bare.inputs, bare.outputs);
    const prepared = await prepareWebGpu(small, lasagne.getAllParams(layer), { cpuVariants: false });
    assert.ok(prepared.plan.arenaBytes > small.arenaBytes, 'scratch added');
    assert.is(prepared.arenaBufferBytes, Math.ceil(prepared.plan.arenaBytes / 16) * 16);
    prepared.dispose();
  });
}

s.run();
