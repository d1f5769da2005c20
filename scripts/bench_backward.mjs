// Benchmark (not a test): the backward (training) rows of ../shared/reference/performance.md (issue
// 10): for L1-L5, C1-C3 (conv) and N1 (NIN 192 -> 160, 32 x 32) at batch 128,
//   dX   the input gradient: ours img_acts (N1: nin_grad_input), tfjs-webgpu tf.conv2DBackpropInput,
//        cuDNN's convolution backward for the input
//   dW   the weight gradient: ours weight_acts with partialSum 1 (Lasagne's default), a middle
//        divisor of the module count (the divisor nearest its square root: one row of modules) and 0
//        (one group), each with its scratch bytes (the plan's partial sums; WebGPU may slice K
//        further); N1: nin_grad_weight. tfjs tf.conv2DBackpropFilter; cuDNN's backward for the weight.
// Ours, tfjs and the tfjs check in one process on the same GPU with the same data; cuDNN through
// PyTorch (scripts/bench_backward_cudnn.py, run first with spawnSync, or its saved output via --cudnn).
//
//   ours   GPU time from timestamp queries of our WGSL backward kernels launched as the backend
//          launches them (src/backend/webgpu/backward.ts backwardLaunches: every pass of the step,
//          e.g. weight_acts and its reduction), on one arena with the operands at 256-byte offsets:
//          the step repeated back to back (about 300 ms of work, so the clocks ramp up), the time of
//          the last repetition's compute pass, median of 3 submissions
//   tfjs   the op repeated back to back inside tf.time, the sum of its programs per op (median over
//          the second half), NHWC
//   cuDNN  back to back / CUDA graph replay, TF32 off, NCHW (bench_backward_cudnn.py)
//   ratio  peer ms / ours ms (above 1: we are faster). Goals (issue 10): every dW row >= 10x tfjs,
//          every dX row >= 2x tfjs.
// A row whose partial sums do not fit in one storage binding (maxStorageBufferBindingSize) is
// skipped with its scratch size: partialSum 1 on L1-L3 asks for 1.9-8.3 GB of partial sums.
//
//   node scripts/bench_backward.mjs [--batch 128] [--only L1,N1] [--no-tfjs] [--no-cudnn]
//        [--cudnn FILE] [--check] [--json] [--smoke]
//   --cudnn FILE  the saved output of `python3 scripts/bench_backward_cudnn.py --json` (else it is run
//                 here when a python3 with torch exists; --no-cudnn skips it)
//   --check       also compare our dX and dW (every partialSum) with tfjs's: max |diff| / max |tfjs|
//   --peak-tflops T  the fp32 peak for the 'floor' column, the time a direct convolution needs at
//                 that rate (default 67, the H100 / H200 without tensor cores)
//   --smoke       batch 4, C1, C3 and N1, one timed call, --check: a run on SwiftShader / CPU torch
//                 (about 3 minutes on this 2-core machine)
// On the H200 (../shared/gpu/prepare @tensorflow/tfjs-core @tensorflow/tfjs-backend-webgpu; carry
// .gpu and dist): `source .gpu/boot.sh && node scripts/bench_backward.mjs`, about 1.5 minutes
// (tfjs's naive dW is most of it: 670 ms per call on L1).
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  fmt, finish, loadTfjs, median, ourDevice, parsePythonOutput, permute, printTable, randomData, relDiff, repeatsFor, runPython, tfjsKernelMs,
} from './bench_common.mjs';

const { values: opts } = parseArgs({
  options: {
    batch: { type: 'string' },
    only: { type: 'string' },
    'no-tfjs': { type: 'boolean', default: false },
    'no-cudnn': { type: 'boolean', default: false },
    cudnn: { type: 'string' },
    check: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    'peak-tflops': { type: 'string' },
  },
});
// the fp32 peak without tensor cores (H100 / H200 SXM: about 67 TFLOPS): the floor of a direct convolution
const PEAK = Number(opts['peak-tflops'] ?? 67);
const batch = Number(opts.batch ?? (opts.smoke ? 4 : 128));
const check = opts.check || opts.smoke;

