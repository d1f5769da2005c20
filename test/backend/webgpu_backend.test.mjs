// The WebGPU backend around the kernels (src/backend/webgpu): kernel geometry without a device, then
// on a device (SwiftShader here): the default device, profiles, caching, disposal, errors that surface
// instead of wrong answers, and the split of huge dispatches. Values are checked bit-exactly where
// the kernel only moves data; the kernels' arithmetic is webgpu_kernels.test.mjs's subject.
//
// The device suite skips, saying why, when the `webgpu` package or an adapter is missing.
import { suite } from 'uvu';
import { testDevice, rejects } from './env.mjs';
import * as assert from 'uvu/assert';
import { uniform, randn, toFloat32 } from '../reference/random.mjs';
import { transpose } from '../reference/array.mjs';
import { convStep } from '../support/steps.mjs';
import { Param } from '../../dist/layers/base.js';
import { RuntimeError, ValueError } from '../../dist/errors.js';
import { launchOf, pipelineKey, prepareWebGpu, stepPlan, webgpuBackend, WGSL } from '../../dist/backend/webgpu/index.js';
import { FLAT_WORKGROUP, workgroupGrid } from '../../dist/backend/webgpu/geometry.js';


const f32 = toFloat32;
const LIMITS = { minStorageBufferOffsetAlignment: 256, maxStorageBufferBindingSize: 1 << 27, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535 };

function convPlan(o) {
  const step = convStep(o);
  return stepPlan([[o.C, o.H, o.W, o.B], [o.F, step.outRows, step.outCols, o.B]], [step], [0], [1]);
}

const geometry = suite('webgpu kernel geometry (no device)');

geometry('every file of wgsl/ is embedded, each starting with its header comment', () => {
  assert.equal(Object.keys(WGSL).sort(), ['arena_scalar', 'arena_vec4', 'bias_act_grad', 'elementwise', 'epilogue', 'filter_acts', 'flat', 'gemm', 'gemm_units', 'img_acts', 'max_pool', 'max_pool_grad', 'nin', 'nin_grad', 'slot_sum', 'softmax', 'stage_flat', 'stage_rows', 'transpose', 'update', 'weight_acts', 'weight_layout', 'winograd']);
  for (const [name, text] of Object.entries(WGSL)) assert.ok(text.startsWith(`// ${name}.wgsl: `), name);
});

geometry('flat.wgsl\'s workgroup is the one the host dispatches for (FLAT_WORKGROUP)', () => {
  assert.ok(WGSL.flat.includes(`const FLAT: u32 = ${FLAT_WORKGROUP}u;`), `flat.wgsl declares FLAT = ${FLAT_WORKGROUP}`);
  for (const name of ['elementwise', 'update', 'nin_grad', 'weight_acts']) assert.not.match(WGSL[name], /const FLAT\b/, `${name} takes FLAT from flat.wgsl`);
});

geometry('workgroup counts beyond 65535 are split over x and y', () => {
  assert.equal(workgroupGrid(10, 65535), [10, 1]);
  assert.equal(workgroupGrid(65535, 65535), [65535, 1]);
  assert.equal(workgroupGrid(65536, 65535), [65535, 2]);
  assert.equal(workgroupGrid(1e6, 65535), [65535, 16]);
});

geometry('filter_acts picks the vec4 path exactly when the batch is a multiple of 4, and fits 16 KiB of workgroup memory', () => {
  for (const B of [1, 3, 4, 5, 8, 130, 128])
    for (const F of [16, 32, 48, 64, 96, 384]) {
      const l = launchOf(convPlan({ C: 3, H: 9, W: 9, B, F, k: 3 }), convStep({ C: 3, H: 9, W: 9, B, F, k: 3 }), LIMITS);
      assert.is(l.arena, B % 4 === 0 ? 'vec4' : 'scalar', `B ${B}`);
      const { WG_N, WG_F, K_CHUNK, RF } = l.constants;
      assert.ok(WG_N * WG_F <= 256 && 4 * RF * WG_F <= Math.max(16, F), `F ${F}: ${WG_N} x ${WG_F}, RF ${RF}`);
      assert.ok(16 * (K_CHUNK * (WG_N + RF * WG_F) + (B % 4 === 0 ? WG_N : 4 * WG_N)) <= 16384, `K_CHUNK ${K_CHUNK}`);
      assert.is(K_CHUNK >= 8, true, 'a GPU gets long K chunks');
      const cpu = launchOf(convPlan({ C: 3, H: 9, W: 9, B, F, k: 3 }), convStep({ C: 3, H: 9, W: 9, B, F, k: 3 }), { ...LIMITS, cpu: true });
      assert.ok(cpu.constants.K_CHUNK <= 2, 'a CPU device gets short ones');
    }
});

