// The backward WGSL kernels (wgsl/bias_act_grad, img_acts, weight_acts, max_pool_grad, nin_grad),
// run through their host description (src/backend/webgpu/backward.ts backwardLaunches) on this
// machine's WebGPU (SwiftShader on a CPU) and compared with the float64 oracles of
// test/reference/backward.mjs (checked against finite differences) on random inputs: element
// count first, then values. Tolerances as in wasm_backward.test.mjs: tolerance(N, 1, mag, value)
// (any float32 summation order of N terms, Higham 3.1) with mag the oracle on |inputs|; the
// derivative within actGradTolerance; pooling sums at most ceil(P/s)^2 terms; layout copies exact.
//
// Skips, saying why, when the `webgpu` package or an adapter is missing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testDevice } from './env.mjs';
import { backwardLaunches, backwardScratchBytes, backwardSource, biasActGradSplit, imgActsTile, ninGradWeightSplit, weightActsSplit, weightActsTile } from '../../dist/backend/webgpu/backward.js';
import { weightActsStep } from '../../dist/ops/backward.js';
import { actGrad, actGradTolerance, imgActsC01b, weightActsC01b, maxPoolGradC01b, ninGrad, biasGrad, ccGrid, kernelGradToParam } from '../reference/backward.mjs';
import { max_pool_2d } from '../reference/pool.mjs';
import { layerBackward } from '../reference/backward.mjs';
import { layerForward } from '../reference/layers.mjs';
import { kernelWeights } from '../../dist/ops/weights.js';
import * as lasagne from '../../dist/index.js';
import { Conv2DCCLayer } from '../../dist/layers/cuda_convnet.js';
import { transpose } from '../reference/array.mjs';
import { mulberry32 } from '../reference/random.mjs';
import { nonlinearity, tolerance } from '../reference/layers.mjs';
import { size, randArray, expectClose, f64, absOf } from '../support/check.mjs';
import { NL, convLen } from '../support/backward_cases.mjs';

const { device, reason } = await testDevice({ limits: true });
if (reason) console.log(`  SKIP webgpu backward kernels: ${reason}`);

/** Tensors laid out one after another at 64-element (256-byte) boundaries. */
class Layout {
  constructor() {
    this.length = 0;
    this.fills = [];
  }
  reserve(n) {
    const at = this.length;
    this.length += Math.ceil(Math.max(n, 1) / 64) * 64;
    return at;
  }
  put(a) {
    const at = this.reserve(a.data.length);
    this.fills.push([at, a.data]);
    return at;
  }
  data() {
    const out = new Float32Array(this.length);
    for (const [at, d] of this.fills) out.set(d, at);
    return out;
  }
}

const BUF = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 };
let bindLayout = null;
let pipelineLayout = null;
const modules = new Map();

function layouts() {
  if (!bindLayout) {
    bindLayout = device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: 4, buffer: { type: 'storage' } },
        { binding: 1, visibility: 4, buffer: { type: 'read-only-storage' } },
        { binding: 2, visibility: 4, buffer: { type: 'uniform' } },
      ],
    });
    pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [bindLayout] });
  }
  return { bindLayout, pipelineLayout };
}

function buffer(data, usage) {
  const b = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage: usage | BUF.COPY_DST });
  device.queue.writeBuffer(b, 0, data);
  return b;
}

/** Runs the passes on an arena and a weights buffer; returns the arena afterwards. */
async function runLaunches(launches, arena, weights = new Float32Array(4)) {
  const { bindLayout: bl, pipelineLayout: pl } = layouts();
  device.pushErrorScope('validation');
  const arenaBuf = buffer(arena, BUF.STORAGE | BUF.COPY_SRC);
  const weightBuf = buffer(weights, BUF.STORAGE);
  const read = device.createBuffer({ size: arenaBuf.size, usage: BUF.MAP_READ | BUF.COPY_DST });
  const uniforms = [];
  try {
    const encoder = device.createCommandEncoder();
    for (const l of launches) {
      if (!modules.has(l.file)) modules.set(l.file, device.createShaderModule({ code: backwardSource(l.file) }));
      const pipeline = await device.createComputePipelineAsync({ layout: pl, compute: { module: modules.get(l.file), entryPoint: l.entry, constants: l.constants } });
      const u = buffer(l.params, BUF.UNIFORM);
      uniforms.push(u);
      const bind = device.createBindGroup({
        layout: bl,
        entries: [{ binding: 0, resource: { buffer: arenaBuf } }, { binding: 1, resource: { buffer: weightBuf } }, { binding: 2, resource: { buffer: u } }],
      });
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(l.workgroups[0], l.workgroups[1]);
      pass.end();
    }
    encoder.copyBufferToBuffer(arenaBuf, 0, read, 0, arenaBuf.size);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(1);
    return new Float32Array(read.getMappedRange().slice(0));
  } finally {
    const err = await device.popErrorScope();
    for (const b of [arenaBuf, weightBuf, read, ...uniforms]) b.destroy();
    assert.is(err, null, `validation error: ${err && err.message}`);
  }
}

