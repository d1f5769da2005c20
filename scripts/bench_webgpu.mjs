// Benchmark (not a test): the set of ../shared/reference/performance.md (L1-L5, C1-C3, A1 conv, P1
// max-pool, N1 NIN; batch 128) on this package's WebGPU kernels and on tfjs-webgpu 4.22
// (@tensorflow/tfjs-core + @tensorflow/tfjs-backend-webgpu), side by side in one process on the same
// GPU, with the same random inputs.
//
//   kernel ms  GPU time of the op from timestamp queries (Dawn's quantization off), in steady state:
//              the op repeated back to back (about 300 ms of work, so that the GPU's clocks have
//              ramped up; with a readback between calls they have not). Ours: the step's compute pass
//              in the last of `repeat` runs (WebGpuPreparedNetwork.timeSteps), median of 3; tfjs: the
//              sum of its programs per op inside tf.time(), median over the second half of the ops
//   b2b ms     ours back to back: `repeat` runs in ONE compute pass between two timestamps, per run
//              (WebGpuPreparedNetwork.timeBackToBack): timed the way bench_cudnn.py times cuDNN (CUDA
//              events around many calls), so the cuDNN ratios and P1's share of the copy bandwidth
//              (cuDNN's copy_ or our copy kernel, both back to back) use it; kernel ms also counts
//              a pass's start and drain per step, as tf.time does for tfjs
//   wall ms    one call as a user makes it: upload the input, run, read the output back to a
//              Float32Array (ours: PreparedNetwork.run(); tfjs: tensor4d + op + data()); median
//   ratio      tfjs / ours (above 1: we are faster)
//
// Ours runs the kernel step alone on c01b data, conv with tied bias and rectify fused (Conv2DCCLayer's
// defaults); tfjs runs tf.fused.conv2d (NHWC, bias, relu), tf.maxPool and a 1x1 fused conv2d for N1.
// Also printed: the device's copy bandwidth (P1's yardstick), by copyBufferToBuffer and by a copy kernel.
//
//   node scripts/bench_webgpu.mjs [--batch 128] [--reps 10] [--warmup 2] [--only L1,P1] [--no-tfjs] [--json]
//   node scripts/bench_webgpu.mjs --smoke     # C1-C3, P1, N1 at batch 4, one repetition, --check:
//                                             # a quick run on SwiftShader (add --only L1,... for more)
//   --check: also compare our output with tfjs's (largest |difference|, printed per row)
//   --sweep FILE: a JSON object { "L1": [{ "rf": 2, "rn": 2, "wgF": 12, "wgN": 16 }, ...], ... } of
//              filter_acts tiles (src/backend/webgpu/geometry.ts GemmTile fields, also
//              { "winograd": true | false | 2 | 4 }: Winograd off, on in the rule's variant, or on
//              as F(2x2, 3x3) / F(4x4, 3x3)) to time per row besides the chosen one: kernel time
//              only, printed as a table per row (tuning), each with the kernel family it ran
//              ("winograd F(4x4)" for Winograd, with its variant); for N1 the fields are nin's
//              (geometry.ts NinTile: wgU, ru, wgN, kChunk), and a conv entry's field "nin" is the
//              Winograd GEMM's NinTile, e.g. { "winograd": 4, "nin": { "wgN": 16, "ru": 2 } }
//   --winograd: time every conv row also with Winograd forced off and on in each variant (the sweep
//              entries { "winograd": false }, { "winograd": 2 } and { "winograd": 4 }; a row Winograd
//              cannot take runs direct each time, which the printed family shows). W1 (128 x 28 x 28,
//              128 filters, 3x3, pad 1), a 3x3 layer outside the reference set, runs only when
//              --only names it
//   --cudnn FILE: the output of `python3 scripts/bench_cudnn.py --json` on the same machine: adds
//              the goals table of the GPU performance issues (tfjs / ours >= 2 for every conv, >= 1.5
//              for N1; cuDNN / ours with cuDNN doing the same work (the fastest of conv + bias + ReLU
//              unfused and cuDNN's fused conv + bias + ReLU, timed back to back), its geometric mean
//              over L1-L5 >= 0.9; P1 >= 85% of the copy bandwidth, the larger of cuDNN's machine copy_
//              and our copy kernel). cuDNN's conv alone is printed beside it (not the same work).
//   --dawn-flag F: an extra Dawn instance flag for our device only (experiments, e.g.
//              enable-dawn-features=disable_robustness to see what bounds clamping costs)
//
// On a machine without a GPU it uses SwiftShader (VK_ICD_FILENAMES) like the tests. On the H100:
// ../shared/gpu/prepare @tensorflow/tfjs-core @tensorflow/tfjs-backend-webgpu, then
// `source .gpu/boot.sh && node scripts/bench_webgpu.mjs` with dist/ carried along.
import { existsSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { ourDevice } from './bench_common.mjs';

const { values: opts } = parseArgs({
  options: {
    batch: { type: 'string' },
    reps: { type: 'string' },
    warmup: { type: 'string' },
    only: { type: 'string' },
    'no-tfjs': { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    sweep: { type: 'string' },
    'dawn-flag': { type: 'string', multiple: true },
    cudnn: { type: 'string' },
    winograd: { type: 'boolean', default: false },
  },
});
const batch = Number(opts.batch ?? (opts.smoke ? 4 : 128));
const reps = Number(opts.reps ?? (opts.smoke ? 1 : 10));
const warmup = Number(opts.warmup ?? (opts.smoke ? 1 : 2));
// the smoke run skips the large layers (minutes on SwiftShader) unless --only names them
const only = opts.only ? new Set(opts.only.split(',')) : opts.smoke ? new Set(['C1', 'C2', 'C3', 'P1', 'N1']) : null;
const check = opts.check || opts.smoke;

// SwiftShader when there is no NVIDIA device and nothing chose a Vulkan driver already
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD) && !existsSync('/dev/nvidia0')) process.env.VK_ICD_FILENAMES = ICD;
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = '/tmp/lasagne-webgpu-xdg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true });
}