geometry('uniform words carry the shapes; the pipeline key carries only what changes the code', () => {
  const step = convStep({ C: 3, H: 11, W: 16, B: 5, F: 32, k: 3, s: 2, pad: 1, nonlinearity: { kind: 'leaky_rectify', params: [0.25] } });
  const l = launchOf(convPlan({ C: 3, H: 11, W: 16, B: 5, F: 32, k: 3, s: 2, pad: 1 }), step, LIMITS);
  const u = new Uint32Array(l.uniform);
  assert.equal(Array.from(u.slice(2, 12)), [3, 11, 16, 5, 32, 3, 2, 1, 6, 8]);
  assert.is(new Float32Array(l.uniform)[22], 0.25);
  assert.is(l.constants.ACT, 5);
  const other = launchOf(convPlan({ C: 4, H: 7, W: 7, B: 7, F: 32, k: 5 }), convStep({ C: 4, H: 7, W: 7, B: 7, F: 32, k: 5, nonlinearity: { kind: 'leaky_rectify', params: [0.5] } }), LIMITS);
  assert.is(pipelineKey(other.family, other.entryPoint, other.constants), pipelineKey(l.family, l.entryPoint, l.constants));
});

geometry('softmax cannot be fused (it is not elementwise) and is refused with ValueError', () => {
  const step = convStep({ C: 1, H: 4, W: 4, B: 1, F: 16, k: 3, nonlinearity: { kind: 'softmax', params: [] } });
  assert.throws(() => launchOf(convPlan({ C: 1, H: 4, W: 4, B: 1, F: 16, k: 3 }), step, LIMITS), (e) => e instanceof ValueError && /softmax/.test(e.message));
});

geometry.run();

const { device, reason } = await testDevice();
if (reason) console.log(`  SKIP webgpu backend: ${reason}`);

const test = suite('webgpu backend');
const it = reason ? test.skip : test;
test.after(() => device?.destroy());

/** Counts the calls of device methods while `fn` runs; wrapFn(method, result) may inspect results. */
async function counting(methods, fn, wrapResult = () => {}) {
  const counts = Object.fromEntries(methods.map((m) => [m, 0]));
  const originals = {};
  for (const m of methods) {
    originals[m] = device[m];
    device[m] = function (...args) {
      counts[m]++;
      const r = originals[m].apply(this, args);
      wrapResult(m, r);
      return r;
    };
  }
  try {
    await fn();
  } finally {
    for (const m of methods) device[m] = originals[m];
  }
  return counts;
}

it('is available here and runs on its own default device (prepare without options.device)', async () => {
  assert.is(webgpuBackend.name, 'webgpu');
  assert.is(await webgpuBackend.available(), true);
  const x = f32(randn([2, 3, 4, 5], 1));
  const plan = stepPlan([[2, 3, 4, 5], [3, 4, 5, 2]], [{ op: 'transpose', index: 0, layer: 't', input: 0, output: 1, perm: [1, 2, 3, 0], inShape: [2, 3, 4, 5] }], [0], [1]);
  const net = await webgpuBackend.prepare(plan, [], {});
  assert.match(net.description, /WebGPU/);
  const [out] = await net.run([x.data]);
  net.dispose();
  assert.equal(Array.from(out), Array.from(transpose(x, [1, 2, 3, 0]).data));
});