const offsets = (ids, weights = []) => ({ tensor: (id) => ids[id], weight: (i) => weights[i] });
// Every other case dispatches with at most 64 workgroups per grid dimension, so the kernels' linear
// workgroup id over x and y (what a device's 65535 limit needs on large layers) is exercised.
const maxDim = (n) => (n % 2 ? 64 : 65535);

const test = suite('webgpu backward kernels');
const it = reason ? test.skip : test;
test.after(() => device?.destroy());

it('bias_act_grad: every nonlinearity x bias mode, in place and not: dz = dy act\'(y) and the bias gradient', async () => {
  let seed = 1;
  let segmented = 0;
  for (const [kind, params] of NL)
    for (const mode of ['none', 'tied', 'untied']) {
      // rows of 35 or 280, and of 4800 (two segments of at most 4096, summed by the reduce pass)
      // case c = 3 * kind + mode: every mode meets every shape over the kinds
      const c = (seed - 1) >> 1;
      const shape = [[3, 5, 7], [2, 70, 4], [2, 300, 16]][(c + Math.floor(c / 3)) % 3];
      const [F, P, B] = shape;
      const x = randArray([F, P, B], seed++, -3, 3);
      const y = { data: Float32Array.from(x.data, (v) => nonlinearity(kind, params, v)), shape: x.shape };
      const dy = randArray([F, P, B], seed++);
      const inPlace = seed % 3 === 0;
      const L = new Layout();
      const ids = [L.put(y), L.put(dy)];
      ids.push(inPlace ? ids[1] : L.reserve(dy.data.length));
      const nb = mode === 'tied' ? F : F * P;
      ids.push(mode === 'none' ? -1 : L.reserve(nb));
      const step = { op: 'bias_act_grad', index: 0, layer: 'l', output: 0, outputGrad: 1, preActGrad: 2, biasGrad: mode === 'none' ? -1 : 3, biasMode: mode, nonlinearity: { kind, params }, units: F, positions: P, batch: B, scratch: 4 };
      const split = biasActGradSplit(step);
      if (mode === 'tied' && P === 300) {
        assert.ok(split.segs > 1 && split.scratchBytes > 0, 'long rows are cut into segments');
        segmented++;
      }
      ids.push(L.reserve(split.scratchBytes / 4));
      const arena = await runLaunches(backwardLaunches(step, offsets(ids), maxDim(seed)), L.data());
      const label = `${kind} ${mode}${inPlace ? ' in place' : ''}`;
      const ref = actGrad(kind, params, f64(y), f64(dy));
      const tolDz = (i) => actGradTolerance(kind, params, y.data[i], dy.data[i]);
      expectClose(arena.subarray(ids[2], ids[2] + dy.data.length), ref, tolDz, `${label} dz`);
      if (mode === 'none') continue;
      const db = biasGrad(ref, mode);
      const mag = biasGrad(absOf(ref), mode);
      const run = mode === 'tied' ? P * B : B;
      const dzErr = biasGrad({ data: Float64Array.from(dy.data, (_, i) => tolDz(i)), shape: dy.shape }, mode);
      expectClose(arena.subarray(ids[3], ids[3] + nb), db, (i) => tolerance(run, 1, mag.data[i], db.data[i]) + dzErr.data[i], `${label} db`);
    }
  assert.ok(segmented >= 2, `${segmented} tied cases with segmented rows`);
});