const BENCHMARKS = [
  { id: 'L1', op: 'conv', C: 3, H: 128, W: 128, F: 96, k: 11, s: 1, pad: 0 },
  { id: 'L2', op: 'conv', C: 64, H: 64, W: 64, F: 128, k: 9, s: 1, pad: 0 },
  { id: 'L3', op: 'conv', C: 128, H: 32, W: 32, F: 128, k: 9, s: 1, pad: 0 },
  { id: 'L4', op: 'conv', C: 128, H: 16, W: 16, F: 128, k: 7, s: 1, pad: 0 },
  { id: 'L5', op: 'conv', C: 384, H: 13, W: 13, F: 384, k: 3, s: 1, pad: 0 },
  { id: 'C1', op: 'conv', C: 3, H: 32, W: 32, F: 32, k: 5, s: 1, pad: 2 },
  { id: 'C2', op: 'conv', C: 32, H: 16, W: 16, F: 32, k: 5, s: 1, pad: 2 },
  { id: 'C3', op: 'conv', C: 32, H: 8, W: 8, F: 64, k: 5, s: 1, pad: 2 },
  { id: 'A1', op: 'conv', C: 3, H: 224, W: 224, F: 96, k: 11, s: 4, pad: 0 },
  { id: 'P1', op: 'pool', C: 96, H: 55, W: 55, P: 3, s: 2 },
  { id: 'N1', op: 'nin', C: 192, H: 32, W: 32, U: 160 },
  // N1 as a 1x1 conv through filter_acts (not in the reference set: only when --only names it)
  { id: 'N1K', op: 'conv', C: 192, H: 32, W: 32, F: 160, k: 1, s: 1, pad: 0, extra: true },
  // a 3x3 layer with padding for the Winograd path (not in the reference set: only when --only names it)
  { id: 'W1', op: 'conv', C: 128, H: 28, W: 28, F: 128, k: 3, s: 1, pad: 1, extra: true },
].filter((b) => (only === null ? !b.extra : only.has(b.id)));
const sweep = opts.sweep ? JSON.parse((await import('node:fs')).readFileSync(opts.sweep, 'utf8')) : {};

