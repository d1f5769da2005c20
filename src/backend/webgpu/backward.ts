/**
 * How the WebGPU backend runs each backward step (src/ops/backward.ts) with the kernels of
 * wgsl/bias_act_grad.wgsl, img_acts.wgsl, weight_acts.wgsl, max_pool_grad.wgsl and nin_grad.wgsl:
 * per step, the passes to dispatch in order, each with its shader file, entry point, override
 * constants, uniform contents and workgroup grid. All backward kernels share one binding shape:
 * 0 the arena (storage, read_write), 1 the weights (storage, read), 2 the uniform params.
 * Offsets are in float32 elements.
 */
import { ValueError } from '../../errors.js';
import type { BackwardStep, BiasActGradStep, NinGradWeightStep, WeightActsStep } from '../../ops/backward.js';
import { activationOf, BIAS_CODES } from '../../ops/codes.js';
import { workgroupGrid } from './geometry.js';
import { WGSL, WGSL_CODES } from './shaders.generated.js';

export type BackwardFile = 'bias_act_grad' | 'img_acts' | 'weight_acts' | 'max_pool_grad' | 'nin_grad';

/** One compute pass of a backward step. */
export interface BackwardLaunch {
  file: BackwardFile;
  entry: string;
  constants: Record<string, number>;
  /** The uniform buffer's contents (a multiple of 16 bytes). */
  params: ArrayBuffer;
  workgroups: [number, number];
}

/** Element offsets of a backward step's operands (its scratch is the tensor `step.scratch`). */
export interface BackwardOffsets {
  /** Offset of an arena tensor by id. */
  tensor(id: number): number;
  /** Offset of a parameter in the weights buffer by index (as uploaded for the forward: conv (C, k, k, F), NIN W (U, C)). */
  weight(index: number): number;
}

/**
 * The WGSL source of a backward kernel file: bias_act_grad gets the generated codes (ACT_*, BIAS_*
 * of src/ops/codes.ts) and epilogue.wgsl (override ACT, expm1_accurate) prepended, weight_acts
 * weight_layout.wgsl (param_index_of_kernel), flat.wgsl and slot_sum.wgsl, nin_grad flat.wgsl and
 * slot_sum.wgsl (their reduce passes).
 */
export function backwardSource(file: BackwardFile): string {
  if (file === 'bias_act_grad') return `${WGSL_CODES}\n${WGSL.epilogue}\n${WGSL.bias_act_grad}`;
  if (file === 'weight_acts') return `${WGSL.weight_layout}\n${WGSL.flat}\n${WGSL.slot_sum}\n${WGSL.weight_acts}`;
  if (file === 'nin_grad') return `${WGSL.flat}\n${WGSL.slot_sum}\n${WGSL.nin_grad}`;
  return WGSL[file];
}

const TILE = 64;
const FLAT = 256;
const K_CHUNK = 16;
const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);

/** A uniform buffer of u32 fields, with the f32 fields at the given indices; padded to 16 bytes. */
function uniform(values: readonly number[], floatAt: readonly number[] = []): ArrayBuffer {
  const buf = new ArrayBuffer(ceilDiv(values.length * 4, 16) * 16);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  values.forEach((v, i) => {
    if (floatAt.includes(i)) f[i] = v;
    else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ValueError(`a backward kernel parameter must be a u32, but field ${i} is ${v}`);
      u[i] = v;
    }
  });
  return buf;
}

/**
 * The slices of K = positions * batch the NIN weight gradient is split into (enough workgroups
 * for a GPU when U x C is small), and the float32 scratch they need (0 with one slice).
 */
export function ninGradWeightSplit(step: Pick<NinGradWeightStep, 'units' | 'channels' | 'positions' | 'batch'>): { slices: number; kPer: number; scratchBytes: number } {
  const n = step.positions * step.batch;
  const tiles = ceilDiv(step.units, TILE) * ceilDiv(step.channels, TILE);
  const wanted = Math.max(1, Math.min(ceilDiv(n, 256), Math.floor(512 / tiles)));
  const kPer = ceilDiv(ceilDiv(n, wanted), K_CHUNK) * K_CHUNK;
  const slices = ceilDiv(n, kPer);
  return { slices, kPer, scratchBytes: slices > 1 ? 4 * slices * step.units * step.channels : 0 };
}