// Conv geometries: pads, strides (truncated grids), every batch remainder, several tiles of 64
// channels / taps / filters / columns, F not a multiple of 16.
const CONV = [
  { C: 1, H: 5, W: 7, k: 3, s: 1, pad: 1, F: 16, B: 1 },
  // channel tiles of 16 (C <= 16) over several column tiles of 256
  { C: 12, H: 9, W: 9, k: 3, s: 1, pad: 1, F: 16, B: 4 },
  { C: 13, H: 6, W: 6, k: 3, s: 2, pad: 1, F: 16, B: 5 },
  { C: 2, H: 6, W: 5, k: 3, s: 2, pad: 0, F: 16, B: 2 },
  { C: 3, H: 9, W: 8, k: 5, s: 1, pad: 2, F: 32, B: 3 },
  { C: 8, H: 5, W: 6, k: 3, s: 1, pad: 1, F: 80, B: 4 },
  { C: 2, H: 7, W: 7, k: 3, s: 3, pad: 1, F: 16, B: 5 },
  { C: 70, H: 4, W: 4, k: 2, s: 2, pad: 1, F: 16, B: 6 },
  { C: 3, H: 7, W: 6, k: 4, s: 2, pad: 1, F: 20, B: 9 },
  // filter tiles of 64 (F = 64, 128 taps in two tiles) and of 32 (F = 96)
  { C: 14, H: 5, W: 5, k: 3, s: 1, pad: 0, F: 64, B: 3 },
  { C: 2, H: 5, W: 6, k: 3, s: 1, pad: 1, F: 96, B: 4 },
  // M B = 1152 rows of K in one group (partialSum 0): the WebGPU kernel cuts it into slices
  { C: 2, H: 12, W: 12, k: 3, s: 1, pad: 1, F: 16, B: 8 },
];

const geometry = (c) => ({ layer: 'conv', channels: c.C, rows: c.H, cols: c.W, batch: c.B, filters: c.F, filterSize: c.k, stride: c.s, pad: c.pad, outRows: convLen(c.H, c.k, c.s, c.pad), outCols: convLen(c.W, c.k, c.s, c.pad) });

it('img_acts matches the oracle: every geometry, batch size and tile edge', async () => {
  for (const [n, c] of CONV.entries()) {
    const g = geometry(c);
    const dz = randArray([c.F, g.outRows, g.outCols, c.B], 100 + n);
    const w = randArray([c.C, c.k, c.k, c.F], 200 + n);
    const L = new Layout();
    const ids = [L.put(dz), L.reserve(c.C * c.H * c.W * c.B)];
    const weights = new Float32Array(8 + w.data.length);
    weights.set(w.data, 8);
    const step = { op: 'img_acts', index: 0, ...g, preActGrad: 0, weight: 0, inputGrad: 1 };
    const launches = backwardLaunches(step, offsets(ids, [8]), maxDim(n));
    assert.is(launches[0].entry, c.B % 4 === 0 ? 'main_vec4' : 'main_scalar', 'vec4 along the batch exactly when B % 4 == 0');
    const arena = await runLaunches(launches, L.data(), weights);
    const ref = imgActsC01b(f64(dz), f64(w), c.pad, c.s, c.H, c.W);
    const mag = imgActsC01b(absOf(dz), absOf(w), c.pad, c.s, c.H, c.W);
    expectClose(arena.subarray(ids[1], ids[1] + ref.data.length), ref, (i) => tolerance(c.k * c.k * c.F, 1, mag.data[i], ref.data[i]), `img_acts ${JSON.stringify(c)}`);
  }
});

