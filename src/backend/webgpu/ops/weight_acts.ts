/**
 * weight_acts (wgsl/weight_acts.wgsl): the weight gradient of a conv, summed per partialSum group
 * and K slice into the step's scratch, then added up by a reduce pass; and weight_grad_layout, its
 * to_param_layout pass from the kernel form (C, k, k, F) to the parameter's layout.
 */
import type { WeightActsStep, WeightGradLayoutStep } from '../../../ops/backward.js';
import { ceilDiv, FLAT_WORKGROUP } from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import { backwardParams, scratchOffset, type BackwardLaunch, type BackwardOp, type BackwardShader } from './op.js';

/** Compiled after weight_layout.wgsl (param_index_of_kernel), flat.wgsl and slot_sum.wgsl (the reduce pass). */
export const WEIGHT_ACTS_SHADER: BackwardShader = { files: () => [WGSL.weight_layout, WGSL.flat, WGSL.slot_sum, WGSL.weight_acts] };

/** Rows of K a slice is a multiple of: whole stages of the largest K_CHUNK. */
const SLICE_ROWS = 16;

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
  const kPer = ceilDiv(ceilDiv(k, wanted), SLICE_ROWS) * SLICE_ROWS;
  const slices = ceilDiv(k, kPer);
  const slots = step.groups * slices;
  return { slices, kPer, scratchBytes: slots > 1 ? 4 * slots * q * step.filters : 0 };
}

export const WEIGHT_ACTS: BackwardOp<WeightActsStep> = {
  kind: 'backward',
  scratchBytes: (step) => weightActsSplit(step).scratchBytes,
  launches(step, at, grid) {
    const q = step.channels * step.filterSize * step.filterSize;
    const t = weightActsTile(step.filters);
    const qTiles = ceilDiv(q, 4 * t.wgQ);
    const fTiles = ceilDiv(step.filters, 4 * t.wgF);
    const { slices, kPer, scratchBytes } = weightActsSplit(step);
    const slots = step.groups * slices;
    const scratch = scratchOffset(step, at, scratchBytes);
    const tiles = qTiles * fTiles * slots;
    const params = backwardParams([
      at.tensor(step.input), at.tensor(step.preActGrad), at.tensor(step.weightGrad), scratch, step.channels, step.rows, step.cols,
      step.batch, step.filters, step.filterSize, step.stride, step.pad, step.outRows, step.outCols, step.colsCC, step.effectivePartialSum, step.groups,
      slices, kPer, q, qTiles, fTiles, tiles, 0, 0, 0,
    ]);
    const main: BackwardLaunch = { file: 'weight_acts', entry: 'main', constants: { WG_F: t.wgF, WG_Q: t.wgQ, K_CHUNK: t.kChunk }, params, workgroups: grid(tiles) };
    if (slots === 1) return [main];
    return [main, { file: 'weight_acts', entry: 'reduce', constants: {}, params, workgroups: grid(ceilDiv(q * step.filters, FLAT_WORKGROUP)) }];
  },
};

export const WEIGHT_GRAD_LAYOUT: BackwardOp<WeightGradLayoutStep> = {
  kind: 'backward',
  launches(step, at, grid) {
    const q = step.channels * step.filterSize * step.filterSize;
    return [{
      file: 'weight_acts', entry: 'to_param_layout', constants: {},
      params: backwardParams([0, 0, at.tensor(step.weightGrad), 0, step.channels, 0, 0, 0, step.filters, step.filterSize, 0, 0, 0, 0, 0, 0, 0, 1, 0, q, 0, 0, 0,
        at.tensor(step.paramGrad), step.weightLayout === 'fckk' ? 0 : 1, step.flipFilters ? 1 : 0]),
      workgroups: grid(ceilDiv(q * step.filters, FLAT_WORKGROUP)),
    }];
  },
};