/**
 * weight_acts' workgroup shape for F filters: a tile TILE_F = 4 wgF wide that divides F where it can
 * (cuda-convnet's F is a multiple of 16: 32 filters would leave half of a 64-wide tile idle), the
 * rest of the 256 threads along the taps; kChunk rows of K per stage; its workgroup memory.
 */
export function weightActsTile(filters: number): { wgF: number; wgQ: number; kChunk: number; workgroupBytes: number } {
  const [wgF, wgQ, kChunk] = filters % 64 === 0 ? [16, 16, 16] : filters % 32 === 0 ? [8, 32, 16] : [4, 64, 8];
  return { wgF, wgQ, kChunk, workgroupBytes: 16 * kChunk * (wgF + wgQ) };
}

/**
 * How the WebGPU weight gradient cuts each partialSum group's K = P * batch into slices when the
 * groups alone give too few workgroups (fewer than about 256: P = M has a single group of K = M B
 * and only ceil(C k^2 / 64) ceil(F / 64) tiles). Each slice has at least 256 rows of K. The
 * partial sums are then (groups * slices, C, k, k, F): `scratchBytes` is what the plan must hold
 * (at least the step's own scratchBytes; 0 with a single slot). The result is the same sum in
 * another float32 order.
 */
export function weightActsSplit(step: Pick<WeightActsStep, 'channels' | 'filterSize' | 'filters' | 'batch' | 'effectivePartialSum' | 'groups'>): { slices: number; kPer: number; scratchBytes: number } {
  const q = step.channels * step.filterSize * step.filterSize;
  const t = weightActsTile(step.filters);
  const tiles = ceilDiv(q, 4 * t.wgQ) * ceilDiv(step.filters, 4 * t.wgF) * step.groups;
  const k = step.effectivePartialSum * step.batch;
  const wanted = Math.max(1, Math.min(ceilDiv(256, tiles), Math.floor(k / 256)));
  const kPer = ceilDiv(ceilDiv(k, wanted), K_CHUNK) * K_CHUNK;
  const slices = ceilDiv(k, kPer);
  const slots = step.groups * slices;
  return { slices, kPer, scratchBytes: slots > 1 ? 4 * slots * q * step.filters : 0 };
}

/** img_acts' workgroup shape (WG_C, WG_N threads, K_CHUNK filters per stage) for C channels, and its workgroup memory. */
export function imgActsTile(channels: number): { wgC: number; wgN: number; kChunk: number; workgroupBytes: number } {
  const [wgC, wgN, kChunk] = channels > 16 ? [16, 16, 16] : channels > 8 ? [4, 64, 8] : [2, 128, 2];
  return { wgC, wgN, kChunk, workgroupBytes: 16 * (kChunk * (wgC + wgN) + 4 * wgN) };
}

/** Elements per workgroup of bias_act_grad (a multiple of its 256 threads). */
const BIAS_SEGMENT = 4096;

/**
 * How bias_act_grad cuts its rows (F of positions x batch, or F x positions of batch when untied)
 * into segments of at most 4096 elements, one workgroup each, and the float32 scratch of the
 * segments' bias sums (0 with one segment per row or no bias).
 */
export function biasActGradSplit(step: Pick<BiasActGradStep, 'units' | 'positions' | 'batch' | 'biasMode'>): { rows: number; rowLen: number; segs: number; segLen: number; scratchBytes: number } {
  const untied = step.biasMode === 'untied';
  const rows = untied ? step.units * step.positions : step.units;
  const rowLen = untied ? step.batch : step.positions * step.batch;
  const segs = ceilDiv(rowLen, BIAS_SEGMENT);
  const segLen = segs === 1 ? ceilDiv(rowLen, 256) * 256 : BIAS_SEGMENT;
  return { rows, rowLen, segs, segLen, scratchBytes: segs > 1 && step.biasMode !== 'none' ? 4 * rows * segs : 0 };
}