it('weight_acts: partialSum 0, 1 and a middle divisor match the oracle, partials (M/P, C, k, k, F) included', async () => {
  for (const [n, c] of CONV.entries()) {
    const g = geometry(c);
    const x = randArray([c.C, c.H, c.W, c.B], 300 + n);
    const dz = randArray([c.F, g.outRows, g.outCols, c.B], 400 + n);
    const ref = weightActsC01b(f64(x), f64(dz), c.k, c.pad, c.s, 0);
    const mag = weightActsC01b(absOf(x), absOf(dz), c.k, c.pad, c.s, 0).dw;
    const M = ccGrid(c.H, c.k, c.s, c.pad) * ccGrid(c.W, c.k, c.s, c.pad);
    const middle = [...Array(M).keys()].map((i) => i + 1).filter((d) => M % d === 0 && d > 1 && d < M);
    for (const P of [0, 1, ...middle.slice(0, 1)]) {
      const step = { ...weightActsStep(g, P, { index: 0, input: 0, preActGrad: 1, weightGrad: 2 }), scratch: 3 };
      const L = new Layout();
      const K = c.C * c.k * c.k * c.F;
      const ids = [L.put(x), L.put(dz), L.reserve(K)];
      const split = weightActsSplit(step);
      assert.is(backwardScratchBytes(step), split.scratchBytes);
      assert.ok(split.scratchBytes >= step.scratchBytes, 'the plan holds at least the partialSum scratch');
      if (c.H === 12 && P === 0) assert.ok(split.slices > 1, 'one long group is sliced');
      const scratch = L.reserve(split.scratchBytes / 4);
      ids.push(scratch);
      const launches = backwardLaunches(step, offsets(ids), maxDim(n + P));
      if (split.scratchBytes > 0) assert.throws(() => backwardLaunches({ ...step, scratch: undefined }, offsets(ids)), /needs \d+ bytes of scratch, but the plan gave it none/);
      assert.is(launches.length, step.groups * split.slices > 1 ? 2 : 1, 'a reduction pass exactly when there are partial slots');
      const arena = await runLaunches(launches, L.data());
      const N = g.outRows * g.outCols * c.B + step.groups * split.slices;
      expectClose(arena.subarray(ids[2], ids[2] + K), ref.dw, (i) => tolerance(N, 1, mag.data[i], ref.dw.data[i]), `weight_acts ${JSON.stringify(c)} partialSum ${P}`);
      if (step.groups > 1 && split.slices === 1) {
        const r = weightActsC01b(f64(x), f64(dz), c.k, c.pad, c.s, P);
        const m = weightActsC01b(absOf(x), absOf(dz), c.k, c.pad, c.s, P);
        expectClose(arena.subarray(scratch, scratch + step.groups * K), r.partials, (i) => tolerance(P * c.B, 1, m.partials.data[i], r.partials.data[i]), `partials P=${P}`);
      }
    }
  }
});

test('img_acts tiles: narrower channel tiles for few channels, all within 16 KiB of workgroup memory', () => {
  for (const C of [1, 3, 4, 8, 9, 16, 17, 64, 384]) {
    const t = imgActsTile(C);
    assert.is(t.wgC * t.wgN, 256, `C ${C}: 256 threads`);
    assert.ok(t.workgroupBytes <= 16384, `C ${C}: ${t.workgroupBytes} bytes`);
    assert.ok(4 * t.wgC >= Math.min(C, 64) || C > 16, `C ${C}: the tile is no narrower than needed`);
  }
  assert.is(4 * imgActsTile(3).wgC, 8, 'a first layer (C = 3) uses 3 of 8 tile rows, not 3 of 64');
});

test('weight_acts tiles: a filter tile that divides F where it can, within 16 KiB of workgroup memory', () => {
  for (const F of [16, 20, 32, 48, 64, 96, 128, 384]) {
    const t = weightActsTile(F);
    assert.is(t.wgF * t.wgQ, 256, `F ${F}: 256 threads`);
    assert.ok(t.workgroupBytes <= 16384, `F ${F}: ${t.workgroupBytes} bytes`);
    assert.ok(t.kChunk * t.wgQ <= 512 && t.kChunk * t.wgF <= 256, `F ${F}: at most two tap and one filter vec4 per thread and chunk`);
    if (F % 16 === 0) assert.is(F % (4 * t.wgF), 0, `F ${F}: no idle filter columns`);
  }
});