it('profile() is null before the first run, then one timing per step; timeSteps(n) times n back-to-back runs (with timestamp queries)', async () => {
  const step = convStep({ C: 3, H: 8, W: 8, B: 4, F: 16, k: 3, layer: 'conv1' });
  const plan = stepPlan(
    [[3, 8, 8, 4], [16, 6, 6, 4], [4, 16, 6, 6]],
    [step, { op: 'transpose', index: 1, layer: 'out', input: 1, output: 2, perm: [3, 0, 1, 2], inShape: [16, 6, 6, 4] }],
    [0], [2],
  );
  const net = await prepareWebGpu(plan, [new Param('W', f32(uniform([3, 3, 3, 16], 2)))], { device });
  assert.is(net.profile(), null);
  const x = f32(uniform([3, 8, 8, 4], 3)).data;
  const [out] = await net.run([x]);
  const p = net.profile();
  const steady = await net.timeSteps(3);
  const [again] = await net.run([x]);
  net.dispose();
  assert.equal(Array.from(again), Array.from(out), 'timing runs change nothing');
  if (!device.features.has('timestamp-query')) {
    assert.is(p, null);
    assert.is(steady, null);
    return;
  }
  for (const times of [p, steady]) {
    assert.equal(times.map((t) => [t.step, t.layer, t.op]), [[0, 'conv1', 'filter_acts'], [1, 'out', 'transpose']]);
    assert.ok(times.every((t) => Number.isFinite(t.ms) && t.ms >= 0), JSON.stringify(times));
  }
});

it('timeBackToBack(n) runs every step n times in ONE compute pass and gives ms per run (null without timestamp queries); it changes no result and rejects a bad n', async () => {
  const step = convStep({ C: 3, H: 8, W: 8, B: 4, F: 16, k: 3, layer: 'conv1' });
  const plan = stepPlan(
    [[3, 8, 8, 4], [16, 6, 6, 4], [4, 16, 6, 6]],
    [step, { op: 'transpose', index: 1, layer: 'out', input: 1, output: 2, perm: [3, 0, 1, 2], inShape: [16, 6, 6, 4] }],
    [0], [2],
  );
  const net = await prepareWebGpu(plan, [new Param('W', f32(uniform([3, 3, 3, 16], 22)))], { device });
  const x = f32(uniform([3, 8, 8, 4], 23)).data;
  const [out] = await net.run([x]);
  const before = net.profile();
  for (const bad of [0, -1, 1.5, NaN]) await rejects(() => net.timeBackToBack(bad), (e) => e instanceof ValueError && /timeBackToBack needs a positive integer repeat, but got/.test(e.message), `repeat ${bad}`);
  const passes = [];
  const dispatches = [];
  const original = device.createCommandEncoder;
  device.createCommandEncoder = function (...args) {
    const enc = original.apply(this, args);
    const begin = enc.beginComputePass.bind(enc);
    enc.beginComputePass = (d) => {
      passes.push(d?.timestampWrites ? [d.timestampWrites.beginningOfPassWriteIndex, d.timestampWrites.endOfPassWriteIndex] : null);
      const p = begin(d);
      const dispatch = p.dispatchWorkgroups.bind(p);
      p.dispatchWorkgroups = (...a) => {
        dispatches.push(passes.length - 1);
        return dispatch(...a);
      };
      return p;
    };
    return enc;
  };
  let ms;
  try {
    ms = await net.timeBackToBack(5);
  } finally {
    device.createCommandEncoder = original;
  }
  const [again] = await net.run([x]);
  net.dispose();
  assert.equal(Array.from(again), Array.from(out), 'timing runs change nothing');
  if (!device.features.has('timestamp-query')) {
    assert.is(ms, null);
    return;
  }
  assert.equal(passes, [[0, 1]], 'one pass, timestamps 0 and 1 around it');
  assert.is(dispatches.length, 10, '5 runs of 2 steps, all in that pass');
  assert.ok(Number.isFinite(ms) && ms >= 0, String(ms));
  assert.equal(net.profile(), before, 'profile() is not changed');
});