/** Scratch bytes a backward step needs on this backend (0 for most). */
export function backwardScratchBytes(step: BackwardStep): number {
  if (step.op === 'bias_act_grad') return biasActGradSplit(step).scratchBytes;
  if (step.op === 'weight_acts') return weightActsSplit(step).scratchBytes;
  if (step.op === 'nin_grad_weight') return ninGradWeightSplit(step).scratchBytes;
  return 0;
}

/** The element offset of a step's scratch, which must hold `need` bytes. */
function scratchOffset(step: BackwardStep, at: BackwardOffsets, need: number): number {
  if (need === 0) return 0;
  if (step.scratch === undefined) throw new ValueError(`layer ${step.layer}: the ${step.op} step needs ${need} bytes of scratch, but the plan gave it none`);
  return at.tensor(step.scratch);
}

/** The passes of one backward step, in order. */
export function backwardLaunches(step: BackwardStep, at: BackwardOffsets, maxPerDimension = 65535): BackwardLaunch[] {
  const grid = (count: number): [number, number] => workgroupGrid(Math.max(count, 1), maxPerDimension);
  switch (step.op) {
    case 'bias_act_grad': {
      const act = activationOf(step.nonlinearity, step.layer);
      const { rows, rowLen, segs, segLen, scratchBytes } = biasActGradSplit(step);
      const constants = { ACT: act.code, BIAS: BIAS_CODES[step.biasMode] };
      const params = uniform([
        at.tensor(step.output), at.tensor(step.outputGrad), at.tensor(step.preActGrad), step.biasGrad >= 0 ? at.tensor(step.biasGrad) : 0, rows, rowLen,
        act.params[0], act.params[1], segs, segLen, scratchOffset(step, at, scratchBytes),
      ], [6, 7]);
      const main: BackwardLaunch = { file: 'bias_act_grad', entry: 'main', constants, params, workgroups: grid(rows * segs) };
      if (scratchBytes === 0) return [main];
      return [main, { file: 'bias_act_grad', entry: 'reduce', constants, params, workgroups: grid(ceilDiv(rows, 256)) }];
    }
    case 'img_acts': {
      const n = step.rows * step.cols * step.batch;
      const t = imgActsTile(step.channels);
      const cTiles = ceilDiv(step.channels, 4 * t.wgC);
      const tiles = cTiles * ceilDiv(n, 4 * t.wgN);
      const vec4 = step.batch % 4 === 0 && at.tensor(step.preActGrad) % 4 === 0 && at.tensor(step.inputGrad) % 4 === 0;
      return [{
        file: 'img_acts', entry: vec4 ? 'main_vec4' : 'main_scalar', constants: { WG_C: t.wgC, WG_N: t.wgN, K_CHUNK: t.kChunk },
        params: uniform([
          at.tensor(step.preActGrad), at.tensor(step.inputGrad), at.weight(step.weight), step.channels, step.rows, step.cols, step.batch, step.filters,
          step.filterSize, step.stride, step.pad, step.outRows, step.outCols, n, cTiles, tiles,
        ]),
        workgroups: grid(tiles),
      }];
    }
    case 'weight_acts': {
      const q = step.channels * step.filterSize * step.filterSize;
      const t = weightActsTile(step.filters);
      const qTiles = ceilDiv(q, 4 * t.wgQ);
      const fTiles = ceilDiv(step.filters, 4 * t.wgF);
      const { slices, kPer, scratchBytes } = weightActsSplit(step);
      const slots = step.groups * slices;
      const scratch = scratchOffset(step, at, scratchBytes);
      const tiles = qTiles * fTiles * slots;
      const params = uniform([
        at.tensor(step.input), at.tensor(step.preActGrad), at.tensor(step.weightGrad), scratch, step.channels, step.rows, step.cols,
        step.batch, step.filters, step.filterSize, step.stride, step.pad, step.outRows, step.outCols, step.colsCC, step.effectivePartialSum, step.groups,
        slices, kPer, q, qTiles, fTiles, tiles, 0, 0, 0,
      ]);
      const main: BackwardLaunch = { file: 'weight_acts', entry: 'main', constants: { WG_F: t.wgF, WG_Q: t.wgQ, K_CHUNK: t.kChunk }, params, workgroups: grid(tiles) };
      if (slots === 1) return [main];
      return [main, { file: 'weight_acts', entry: 'reduce', constants: {}, params, workgroups: grid(ceilDiv(q * step.filters, FLAT)) }];
    }
    case 'weight_grad_layout': {
      const q = step.channels * step.filterSize * step.filterSize;
      return [{
        file: 'weight_acts', entry: 'to_param_layout', constants: {},
        params: uniform([0, 0, at.tensor(step.weightGrad), 0, step.channels, 0, 0, 0, step.filters, step.filterSize, 0, 0, 0, 0, 0, 0, 0, 1, 0, q, 0, 0, 0,
          at.tensor(step.paramGrad), step.weightLayout === 'fckk' ? 0 : 1, step.flipFilters ? 1 : 0]),
        workgroups: grid(ceilDiv(q * step.filters, FLAT)),
      }];
    }
    case 'max_pool_grad': {
      const offs = [at.tensor(step.input), at.tensor(step.output), at.tensor(step.outputGrad), at.tensor(step.inputGrad)];
      const vec4 = step.batch % 4 === 0 && offs.every((o) => o % 4 === 0);
      const items = (step.channels * step.rows * step.cols * step.batch) / (vec4 ? 4 : 1);
      return [{
        file: 'max_pool_grad', entry: vec4 ? 'main_vec4' : 'main_scalar', constants: {},
        params: uniform([...offs, step.channels, step.rows, step.cols, step.batch, step.poolSize, step.stride, step.outRows, step.outCols, items]),
        workgroups: grid(ceilDiv(items, 64)),
      }];
    }
    case 'nin_grad_input': {
      // dx(C, N) = W^T(C, U) dz(U, N); W (U, C) as stored: A[c, u] = W[u * C + c]
      const n = step.positions * step.batch;
      const iTiles = ceilDiv(step.channels, TILE);
      const jTiles = ceilDiv(n, TILE);
      return [{
        file: 'nin_grad', entry: 'main', constants: { A_WEIGHTS: 1, B_K_FAST: 0 },
        params: uniform([at.weight(step.weight), 1, step.channels, at.tensor(step.preActGrad), n, 1, at.tensor(step.inputGrad), 0, step.channels, n, step.units, iTiles, jTiles, ceilDiv(step.units, K_CHUNK) * K_CHUNK, 1, iTiles * jTiles]),
        workgroups: grid(iTiles * jTiles),
      }];
    }
    case 'nin_grad_weight': {
      // dW(U, C) = dz(U, N) x^T(N, C): A[u, n] = dz[u * N + n], B[n, c] = x[c * N + n]
      const n = step.positions * step.batch;
      const iTiles = ceilDiv(step.units, TILE);
      const jTiles = ceilDiv(step.channels, TILE);
      const { slices, kPer, scratchBytes } = ninGradWeightSplit(step);
      const params = uniform([at.tensor(step.preActGrad), n, 1, at.tensor(step.input), 1, n, at.tensor(step.weightGrad), scratchOffset(step, at, scratchBytes), step.units, step.channels, n, iTiles, jTiles, kPer, slices, iTiles * jTiles * slices]);
      const main: BackwardLaunch = { file: 'nin_grad', entry: 'main', constants: { A_WEIGHTS: 0, B_K_FAST: 1 }, params, workgroups: grid(iTiles * jTiles * slices) };
      if (slices === 1) return [main];
      return [main, { file: 'nin_grad', entry: 'reduce', constants: { A_WEIGHTS: 0, B_K_FAST: 1 }, params, workgroups: grid(ceilDiv(step.units * step.channels, FLAT)) }];
    }
  }
}