it('a whole Conv2DCCLayer (bc01, flipped, untied, tanh): the chained passes give the layer-level gradients', async () => {
  // As in wasm_backward.test.mjs: layouts, flip and chaining, within 1e-4 of the magnitude.
  lasagne.random.setRng(new lasagne.random.RandomState(3));
  for (const [n, o] of [{ pad: 1, stride: 1, partialSum: 5 }, { pad: 2, stride: 2, partialSum: 0 }].entries()) {
    const [B, C, H, W, F, k] = [4, 2, 7, 5, 16, 3];
    const layer = new Conv2DCCLayer(new lasagne.layers.InputLayer([B, C, H, W]), F, k, { ...o, flipFilters: true, untieBiases: true, nonlinearity: lasagne.nonlinearities.tanh });
    const x = randArray([B, C, H, W], 40 + n);
    const y = layerForward(layer, x);
    const dy = randArray(y.shape, 50 + n);
    const ref = layerBackward(layer, x, y, dy);
    const absLayer = Object.create(layer);
    const wAbs = absOf(layer.W.getValue());
    Object.defineProperty(absLayer, 'W', { value: { getValue: () => wAbs } });
    const mag = layerBackward(absLayer, absOf(x), y, absOf(dy));
    const [, , R, S] = y.shape;
    const c01b = (a) => ({ data: Float32Array.from(transpose(f64(a), [1, 2, 3, 0]).data) });
    const geo = { layer: 'conv', channels: C, rows: H, cols: W, batch: B, filters: F, filterSize: k, stride: o.stride, pad: layer.resolvedPad, outRows: R, outCols: S };
    const wK = kernelWeights({ weightLayout: 'fckk', flipFilters: true, channels: C, filterSize: k, filters: F }, layer.W.getValue());
    const wa = { ...weightActsStep(geo, o.partialSum, { index: 1, input: 0, preActGrad: 2, weightGrad: 4 }), scratch: 7 };
    const L = new Layout();
    const ids = [L.put(c01b(x)), L.put(c01b(y)), L.put(c01b(dy)), L.reserve(F * R * S), L.reserve(wK.length), L.reserve(wK.length), L.reserve(x.data.length), L.reserve(backwardScratchBytes(wa) / 4)];
    const steps = [
      { op: 'bias_act_grad', index: 0, layer: 'conv', output: 1, outputGrad: 2, preActGrad: 2, biasGrad: 3, biasMode: 'untied', nonlinearity: { kind: 'tanh', params: [] }, units: F, positions: R * S, batch: B },
      wa,
      { op: 'img_acts', index: 2, ...geo, preActGrad: 2, weight: 0, inputGrad: 6 },
      { op: 'weight_grad_layout', index: 3, layer: 'conv', weightGrad: 4, paramGrad: 5, weightLayout: 'fckk', flipFilters: true, channels: C, filterSize: k, filters: F },
    ];
    const arena = await runLaunches(steps.flatMap((st) => backwardLaunches(st, offsets(ids, [0]))), L.data(), wK);
    const close = (ours, want, m, label) => expectClose(ours, want, (i) => 1e-4 * m.data[i] + 1e-6, label);
    const dxB = transpose({ data: arena.slice(ids[6], ids[6] + x.data.length), shape: [C, H, W, B] }, [3, 0, 1, 2]);
    assert.equal(dxB.shape, ref.dx.shape);
    close(dxB.data, ref.dx, mag.dx, `dx ${JSON.stringify(o)}`);
    close(arena.subarray(ids[5], ids[5] + wK.length), ref.dW, mag.dW, `dW ${JSON.stringify(o)}`);
    close(arena.subarray(ids[3], ids[3] + F * R * S), ref.db, mag.db, `db ${JSON.stringify(o)}`);
  }
});

it('weight_grad_layout: kernel-layout dW to both parameter layouts, flipped or not, exactly', async () => {
  const [C, k, F] = [3, 3, 5];
  const dwk = randArray([C, k, k, F], 31);
  for (const layout of ['fckk', 'ckkf'])
    for (const flip of [false, true]) {
      const L = new Layout();
      const ids = [L.put(dwk), L.reserve(dwk.data.length)];
      const step = { op: 'weight_grad_layout', index: 0, layer: 'l', weightGrad: 0, paramGrad: 1, weightLayout: layout, flipFilters: flip, channels: C, filterSize: k, filters: F };
      const arena = await runLaunches(backwardLaunches(step, offsets(ids)), L.data());
      expectClose(arena.subarray(ids[1], ids[1] + dwk.data.length), kernelGradToParam(f64(dwk), layout, flip), () => 0, `${layout} flip ${flip}`);
    }
});