it('with timestamp queries, the first run and every 16th after it are timed (one pass per step), the others run in one pass', async () => {
  if (!device.features.has('timestamp-query')) return;
  const step = convStep({ C: 3, H: 8, W: 8, B: 4, F: 16, k: 3, layer: 'conv1' });
  const plan = stepPlan(
    [[3, 8, 8, 4], [16, 6, 6, 4], [4, 16, 6, 6]],
    [step, { op: 'transpose', index: 1, layer: 'out', input: 1, output: 2, perm: [3, 0, 1, 2], inShape: [16, 6, 6, 4] }],
    [0], [2],
  );
  const net = await prepareWebGpu(plan, [new Param('W', f32(uniform([3, 3, 3, 16], 12)))], { device });
  const x = f32(uniform([3, 8, 8, 4], 13)).data;
  const passes = [];
  const original = device.createCommandEncoder;
  device.createCommandEncoder = function (...args) {
    const enc = original.apply(this, args);
    const begin = enc.beginComputePass.bind(enc);
    passes.push(0);
    enc.beginComputePass = (d) => {
      passes[passes.length - 1]++;
      return begin(d);
    };
    return enc;
  };
  let outs;
  try {
    outs = [];
    for (let r = 0; r < 18; r++) outs.push((await net.run([x]))[0]);
  } finally {
    device.createCommandEncoder = original;
    net.dispose();
  }
  assert.equal(passes, [2, ...Array(15).fill(1), 2, 1]);
  outs.forEach((o, r) => assert.equal(Array.from(o), Array.from(outs[0]), `run ${r}: timed and untimed runs agree bit for bit`));
});

it('profile: false makes no query set and no timing passes; profile() stays null', async () => {
  const o = { C: 2, H: 6, W: 6, B: 4, F: 16, k: 3 };
  let net;
  const counts = await counting(['createQuerySet'], async () => {
    net = await prepareWebGpu(convPlan(o), [new Param('W', f32(uniform([2, 3, 3, 16], 8)))], { device, profile: false });
  });
  assert.equal(counts, { createQuerySet: 0 });
  await net.run([f32(uniform([2, 6, 6, 4], 9)).data]);
  assert.is(net.profile(), null);
  assert.is(await net.timeSteps(2), null);
  net.dispose();
});

it('pipelines and shader modules are created once per device: a second prepare compiles nothing', async () => {
  const o = { C: 4, H: 6, W: 6, B: 8, F: 32, k: 3, nonlinearity: { kind: 'elu', params: [] } };
  const params = [new Param('W', f32(uniform([4, 3, 3, 32], 4)))];
  (await prepareWebGpu(convPlan(o), params, { device })).dispose();
  const counts = await counting(['createComputePipelineAsync', 'createComputePipeline', 'createShaderModule'], async () => {
    (await prepareWebGpu(convPlan({ ...o, H: 9, W: 7 }), params.map(() => new Param('W', f32(uniform([4, 3, 3, 32], 5)))), { device })).dispose();
  });
  assert.equal(counts, { createComputePipelineAsync: 0, createComputePipeline: 0, createShaderModule: 0 });
});

it('dispose() destroys every buffer and query set it created, is idempotent, and run() afterwards is a RuntimeError', async () => {
  const created = [];
  const destroyed = new Set();
  let net;
  await counting(['createBuffer', 'createQuerySet'], async () => {
    net = await prepareWebGpu(convPlan({ C: 1, H: 5, W: 5, B: 2, F: 16, k: 3 }), [new Param('W', f32(uniform([1, 3, 3, 16], 6)))], { device });
  }, (m, r) => {
    created.push(r);
    const d = r.destroy.bind(r);
    r.destroy = () => {
      destroyed.add(r);
      d();
    };
  });
  assert.ok(created.length >= 4, `${created.length} objects`);
  await net.run([new Float32Array(50)]);
  net.dispose();
  net.dispose();
  assert.is(destroyed.size, created.length);
  const e = await net.run([new Float32Array(50)]).then(() => null, (err) => err);
  assert.ok(e instanceof RuntimeError && /disposed/.test(e.message), String(e));
});