const root = new URL('../', import.meta.url);
const { prepareWebGpu, stepPlan, launchOf } = await import(new URL('dist/backend/webgpu/index.js', root));
const { winogradFor } = await import(new URL('dist/backend/webgpu/geometry.js', root));
const { Param } = await import(new URL('dist/layers/base.js', root));

const webgpu = await import('webgpu');
// Ours: the device the backend makes in Node (its Dawn toggles; bench_common.mjs ourDevice). tfjs: its
// own instance, only timestamp quantization off, and its own device, as it makes one. (Dawn's GPU
// objects must stay referenced while their devices are used: a collected one crashes the process, so
// tfjs's lives in `gpus` until the end, ours in bench_common's list.)
const ourGpu = await ourDevice('bench (lasagne-webgpu)', opts['dawn-flag'] ?? []);
if (!ourGpu) {
  console.log('bench_webgpu: no WebGPU adapter here');
  process.exit(1);
}
const { device, name: adapterName } = ourGpu;
const gpus = [];

let tf = null;
if (!opts['no-tfjs']) {
  const tfGpu = webgpu.create(['disable-dawn-features=timestamp_quantization']);
  gpus.push(tfGpu);
  if (globalThis.navigator === undefined) globalThis.navigator = { gpu: tfGpu };
  else Object.defineProperty(globalThis.navigator, 'gpu', { value: tfGpu, configurable: true });
  try {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
    await tf.ready();
  } catch (e) {
    console.log(`tfjs-webgpu unavailable (${e.message.split('\n')[0]}); measuring ours only`);
    tf = null;
  }
}