it('max_pool_grad: ties all receive the gradient; vec4 and scalar paths, partial windows, any channel count', async () => {
  const cases = [
    { C: 1, H: 7, W: 7, B: 1, P: 3, s: 2 },
    { C: 3, H: 6, W: 5, B: 4, P: 2, s: 2 },
    { C: 5, H: 8, W: 8, B: 7, P: 3, s: 3 },
    { C: 17, H: 5, W: 6, B: 8, P: 3, s: 1 },
  ];
  for (const [n, c] of cases.entries()) {
    const next = mulberry32(500 + n);
    const x = { data: Float32Array.from({ length: c.C * c.H * c.W * c.B }, () => Math.floor(next() * 4)), shape: [c.C, c.H, c.W, c.B] };
    const y = transpose(max_pool_2d(transpose(f64(x), [3, 0, 1, 2]), [c.P, c.P], [c.s, c.s]), [1, 2, 3, 0]);
    const dy = randArray(y.shape, 600 + n);
    const L = new Layout();
    const ids = [L.put(x), L.put({ data: Float32Array.from(y.data) }), L.put(dy), L.reserve(x.data.length)];
    const step = { op: 'max_pool_grad', index: 0, layer: 'pool', input: 0, output: 1, outputGrad: 2, inputGrad: 3, channels: c.C, rows: c.H, cols: c.W, batch: c.B, poolSize: c.P, stride: c.s, outRows: y.shape[1], outCols: y.shape[2] };
    const launches = backwardLaunches(step, offsets(ids), maxDim(n));
    assert.is(launches[0].entry, c.B % 4 === 0 ? 'main_vec4' : 'main_scalar');
    const arena = await runLaunches(launches, L.data());
    const ref = maxPoolGradC01b(f64(x), f64(dy), c.P, c.s);
    const mag = maxPoolGradC01b(f64(x), absOf(dy), c.P, c.s);
    expectClose(arena.subarray(ids[3], ids[3] + ref.data.length), ref, (i) => tolerance(Math.ceil(c.P / c.s) ** 2, 1, mag.data[i], ref.data[i]), `max_pool_grad ${JSON.stringify(c)}`);
  }
});

it('NIN gradients: input and weight, tile edges, one and several K slices', async () => {
  const cases = [[1, 1, 1, 1], [3, 5, 7, 1], [70, 16, 9, 8], [5, 3, 1500, 2], [16, 66, 12, 4]];
  for (const [n, [C, U, positions, B]] of cases.entries()) {
    const N = positions * B;
    const x = randArray([C, N], 700 + n);
    const w = randArray([U, C], 800 + n);
    const dz = randArray([U, N], 900 + n);
    const L = new Layout();
    const ids = [L.put(x), L.put(dz), L.reserve(C * N), L.reserve(U * C)];
    const split = ninGradWeightSplit({ units: U, channels: C, positions, batch: B });
    ids.push(L.reserve(split.scratchBytes / 4));
    const geo = { index: 0, layer: 'nin', channels: C, units: U, positions, batch: B };
    const weights = new Float32Array(4 + w.data.length);
    weights.set(w.data, 4);
    const launches = [
      ...backwardLaunches({ op: 'nin_grad_input', ...geo, preActGrad: 1, weight: 0, inputGrad: 2 }, offsets(ids, [4]), maxDim(n)),
      ...backwardLaunches({ op: 'nin_grad_weight', ...geo, input: 0, preActGrad: 1, weightGrad: 3, scratch: 4 }, offsets(ids, [4]), maxDim(n)),
    ];
    const arena = await runLaunches(launches, L.data(), weights);
    const ref = ninGrad(f64(x), f64(w), f64(dz));
    const mag = ninGrad(absOf(x), absOf(w), absOf(dz));
    expectClose(arena.subarray(ids[2], ids[2] + C * N), ref.dx, (i) => tolerance(U, 1, mag.dx.data[i], ref.dx.data[i]), `nin dx ${[C, U, N]}`);
    expectClose(arena.subarray(ids[3], ids[3] + U * C), ref.dw, (i) => tolerance(N + split.slices, 1, mag.dw.data[i], ref.dw.data[i]), `nin dW ${[C, U, N]} (${split.slices} slices)`);
    if (N === 3000) assert.ok(split.slices > 1, 'the long K is split');
  }
});

test.run();