it('run() refuses a wrong number of inputs or a wrong length with ValueError', async () => {
  const net = await prepareWebGpu(convPlan({ C: 1, H: 5, W: 5, B: 2, F: 16, k: 3 }), [new Param('W', f32(uniform([1, 3, 3, 16], 7)))], { device });
  for (const bad of [[], [new Float32Array(49)], [new Float64Array(50)], [new Float32Array(50), new Float32Array(50)]]) {
    const e = await net.run(bad).then(() => null, (err) => err);
    assert.ok(e instanceof ValueError, String(e));
  }
  net.dispose();
});

it('concurrent runs are in flight together and each gets its own inputs; new parameter values are seen on the next run', async () => {
  const step = { op: 'nin', index: 0, layer: 'nin', input: 0, output: 1, weight: 0, bias: -1, biasMode: 'none', nonlinearity: { kind: 'linear', params: [] }, channels: 1, units: 1, positions: 1, batch: 4 };
  const plan = stepPlan([[1, 4], [1, 4]], [step], [0], [1]);
  const w = new Param('W', f32({ data: [2], shape: [1, 1] }));
  const net = await prepareWebGpu(plan, [w], { device });
  // more runs than readback slots, issued without awaiting (in flight together), one timing among them
  const ks = [1, 2, 3, 4, 5, 6, 7];
  const runs = ks.map((k) => net.run([Float32Array.of(k, k + 0.5, -k, 0)]));
  const timing = net.timeSteps(2);
  const outs = await Promise.all(runs);
  assert.equal(outs.map(([o]) => Array.from(o)), ks.map((k) => [2 * k, 2 * k + 1, -2 * k, 0]));
  const t = await timing;
  if (t !== null) assert.is(t.length, 1);
  w.setValue(f32({ data: [-3], shape: [1, 1] }));
  assert.equal(Array.from((await net.run([Float32Array.of(1, 2, 3, 4)]))[0]), [-3, -6, -9, -12]);
  net.dispose();
});

it('a WebGPU validation error during prepare rejects prepare (it is not a silent wrong answer)', async () => {
  const original = device.createBindGroup;
  // an unaligned arena offset: invalid in every implementation
  device.createBindGroup = function (desc) {
    const entries = desc.entries.map((e) => (e.binding === 0 ? { ...e, resource: { ...e.resource, offset: 4 } } : e));
    return original.call(this, { ...desc, entries });
  };
  let e = null;
  try {
    await prepareWebGpu(convPlan({ C: 1, H: 5, W: 5, B: 2, F: 16, k: 3 }), [new Param('W', f32(uniform([1, 3, 3, 16], 8)))], { device });
  } catch (err) {
    e = err;
  } finally {
    device.createBindGroup = original;
  }
  assert.ok(e instanceof RuntimeError && /prepare failed/.test(e.message), String(e));
});

it('a plan whose tensors do not fit its arena is refused with ValueError', async () => {
  const plan = convPlan({ C: 1, H: 5, W: 5, B: 2, F: 16, k: 3 });
  const short = { ...plan, arenaBytes: plan.arenaBytes - 256 };
  const e = await prepareWebGpu(short, [new Param('W', f32(uniform([1, 3, 3, 16], 9)))], { device }).then(() => null, (err) => err);
  assert.ok(e instanceof ValueError && /arena/.test(e.message), String(e));
});

it('more than 65535 workgroups are dispatched over two dimensions (a 4096 x 4096 copy through max_pool P = 1: 65536 workgroups of 256)', async () => {
  const H = 4096;
  const x = new Float32Array(H * H).map((_, i) => i);
  const step = { op: 'max_pool', index: 0, layer: 'big', input: 0, output: 1, channels: 1, rows: H, cols: H, batch: 1, poolSize: 1, stride: 1, outRows: H, outCols: H };
  const plan = stepPlan([[1, H, H, 1], [1, H, H, 1]], [step], [0], [1]);
  assert.ok(launchOf(plan, step, LIMITS).workgroups[1] > 1);
  const net = await prepareWebGpu(plan, [], { device });
  const [out] = await net.run([x]);
  net.dispose();
  assert.ok(out.every((v, i) => v === x[i]));
});

test.run();