const ROWS = [
  { id: 'L1', C: 3, H: 128, W: 128, F: 96, k: 11, s: 1, pad: 0 },
  { id: 'L2', C: 64, H: 64, W: 64, F: 128, k: 9, s: 1, pad: 0 },
  { id: 'L3', C: 128, H: 32, W: 32, F: 128, k: 9, s: 1, pad: 0 },
  { id: 'L4', C: 128, H: 16, W: 16, F: 128, k: 7, s: 1, pad: 0 },
  { id: 'L5', C: 384, H: 13, W: 13, F: 384, k: 3, s: 1, pad: 0 },
  { id: 'C1', C: 3, H: 32, W: 32, F: 32, k: 5, s: 1, pad: 2 },
  { id: 'C2', C: 32, H: 16, W: 16, F: 32, k: 5, s: 1, pad: 2 },
  { id: 'C3', C: 32, H: 8, W: 8, F: 64, k: 5, s: 1, pad: 2 },
  { id: 'N1', nin: true, C: 192, H: 32, W: 32, F: 160, k: 1, s: 1, pad: 0 },
];
const only = opts.only ? opts.only.split(',') : opts.smoke ? ['C1', 'C3', 'N1'] : null;
if (only) {
  const unknown = only.filter((id) => !ROWS.some((r) => r.id === id));
  if (unknown.length) {
    console.error(`bench_backward: --only names unknown rows ${unknown.join(',')}; known: ${ROWS.map((r) => r.id).join(',')}`);
    process.exit(2);
  }
}
const rowsToRun = ROWS.filter((r) => only === null || only.includes(r.id));

const root = new URL('../', import.meta.url);
const { backwardLaunches, backwardSource, weightActsSplit, ninGradWeightSplit } = await import(new URL('dist/backend/webgpu/backward.js', root));
const { weightActsStep, ccGridLength } = await import(new URL('dist/ops/backward.js', root));

// ---------------------------------------------------------------- cuDNN first (the GPU to itself)
let cudnn = null;
let cudnnNote = '';
if (opts.cudnn) {
  const r = parsePythonOutput(readFileSync(opts.cudnn, 'utf8'));
  if (r.why) throw new Error(`--cudnn ${opts.cudnn}: ${r.why} (save the output of bench_backward_cudnn.py --json)`);
  cudnn = r;
} else if (!opts['no-cudnn']) {
  const args = ['--batch', String(batch), '--only', rowsToRun.map((r) => r.id).join(','), ...(opts.smoke ? ['--smoke'] : [])];
  const r = runPython('scripts/bench_backward_cudnn.py', args);
  if (r.why) cudnnNote = `cuDNN skipped: ${r.why}`;
  else cudnn = r;
} else cudnnNote = 'cuDNN skipped (--no-cudnn)';
if (cudnnNote) console.log(cudnnNote);

// ---------------------------------------------------------------- our device and tfjs
const ours = await ourDevice('bench backward (lasagne-webgpu)');
if (ours === null) {
  console.log('bench_backward: no WebGPU adapter here');
  finish(1);
}
const { device } = ours;
let tf = null;
let tfNote = '';
if (!opts['no-tfjs']) {
  const t = await loadTfjs();
  tf = t.tf;
  if (!tf) tfNote = `tfjs-webgpu unavailable (${t.why}); ours only`;
} else tfNote = 'tfjs skipped (--no-tfjs)';
if (tfNote) console.log(tfNote);
console.log(`bench_backward: ${ours.name}; batch ${batch}; ${ours.timestamps ? 'timestamp queries' : 'NO timestamp queries: wall clock of a submission'}; tfjs ${tf ? tf.version_core : 'off'}; cuDNN ${cudnn ? cudnn.device : 'off'}`);

const BUF = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80, QUERY_RESOLVE: 0x200 };
const ceil64 = (n) => Math.ceil(Math.max(n, 1) / 64) * 64;
const maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
const layout = device.createBindGroupLayout({
  entries: [
    { binding: 0, visibility: 4, buffer: { type: 'storage' } },
    { binding: 1, visibility: 4, buffer: { type: 'read-only-storage' } },
    { binding: 2, visibility: 4, buffer: { type: 'uniform' } },
  ],
});
const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
const modules = new Map();
const pipelines = new Map();