/** Deterministic pseudo-random floats in [lo, hi) (an LCG; the values do not matter, only that both sides get them). */
function randomData(n, seed, lo = -1, hi = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/** data in (d0, d1, d2, d3) C order -> transposed by perm, e.g. c01b (C,H,W,B) -> NHWC (B,H,W,C) with [3,1,2,0]. */
function permute(data, shape, perm) {
  const outShape = perm.map((p) => shape[p]);
  const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const out = new Float32Array(data.length);
  let o = 0;
  for (let a = 0; a < outShape[0]; a++)
    for (let b = 0; b < outShape[1]; b++)
      for (let c = 0; c < outShape[2]; c++)
        for (let d = 0; d < outShape[3]; d++)
          out[o++] = data[a * strides[perm[0]] + b * strides[perm[1]] + c * strides[perm[2]] + d * strides[perm[3]]];
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const outLen = (I, k, s, p) => Math.ceil((I + 2 * p - k + 1) / s);
const poolLen = (I, P, s) => Math.max(0, Math.floor((I - P + s - 1) / s)) + 1;

/** The kernel step, its plan and params, and the work it does (flops or bytes) for one benchmark. */
function ours(b) {
  const B = batch;
  if (b.op === 'conv') {
    const OH = outLen(b.H, b.k, b.s, b.pad);
    const OW = outLen(b.W, b.k, b.s, b.pad);
    const step = {
      op: 'filter_acts', index: 0, layer: b.id, input: 0, output: 1, weight: 0, weightLayout: 'ckkf', flipFilters: false,
      bias: 1, biasMode: 'tied', nonlinearity: { kind: 'rectify', params: [] },
      channels: b.C, rows: b.H, cols: b.W, batch: B, filters: b.F, filterSize: b.k, stride: b.s, pad: b.pad, outRows: OH, outCols: OW,
    };
    const w = randomData(b.C * b.k * b.k * b.F, 2, -0.1, 0.1);
    const bias = randomData(b.F, 3, -0.1, 0.1);
    return {
      plan: stepPlan([[b.C, b.H, b.W, B], [b.F, OH, OW, B]], [step], [0], [1]),
      params: [new Param('W', { data: w, shape: [b.C, b.k, b.k, b.F] }), new Param('b', { data: bias, shape: [b.F] })],
      input: [b.C, b.H, b.W, B],
      w, bias,
      flops: 2 * b.F * OH * OW * B * b.C * b.k * b.k,
    };
  }
  if (b.op === 'pool') {
    const OH = poolLen(b.H, b.P, b.s);
    const OW = poolLen(b.W, b.P, b.s);
    const step = { op: 'max_pool', index: 0, layer: b.id, input: 0, output: 1, channels: b.C, rows: b.H, cols: b.W, batch: B, poolSize: b.P, stride: b.s, outRows: OH, outCols: OW };
    return { plan: stepPlan([[b.C, b.H, b.W, B], [b.C, OH, OW, B]], [step], [0], [1]), params: [], input: [b.C, b.H, b.W, B], bytes: 4 * b.C * B * (b.H * b.W + OH * OW) };
  }
  const step = {
    op: 'nin', index: 0, layer: b.id, input: 0, output: 1, weight: 0, bias: 1, biasMode: 'tied', nonlinearity: { kind: 'rectify', params: [] },
    channels: b.C, units: b.U, positions: b.H * b.W, batch: B,
  };
  const w = randomData(b.U * b.C, 4, -0.1, 0.1);
  const bias = randomData(b.U, 5, -0.1, 0.1);
  return {
    plan: stepPlan([[b.C, b.H, b.W, B], [b.U, b.H, b.W, B]], [step], [0], [1]),
    params: [new Param('W', { data: w, shape: [b.U, b.C] }), new Param('b', { data: bias, shape: [b.U] })],
    input: [b.C, b.H, b.W, B],
    w, bias,
    flops: 2 * b.U * b.C * b.H * b.W * B,
  };
}

/**
 * Repetitions for the steady-state kernel time: enough back-to-back work (about 300 ms on a GPU) for
 * the clocks to ramp up, which the calls with readback in between (mostly idle GPU) do not give.
 */
function repeatsFor(ms) {
  const target = opts.smoke ? 10 : 300;
  return Math.max(opts.smoke ? 1 : 10, Math.min(1000, Math.ceil(target / Math.max(ms, 1e-3))));
}

/** The kernel family the prepared network's step runs (filter_acts, winograd F(2x2) / F(4x4), nin, max_pool). */
function familyOf(net, tile) {
  const l = device.limits;
  const limits = {
    tile, minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
  const step = net.plan.steps[0];
  const family = launchOf(net.plan, step, limits).family;
  if (family !== 'winograd') return family;
  const m = winogradFor(step, limits).m;
  return `winograd F(${m}x${m})`;
}

async function measureOurs(b, o, x, tile = undefined, calls = reps) {
  const net = await prepareWebGpu(o.plan, o.params, b.op === 'nin' ? { device, ninTile: tile } : { device, tile, ninTile: tile?.nin });
  try {
    const family = familyOf(net, tile);
    // (a sweep tile, timed only, still runs once: the kernel repeat count comes from its profile)
    for (let i = 0; i < (calls === 0 ? 1 : warmup); i++) await net.run([x]);
    const wall = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await net.run([x]);
      wall.push(performance.now() - t0);
    }
    // kernel: the step's time in the last of `repeat` back-to-back runs, median of 3
    const first = net.profile();
    const repeat = repeatsFor(first === null ? 1 : first[0].ms);
    const kernel = [];
    for (let i = 0; i < 3 && first !== null; i++) kernel.push((await net.timeSteps(repeat))[0].ms);
    // back to back: `repeat` runs in one pass, per run (how cuDNN and the copy yardstick are timed)
    const b2b = [];
    for (let i = 0; i < 3 && first !== null && calls > 0; i++) b2b.push(await net.timeBackToBack(repeat));
    const out = check ? (await net.run([x]))[0] : null;
    return { kernel: kernel.length ? median(kernel) : NaN, b2b: b2b.length ? median(b2b) : NaN, wall: median(wall), repeat, out, outShape: o.plan.tensors[1].shape, family };
  } finally {
    net.dispose();
  }
}

async function measureTfjs(b, o, x, repeat) {
  const B = batch;
  const xNhwc = permute(x, o.input, [3, 1, 2, 0]); // c01b (C,H,W,B) -> NHWC (B,H,W,C)
  let weights = [];
  let op;
  if (b.op === 'conv') {
    // (C,k,k,F) -> tfjs HWIO (k,k,C,F)
    const filter = tf.tensor4d(permute(o.w, [b.C, b.k, b.k, b.F], [1, 2, 0, 3]), [b.k, b.k, b.C, b.F]);
    const bias = tf.tensor1d(o.bias);
    weights = [filter, bias];
    const pad = b.pad === 0 ? 'valid' : [[0, 0], [b.pad, b.pad], [b.pad, b.pad], [0, 0]];
    op = (t) => tf.fused.conv2d({ x: t, filter, strides: b.s, pad, bias, activation: 'relu' });
  } else if (b.op === 'pool') {
    op = (t) => tf.maxPool(t, b.P, b.s, 'valid');
  } else {
    // W (U, C) -> 1x1 HWIO (1,1,C,U)
    const wT = new Float32Array(b.C * b.U);
    for (let u = 0; u < b.U; u++) for (let c = 0; c < b.C; c++) wT[c * b.U + u] = o.w[u * b.C + c];
    const filter = tf.tensor4d(wT, [1, 1, b.C, b.U]);
    const bias = tf.tensor1d(o.bias);
    weights = [filter, bias];
    op = (t) => tf.fused.conv2d({ x: t, filter, strides: 1, pad: 'valid', bias, activation: 'relu' });
  }
  const shape = [B, b.H, b.W, b.C];
  const call = async () => {
    const t = tf.tensor4d(xNhwc, shape);
    const y = op(t);
    await y.data();
    t.dispose();
    y.dispose();
  };
  try {
    for (let i = 0; i < warmup; i++) await call();
    const wall = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await call();
      wall.push(performance.now() - t0);
    }
    // kernel: `repeat` ops back to back inside tf.time (it submits each timed program, with no
    // readback in between); the per-op sum of its programs' times, median over the repetitions
    const resident = tf.tensor4d(xNhwc, shape);
    const perOp = [];
    for (let i = 0; i < 3; i++) {
      let programs = 0;
      const t = await tf.time(() => {
        for (let r = 0; r < repeat; r++) {
          const y = op(resident);
          y.dispose();
        }
      });
      const times = t.getExtraProfileInfo().split(', ').map((e) => Number(e.slice(e.lastIndexOf(': ') + 2)));
      programs = times.length / repeat;
      for (let r = Math.floor(repeat / 2); r < repeat; r++) perOp.push(times.slice(r * programs, (r + 1) * programs).reduce((a, v) => a + v, 0));
    }
    const kernel = [median(perOp)];
    const out = check ? await op(resident).data() : null;
    resident.dispose();
    return { kernel: median(kernel), wall: median(wall), out };
  } finally {
    for (const w of weights) w.dispose();
  }
}

/** copyBufferToBuffer bandwidth (read + write bytes per second), timed by the wall clock over many copies. */
async function copyBandwidth() {
  const size = Math.min(256 * 2 ** 20, Math.floor(device.limits.maxBufferSize / 4) * 4, batch >= 32 ? Infinity : 32 * 2 ** 20);
  const src = device.createBuffer({ label: 'bench copy src', size, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const dst = device.createBuffer({ label: 'bench copy dst', size, usage: GPUBufferUsage.COPY_DST });
  const copies = batch >= 32 ? 20 : 4;
  const once = async () => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < copies; i++) enc.copyBufferToBuffer(src, 0, dst, 0, size);
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await once();
  const ms = median([await once(), await once(), await once()]);
  src.destroy();
  dst.destroy();
  return (2 * size * copies) / (ms / 1e3) / 1e9;
}

/** Bandwidth of a compute copy: max_pool with P = s = 1 over 64 MiB (vec4 loads and stores), steady state. */
async function kernelCopyBandwidth() {
  const [C, H, W, B] = [16, opts.smoke ? 64 : 1024, 1024, 4];
  const step = { op: 'max_pool', index: 0, layer: 'copy', input: 0, output: 1, channels: C, rows: H, cols: W, batch: B, poolSize: 1, stride: 1, outRows: H, outCols: W };
  const net = await prepareWebGpu(stepPlan([[C, H, W, B], [C, H, W, B]], [step], [0], [1]), [], { device });
  try {
    await net.run([new Float32Array(C * H * W * B)]);
    // back to back, like cuDNN's copy_ and P1's share of it
    const ms = await net.timeBackToBack(opts.smoke ? 2 : 200);
    return ms === null ? NaN : (2 * 4 * C * H * W * B) / (ms / 1e3) / 1e9;
  } finally {
    net.dispose();
  }
}

const fmt = (v, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const rate = (r, ms) => (r.flops ? `${fmt(r.flops / (ms / 1e3) / 1e12, 1)} TFLOPS` : `${fmt(r.bytes / (ms / 1e3) / 1e9, 0)} GB/s`);
const rows = [];
console.log(`bench_webgpu: ${adapterName}; batch ${batch}, ${warmup} warm-up + ${reps} timed calls each; tfjs ${tf ? tf.version_core : 'off'}`);
const copyGBs = await copyBandwidth();
const kernelCopyGBs = await kernelCopyBandwidth();
console.log(`device copy bandwidth, read + write: copyBufferToBuffer ${copyGBs.toFixed(0)} GB/s; a copy kernel (max_pool P = 1, vec4) ${kernelCopyGBs.toFixed(0)} GB/s`);
for (const b of BENCHMARKS) {
  const o = ours(b);
  const x = randomData(o.input.reduce((n, d) => n * d, 1), 1, 0, 1);
  const mine = await measureOurs(b, o, x);
  const row = { id: b.id, ours: mine, tfjs: tf ? await measureTfjs(b, o, x, mine.repeat) : null, flops: o.flops, bytes: o.bytes };
  const extraTiles = opts.winograd && b.op === 'conv' ? [{ winograd: false }, { winograd: 2 }, { winograd: 4 }] : [];
  for (const tile of [...(sweep[b.id] ?? []), ...extraTiles]) {
    let r;
    try {
      const m = await measureOurs(b, o, x, tile, 0);
      r = `${m.kernel.toFixed(4)} ms ${rate(row, m.kernel)} (${m.family})`;
      if (m.out && mine.out) {
        let d = 0;
        for (let i = 0; i < m.out.length; i++) d = Math.max(d, Math.abs(m.out[i] - mine.out[i]));
        r += `, max |this - chosen| = ${d.toExponential(2)}`;
      }
    } catch (e) {
      r = `failed: ${e.message.split('\n')[0]}`;
    }
    console.log(`  ${b.id} tile ${JSON.stringify(tile)}: ${r}`);
  }
  let diff = '';
  if (check && row.tfjs) {
    // ours c01b (F, OH, OW, B) -> NHWC (B, OH, OW, F) as tfjs returns it
    const mine = permute(row.ours.out, row.ours.outShape, [3, 1, 2, 0]);
    let m = 0;
    for (let i = 0; i < mine.length; i++) m = Math.max(m, Math.abs(mine[i] - row.tfjs.out[i]));
    diff = `, max |ours - tfjs| = ${m.toExponential(2)}`;
    row.maxDiff = m;
  }
  delete row.ours.out;
  if (row.tfjs) delete row.tfjs.out;
  rows.push(row);
  process.stdout.write(`  ${b.id} done (${row.ours.family})${diff}\n`);
}

const header = ['id', 'ours kernel ms', 'ours rate', 'ours b2b ms', 'tfjs kernel ms', 'tfjs rate', 'kernel tfjs/ours', 'ours wall ms', 'tfjs wall ms', 'wall tfjs/ours'];
const table = rows.map((r) => [
  r.id,
  fmt(r.ours.kernel),
  rate(r, r.ours.kernel),
  fmt(r.ours.b2b),
  r.tfjs ? fmt(r.tfjs.kernel) : '-',
  r.tfjs ? rate(r, r.tfjs.kernel) : '-',
  r.tfjs ? fmt(r.tfjs.kernel / r.ours.kernel, 2) : '-',
  fmt(r.ours.wall, 2),
  r.tfjs ? fmt(r.tfjs.wall, 2) : '-',
  r.tfjs ? fmt(r.tfjs.wall / r.ours.wall, 2) : '-',
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
console.log();
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const t of table) console.log(line(t));
if (opts.cudnn) {
  const text = (await import('node:fs')).readFileSync(opts.cudnn, 'utf8');
  const jsonLine = text.split('\n').find((l) => l.startsWith('JSON '));
  if (!jsonLine) throw new Error(`--cudnn ${opts.cudnn}: no 'JSON ' line (run bench_cudnn.py --json)`);
  const cudnn = JSON.parse(jsonLine.slice(5));
  const device = text.split('\n').find((l) => l.startsWith('device: '));
  const yardstick = Math.max(kernelCopyGBs, cudnn.copy?.gbs ?? 0);
  const goals = [];
  const logs = [];
  for (const r of rows) {
    const c = cudnn[r.id];
    const ratio = r.tfjs ? r.tfjs.kernel / r.ours.kernel : NaN;
    let goal;
    let met;
    if (r.id === 'P1') {
      const share = r.bytes / (r.ours.b2b / 1e3) / 1e9 / yardstick;
      goal = `>= 85% of copy (${yardstick.toFixed(0)} GB/s): ${(100 * share).toFixed(0)}%`;
      met = share >= 0.85;
    } else {
      const want = r.id === 'N1' ? 1.5 : 2;
      goal = `tfjs/ours >= ${want}`;
      met = ratio >= want;
    }
    // c.ms: the fastest cuDNN path doing our work (bench_cudnn.py); c.conv_ms: its conv alone
    const cr = c ? c.ms / r.ours.b2b : NaN;
    if (/^L[1-5]$/.test(r.id) && Number.isFinite(cr)) logs.push(Math.log(cr));
    const how = c && c.best ? `${c.best}${c.layout && c.layout !== 'nchw' ? ` ${c.layout}` : ''}` : '-';
    goals.push([r.id, fmt(r.ours.kernel), fmt(r.ours.b2b), r.tfjs ? fmt(r.tfjs.kernel) : '-', fmt(ratio, 2), c && c.conv_ms ? fmt(c.conv_ms) : '-', c ? fmt(c.ms) : '-', how, fmt(cr, 2), goal, met ? 'yes' : 'no']);
  }
  const gh = ['id', 'ours ms', 'ours b2b ms', 'tfjs ms', 'tfjs/ours', 'cuDNN conv ms', 'cuDNN same work ms', 'cuDNN path', 'cuDNN/ours', 'goal', 'met'];
  const gw = gh.map((h, i) => Math.max(h.length, ...goals.map((g) => g[i].length)));
  const gl = (cells) => `| ${cells.map((c, i) => c.padStart(gw[i])).join(' | ')} |`;
  console.log();
  console.log(`goals (kernel time: tfjs/ours per dispatch, as tf.time times tfjs; cuDNN ${device ? device.slice(8) : ''} timed back to back, so cuDNN/ours and P1's share of the copy bandwidth use ours back to back (b2b); cuDNN/ours uses cuDNN's same-work time):`);
  console.log(gl(gh));
  console.log(`|${gw.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const g of goals) console.log(gl(g));
  if (logs.length === 5) {
    const gm = Math.exp(logs.reduce((a, v) => a + v, 0) / logs.length);
    console.log(`geometric mean of cuDNN (same work) / ours over L1-L5: ${gm.toFixed(2)} (goal >= 0.90: ${gm >= 0.9 ? 'met' : 'not met'})`);
  }
  if (Object.values(cudnn).some((c) => c && c.fused)) console.log(`cuDNN fused conv + bias + ReLU not timed: ${[...new Set(Object.values(cudnn).map((c) => c && c.fused).filter(Boolean))].join('; ')}`);
}
if (opts.json) console.log(JSON.stringify({ adapter: adapterName, batch, reps, copyGBs, kernelCopyGBs, rows }));
device.destroy();
gpus.length = 0;
process.exit(0);
