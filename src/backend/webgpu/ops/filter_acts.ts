/**
 * filter_acts (wgsl/filter_acts.wgsl, compiled with an arena view, the codes, epilogue.wgsl and
 * gemm.wgsl): cuda-convnet's convolution as a tiled GEMM with the activation and bias fused, K split
 * over slices summed into the step's scratch and added by split_sum where a layer has few tiles.
 * The tile itself is geometry.ts filterActsTile. 3x3 filters at stride 1 run as Winograd where
 * geometry.ts winogradFor says (ops/winograd.ts).
 */
import { ValueError } from '../../../errors.js';
import { shapeSize } from '../../../ndarray.js';
import { BIAS_CODES } from '../../../ops/codes.js';
import { filterWeightElements, paramElements, type FilterActsStep } from '../../../ops/steps.js';
import {
  actOf, arenaRange, arenaRangeOrNull, arenaWeights, ceilDiv, filterActsTile, tensorOf, words, workgroupGrid,
  type KernelLimits, type KernelPlan, type Launch,
} from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import { gemmFamily, type ForwardOp } from './op.js';
import { winogradLaunch, winogradScratchBytes } from './winograd.js';

export const FILTER_ACTS_SHADER = gemmFamily(WGSL.filter_acts, 'stage_rows');

/** Invocations per workgroup of split_sum (the shader's SPLIT_GROUP). */
const SPLIT_GROUP = 256;

/**
 * Bytes of scratch a filter_acts step takes on a device with these limits: the partial sums of
 * split K, 4 * slices * F * N (slices at most the tile's split), or 0 without a split; for a step
 * that runs as Winograd (geometry.ts winogradFor) at least its U, V and M.
 */
export function filterActsScratchBytes(step: FilterActsStep, limits: KernelLimits): number {
  const K = filterWeightElements(step) / step.filters;
  const N = step.outRows * step.outCols * step.batch;
  const t = filterActsTile(step.filters, K, N, step.batch % 4 === 0, limits);
  // a Winograd step (ops/winograd.ts) that falls back to the direct kernel may still split K
  return Math.max(t.split > 1 ? 4 * t.split * step.filters * N : 0, winogradScratchBytes(step, limits));
}

function filterActsLaunch(plan: KernelPlan, step: FilterActsStep, limits: KernelLimits): Launch {
  const range = arenaRange(plan, step, limits);
  const { channels: C, rows: H, cols: W, batch: B, filters: F, filterSize: k, stride: s, pad } = step;
  const { outRows: OH, outCols: OW } = step;
  if (F % 4 !== 0) throw new ValueError(`layer ${step.layer}: filter_acts needs num_filters to be a multiple of 4, but it is ${F}`);
  const winograd = winogradLaunch(plan, step, limits);
  if (winograd !== null) return winograd;
  const arenaW = arenaWeights(plan, step, limits);
  const vec4 = B % 4 === 0 && range.inOff % 4 === 0 && range.outOff % 4 === 0 && (arenaW === null || arenaW.wOff % 4 === 0);
  const K = C * k * k;
  const N = OH * OW * B;
  const t = filterActsTile(F, K, N, vec4, limits);
  const fTiles = ceilDiv(F, 4 * t.rf * t.wgF);
  const baseTiles = fTiles * ceilDiv(N, 4 * t.rn * t.wgN);
  // split K: slices of kPer rows (whole stages, none empty), partial sums in the step's scratch
  // tensor, bound with its input and output; without that tensor (large enough, vec4-aligned where
  // needed) or room in one binding, no split
  let split = 1;
  let kPer = K;
  let scratchOff = 0;
  let bound = { offset: range.offset, size: range.size };
  if (t.split > 1 && step.scratch !== undefined) {
    const per = ceilDiv(ceilDiv(K, t.split), t.kChunk) * t.kChunk;
    const slices = ceilDiv(K, per);
    const scratch = tensorOf(plan, step.scratch);
    const wide = slices > 1 && 4 * shapeSize(scratch.shape) >= 4 * slices * F * N ? arenaRangeOrNull(plan, step, limits) : null;
    if (wide !== null && (!vec4 || (scratch.offset - wide.offset) % 16 === 0)) {
      split = slices;
      kPer = per;
      scratchOff = (scratch.offset - wide.offset) / 4;
      bound = { offset: wide.offset, size: wide.size };
    }
  }
  const inOff = split > 1 ? (tensorOf(plan, step.input).offset - bound.offset) / 4 : range.inOff;
  const outOff = split > 1 ? (tensorOf(plan, step.output).offset - bound.offset) / 4 : range.outOff;
  const tiles = baseTiles * split;
  const act = actOf(step);
  const u = words(26);
  u.u32.set([inOff, outOff, C, H, W, B, F, k, s, pad, OH, OW, K, N, fTiles, tiles, OH * OW, F, scratchOff, kPer, split, baseTiles]);
  u.f32.set(act.params, 22);
  if (arenaW !== null) u.u32.set([arenaW.wOff, arenaW.bOff], 24);
  const epilogue = { ACT: act.code, BIAS: BIAS_CODES[step.biasMode], ...(arenaW !== null ? { W_ARENA: 1 } : {}) };
  return {
    family: 'filter_acts',
    entryPoint: 'main',
    arena: vec4 ? 'vec4' : 'scalar',
    constants: { ...epilogue, WG_N: t.wgN, WG_F: t.wgF, K_CHUNK: t.kChunk, RF: t.rf, RN: t.rn, SPLIT: split },
    defines: { W_ROW: t.rf * t.wgF, X_ROW: t.rn * t.wgN },
    uniform: u.buffer,
    workgroups: workgroupGrid(tiles, limits.maxComputeWorkgroupsPerDimension),
    arenaRange: bound,
    then: split > 1
      ? [{
          entryPoint: 'split_sum',
          constants: epilogue,
          workgroups: workgroupGrid(ceilDiv((F * N) / (vec4 ? 4 : 1), SPLIT_GROUP), limits.maxComputeWorkgroupsPerDimension),
        }]
      : undefined,
    weight: arenaW !== null ? undefined : { param: step.weight, layout: { kind: 'conv', step } },
    bias: arenaW !== null || step.biasMode === 'none' ? undefined : { param: step.bias, layout: { kind: 'raw', elements: paramElements(step).bias } },
  };
}

export const FILTER_ACTS: ForwardOp<FilterActsStep> = {
  kind: 'forward',
  launch: filterActsLaunch,
  scratchBytes: filterActsScratchBytes,
};