async function pipelineOf(l) {
  const key = `${l.file}.${l.entry}(${JSON.stringify(l.constants)})`;
  if (!pipelines.has(key)) {
    if (!modules.has(l.file)) modules.set(l.file, device.createShaderModule({ label: `bench ${l.file}`, code: backwardSource(l.file) }));
    pipelines.set(key, device.createComputePipelineAsync({ label: `bench ${key}`, layout: pipelineLayout, compute: { module: modules.get(l.file), entryPoint: l.entry, constants: l.constants } }));
  }
  return pipelines.get(key);
}

/**
 * One backward step on its own arena: `tensors` { name: Float32Array | element count } laid out at
 * 256-byte offsets; `make(offsetOf)` returns the step (tensor fields = names resolved by offsetOf).
 * Returns { ms, out } where out is the `read` tensor after one run (with --check), or { skipped }.
 */
async function timeStep(tensors, weights, stepOf, read) {
  const offsets = {};
  let length = 0;
  for (const [name, t] of Object.entries(tensors)) {
    offsets[name] = length;
    length += ceil64(typeof t === 'number' ? t : t.length);
  }
  const ids = Object.keys(offsets);
  const step = stepOf(Object.fromEntries(ids.map((n, i) => [n, i])));
  const bytes = 4 * length;
  if (bytes > maxBinding) return { skipped: `arena ${(bytes / 1e9).toFixed(2)} GB > the ${(maxBinding / 1e9).toFixed(2)} GB binding limit` };
  const launches = backwardLaunches(step, { tensor: (id) => offsets[ids[id]], weight: () => 0 }, device.limits.maxComputeWorkgroupsPerDimension);
  const made = [];
  const buffer = (size, usage) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    made.push(b);
    return b;
  };
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  try {
    const arena = buffer(bytes, BUF.STORAGE | BUF.COPY_DST | BUF.COPY_SRC);
    for (const [name, t] of Object.entries(tensors)) if (typeof t !== 'number') device.queue.writeBuffer(arena, 4 * offsets[name], t);
    const wbuf = buffer(4 * Math.max(4, weights ? weights.length : 4), BUF.STORAGE | BUF.COPY_DST);
    if (weights) device.queue.writeBuffer(wbuf, 0, weights);
    const passes = [];
    for (const l of launches) {
      const u = buffer(l.params.byteLength, BUF.UNIFORM | BUF.COPY_DST);
      device.queue.writeBuffer(u, 0, l.params);
      const bindGroup = device.createBindGroup({
        layout,
        entries: [{ binding: 0, resource: { buffer: arena } }, { binding: 1, resource: { buffer: wbuf } }, { binding: 2, resource: { buffer: u } }],
      });
      passes.push({ pipeline: await pipelineOf(l), bindGroup, workgroups: l.workgroups });
    }
    const query = ours.timestamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : null;
    const resolve = query ? buffer(16, BUF.QUERY_RESOLVE | BUF.COPY_SRC) : null;
    const tsRead = query ? buffer(16, BUF.MAP_READ | BUF.COPY_DST) : null;
    /** `repeat` repetitions back to back; ms of the last one (timestamps) or wall ms per repetition. */
    const submit = async (repeat) => {
      const enc = device.createCommandEncoder();
      for (let r = 0; r < repeat; r++) {
        const last = r === repeat - 1 && query !== null;
        const pass = enc.beginComputePass(last ? { timestampWrites: { querySet: query, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
        for (const p of passes) {
          pass.setPipeline(p.pipeline);
          pass.setBindGroup(0, p.bindGroup);
          pass.dispatchWorkgroups(p.workgroups[0], p.workgroups[1]);
        }
        pass.end();
      }
      if (query) {
        enc.resolveQuerySet(query, 0, 2, resolve, 0);
        enc.copyBufferToBuffer(resolve, 0, tsRead, 0, 16);
      }
      const t0 = performance.now();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      const wall = (performance.now() - t0) / repeat;
      if (!query) return wall;
      await tsRead.mapAsync(BUF.MAP_READ);
      const t = new BigUint64Array(tsRead.getMappedRange().slice(0));
      tsRead.unmap();
      return t[1] > t[0] ? Number(t[1] - t[0]) / 1e6 : NaN;
    };
    const first = await submit(1);
    let repeat = 1;
    let ms;
    if (opts.smoke) ms = await submit(1); // (SwiftShader: seconds per call)
    else {
      await submit(1);
      repeat = repeatsFor(await submit(1), 300, 10, 2000);
      ms = median([await submit(repeat), await submit(repeat), await submit(repeat)]);
    }
    let out = null;
    if (read !== undefined) {
      const n = tensors[read].length ?? tensors[read];
      const rb = buffer(4 * n, BUF.MAP_READ | BUF.COPY_DST);
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(arena, 4 * offsets[read], rb, 0, 4 * n);
      device.queue.submit([enc.finish()]);
      await rb.mapAsync(BUF.MAP_READ);
      out = new Float32Array(rb.getMappedRange().slice(0));
      rb.unmap();
    }
    query?.destroy();
    return { ms, first, repeat, out, step };
  } finally {
    const errors = [await device.popErrorScope(), await device.popErrorScope()];
    for (const b of made) b.destroy();
    const e = errors.find((x) => x !== null);
    if (e) throw new Error(`WebGPU error in the ${tensors ? Object.keys(tensors).join('/') : ''} step: ${e.message}`);
  }
}

/** The divisor of m nearest sqrt(m) (below it on ties), not 1 or m when m has another. */
function middleDivisor(m) {
  let best = m;
  for (let d = 2; d < m; d++) if (m % d === 0 && Math.abs(d - Math.sqrt(m)) < Math.abs(best - Math.sqrt(m))) best = d;
  return best;
}

async function tfjsRow(b, x, dz, w) {
  const B = batch;
  const OH = b.H + 2 * b.pad - b.k + 1;
  const OW = b.W + 2 * b.pad - b.k + 1;
  const xT = tf.tensor4d(permute(x, [b.C, b.H, b.W, B], [3, 1, 2, 0]), [B, b.H, b.W, b.C]);
  const dyT = tf.tensor4d(permute(dz, [b.F, OH, OW, B], [3, 1, 2, 0]), [B, OH, OW, b.F]);
  // ours (C,k,k,F) -> HWIO (k,k,C,F); N1's W (U, C) -> (1,1,C,U)
  let hwio;
  if (b.nin) {
    hwio = new Float32Array(b.C * b.F);
    for (let u = 0; u < b.F; u++) for (let c = 0; c < b.C; c++) hwio[c * b.F + u] = w[u * b.C + c];
  } else hwio = permute(w, [b.C, b.k, b.k, b.F], [1, 2, 0, 3]);
  const filter = tf.tensor4d(hwio, [b.k, b.k, b.C, b.F]);
  const pad = b.pad === 0 ? 'valid' : b.pad;
  // what tf.conv2DBackpropInput / conv2DBackpropFilter (tfjs-core's internal ops, the gradients of
  // tf.conv2d; conv2dTranspose is the public face of the first) run: their kernels, by name
  const attrs = { strides: [b.s, b.s], pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  const dxOp = () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dyT, filter }, { ...attrs, inputShape: [B, b.H, b.W, b.C] });
  const dwOp = () => tf.engine().runKernel('Conv2DBackpropFilter', { x: xT, dy: dyT }, { ...attrs, filterShape: [b.k, b.k, b.C, b.F] });
  const out = {};
  try {
    for (const [name, op] of [['dx', dxOp], ['dw', dwOp]]) {
      const y = op();
      const data = check ? await y.data() : (await y.data(), null);
      y.dispose();
      const t0 = performance.now();
      const y2 = op();
      await y2.data();
      y2.dispose();
      const once = performance.now() - t0;
      const repeat = repeatsFor(once, opts.smoke ? 5 : 300, 2, 200);
      out[name] = { ms: await tfjsKernelMs(tf, op, repeat), data };
    }
  } finally {
    for (const t of [xT, dyT, filter]) t.dispose();
  }
  return out;
}

// ---------------------------------------------------------------- the rows
const results = [];
for (const b of rowsToRun) {
  const B = batch;
  const OH = b.H + 2 * b.pad - b.k + 1;
  const OW = b.W + 2 * b.pad - b.k + 1;
  const x = randomData(b.C * b.H * b.W * B, 11, -1, 1);
  const dz = randomData(b.F * OH * OW * B, 12, -1, 1);
  const w = randomData(b.C * b.k * b.k * b.F, 13, -0.1, 0.1); // conv: (C,k,k,F); N1: (U, C)
  const flops = 2 * B * b.F * OH * OW * b.C * b.k * b.k;
  const row = { id: b.id, flops, dw: [] };
  const geometry = { channels: b.C, rows: b.H, cols: b.W, batch: B, filters: b.F, filterSize: b.k, stride: b.s, pad: b.pad, outRows: OH, outCols: OW };
  if (b.nin) {
    const nin = { channels: b.C, units: b.F, positions: b.H * b.W, batch: B };
    row.dx = await timeStep({ dz, dx: x.length }, w, (t) => ({ op: 'nin_grad_input', index: 0, layer: b.id, preActGrad: t.dz, weight: 0, inputGrad: t.dx, ...nin }), 'dx');
    const split = ninGradWeightSplit(nin);
    const r = await timeStep({ x, dz, dw: w.length, scratch: split.scratchBytes / 4 }, null, (t) => ({
      op: 'nin_grad_weight', index: 0, layer: b.id, input: t.x, preActGrad: t.dz, weightGrad: t.dw, scratch: t.scratch, ...nin,
    }), 'dw');
    row.dw.push({ label: 'nin_grad_weight', partialSum: null, planScratch: 0, gpuScratch: split.scratchBytes, ...r });
  } else {
    row.dx = await timeStep({ dz, dx: x.length }, w, (t) => ({ op: 'img_acts', index: 0, layer: b.id, preActGrad: t.dz, weight: 0, inputGrad: t.dx, ...geometry }), 'dx');
    const m = ccGridLength(b.H, b.k, b.s, b.pad) * ccGridLength(b.W, b.k, b.s, b.pad);
    for (const P of [...new Set([1, middleDivisor(m), 0])]) {
      const probe = weightActsStep({ ...geometry, layer: b.id }, P, { input: 0, preActGrad: 1, weightGrad: 2, index: 0 });
      const split = weightActsSplit(probe);
      const label = P === 0 ? `P=0 (M=${m})` : `P=${P}`;
      if (split.scratchBytes > maxBinding) {
        row.dw.push({ label, partialSum: P, planScratch: probe.scratchBytes, gpuScratch: split.scratchBytes, skipped: `partial sums ${(split.scratchBytes / 1e9).toFixed(2)} GB > the ${(maxBinding / 1e9).toFixed(2)} GB binding limit` });
        continue;
      }
      const r = await timeStep({ x, dz, dw: w.length, scratch: split.scratchBytes / 4 }, null, (t) => ({
        ...weightActsStep({ ...geometry, layer: b.id }, P, { input: t.x, preActGrad: t.dz, weightGrad: t.dw, index: 0 }), scratch: t.scratch,
      }), 'dw');
      row.dw.push({ label, partialSum: P, planScratch: probe.scratchBytes, gpuScratch: split.scratchBytes, ...r });
    }
  }
  if (tf) {
    try {
      row.tfjs = await tfjsRow(b, x, dz, w);
    } catch (e) {
      row.tfjsError = e.message.split('\n')[0];
    }
  }
  if (check && row.tfjs) {
    // ours dX (C,H,W,B) -> NHWC; ours dW (C,k,k,F) -> HWIO (N1: (U,C) -> (C,U))
    if (row.dx.out) row.dxDiff = relDiff(permute(row.dx.out, [b.C, b.H, b.W, B], [3, 1, 2, 0]), row.tfjs.dx.data);
    for (const d of row.dw) {
      if (!d.out) continue;
      let mine;
      if (b.nin) {
        mine = new Float32Array(b.C * b.F);
        for (let u = 0; u < b.F; u++) for (let c = 0; c < b.C; c++) mine[c * b.F + u] = d.out[u * b.C + c];
      } else mine = permute(d.out, [b.C, b.k, b.k, b.F], [1, 2, 0, 3]);
      d.diff = relDiff(mine, row.tfjs.dw.data);
    }
  }
  const c = cudnn?.json?.[b.id];
  if (c) row.cudnn = { dx: c.dx_ms, dw: c.dw_ms, dxdw: c.dxdw_ms, dxKernels: c.dx_kernels, dwKernels: c.dw_kernels };
  const diffs = check && row.tfjs ? `, max |ours - tfjs| / max |tfjs|: dX ${fmt(row.dxDiff ?? NaN, 7)}, dW ${row.dw.map((d) => fmt(d.diff ?? NaN, 7)).join(' / ')}` : '';
  console.log(`  ${b.id} done${diffs}${row.tfjsError ? ` (tfjs failed: ${row.tfjsError})` : ''}`);
  results.push(row);
}

// ---------------------------------------------------------------- tables
const tflops = (flops, ms) => (Number.isFinite(ms) && ms > 0 ? fmt(flops / (ms / 1e3) / 1e12, 1) : '-');
const floor = (flops) => fmt(flops / (PEAK * 1e12) * 1e3, 4);
const ratio = (peer, mine) => (Number.isFinite(peer) && Number.isFinite(mine) && mine > 0 ? fmt(peer / mine, 2) : '-');
console.log(`\ninput gradient (dX), kernel ms (TFLOPS counted as direct convolution; floor: a direct convolution at ${PEAK} TFLOPS); ratios = peer / ours, goal tfjs/ours >= 2:`);
printTable(
  ['id', 'ours ms', 'ours TFLOPS', 'floor ms', 'tfjs ms', 'tfjs/ours', 'cuDNN ms', 'cuDNN/ours', 'goal met'],
  results.map((r) => {
    const mine = r.dx.ms;
    const t = r.tfjs?.dx.ms;
    return [r.id, r.dx.skipped ? `skipped: ${r.dx.skipped}` : fmt(mine), tflops(r.flops, mine), floor(r.flops), fmt(t), ratio(t, mine), fmt(r.cudnn?.dx), ratio(r.cudnn?.dx, mine), Number.isFinite(t) ? (t / mine >= 2 ? 'yes' : 'no') : '-'];
  }),
);
console.log(`\nweight gradient (dW), kernel ms per partialSum with its scratch (plan / WebGPU); goal tfjs/ours >= 10:`);
printTable(
  ['id', 'partialSum', 'scratch plan', 'scratch WebGPU', 'ours ms', 'ours TFLOPS', 'floor ms', 'tfjs ms', 'tfjs/ours', 'cuDNN ms', 'cuDNN/ours', 'goal met'],
  results.flatMap((r) =>
    r.dw.map((d) => {
      const t = r.tfjs?.dw.ms;
      const mb = (n) => (n === 0 ? '0' : `${(n / 2 ** 20).toFixed(1)} MiB`);
      return [r.id, d.label, mb(d.planScratch), mb(d.gpuScratch), d.skipped ? `skipped (${d.skipped})` : fmt(d.ms), tflops(r.flops, d.ms), floor(r.flops), fmt(t), ratio(t, d.ms), fmt(r.cudnn?.dw), ratio(r.cudnn?.dw, d.ms),
        Number.isFinite(t) && Number.isFinite(d.ms) ? (t / d.ms >= 10 ? 'yes' : 'no') : '-'];
    }),
  ),
);
if (cudnn) console.log(`cuDNN: ${cudnn.device} (aten.convolution_backward, one output; NCHW; TF32 off; cudnn.benchmark)`);
if (results.some((r) => r.cudnn?.dxKernels)) {
  for (const r of results) if (r.cudnn?.dxKernels) console.log(`  ${r.id} cuDNN kernels: dX ${r.cudnn.dxKernels.join(', ')}; dW ${r.cudnn.dwKernels.join(', ')}`);
}
if (opts.json) {
  const strip = (o) => { const { out, step, ...rest } = o; return rest; };
  console.log(`JSON ${JSON.stringify({ adapter: ours.name, batch, cudnnDevice: cudnn?.device ?? null, rows: results.map((r) => ({ ...r, dx: strip(r.dx), dw: r.dw.map(strip), tfjs: r.tfjs ? { dx: r.tfjs.dx.ms, dw: r.tfjs.dw.ms } : null })) })}`);
}
finish(0, [device]);
