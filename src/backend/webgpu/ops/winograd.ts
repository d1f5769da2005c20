/**
 * winograd (wgsl/winograd.wgsl, compiled like nin: the vec4 arena view, the codes, epilogue.wgsl,
 * stage_flat.wgsl, gemm.wgsl and gemm_units.wgsl): filter_acts steps with 3x3 filters at stride 1 as Winograd
 * F(2x2, 3x3) or F(4x4, 3x3), four dispatches in one launch (weight, input transforms, 16 or 36
 * batched GEMMs, output transform with the bias and activation), U, V and M in the step's scratch
 * tensor. Which steps, and which variant, is geometry.ts winogradFor; filter_acts.ts runs this launch
 * where it applies and the direct kernel otherwise (no scratch tensor large enough, tensors not
 * 16-byte aligned, more than one binding).
 */
import { shapeSize } from '../../../ndarray.js';
import { BIAS_CODES } from '../../../ops/codes.js';
import { paramElements, type FilterActsStep } from '../../../ops/steps.js';
import {
  actOf, arenaRangeOrNull, arenaWeights, ceilDiv, GEMM_THREADS, ninTile, ninTileShape, tensorOf, winogradFor, words, workgroupGrid,
  type KernelLimits, type KernelPlan, type Launch, type NinTile,
} from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import { gemmFamily } from './op.js';

export const WINOGRAD_SHADER = gemmFamily(WGSL.winograd, 'stage_flat', true);

/** Threads per workgroup of the transforms (the shader's TRANSFORM_GROUP). */
const TRANSFORM_GROUP = 64;

/** Bytes of scratch a filter_acts step takes for Winograd on a device with these limits (0: it runs direct). */
export function winogradScratchBytes(step: FilterActsStep, limits: KernelLimits): number {
  return winogradFor(step, limits)?.bytes ?? 0;
}

/**
 * The GEMM tile of the 16 or 36 batched GEMMs (F, C) x (C, N): nin's (geometry.ts ninTile, F units)
 * with half its threads, WG_N = 128 / WG_U, and at most 2 groups of 4 units per thread (RU), so
 * tiles of 64 x 64 and many workgroups. On the H200 (kernel ms, batch 128): L5 (F 384) as F(2x2)
 * 0.943 -> 0.838 with WG_N 16 instead of 32 (RU 4); as F(4x4) with WG_N 16: RU 4 0.526, RU 3 0.569,
 * RU 2 0.470 (WG_N 32: 0.553, 8: 0.603; 16 channels per stage 0.556, 4: 0.649); W1 (128 x 28 x 28,
 * F 128, pad 1) as F(4x4): RU 4 0.387, RU 2 0.353 (the direct kernel: L5 1.251, W1 0.838).
 * limits.ninTile forces fields.
 */
export function winogradGemmTile(F: number, limits: KernelLimits): NinTile {
  const shape = ninTileShape(F);
  return ninTile(F, { ...limits, ninTile: { wgN: GEMM_THREADS / 2 / shape.wgU, ru: Math.min(2, shape.ru), ...limits.ninTile } });
}

/** The Winograd launch of a filter_acts step, or null where it runs the direct kernel. */
export function winogradLaunch(plan: KernelPlan, step: FilterActsStep, limits: KernelLimits): Launch | null {
  const g = winogradFor(step, limits);
  if (g === null || step.scratch === undefined) return null;
  const scratch = tensorOf(plan, step.scratch);
  if (4 * shapeSize(scratch.shape) < g.bytes) return null;
  const range = arenaRangeOrNull(plan, step, limits);
  if (range === null) return null;
  const rel = [tensorOf(plan, step.input), tensorOf(plan, step.output), scratch].map((t) => t.offset - range.offset);
  if (!rel.every((b) => b % 16 === 0)) return null;
  const [inOff, outOff, sOff] = rel.map((b) => b / 4);
  const { channels: C, rows: H, cols: W, batch: B, filters: F, pad, outRows: OH, outCols: OW } = step;
  const N = g.n;
  const t = winogradGemmTile(F, limits);
  const uTiles = ceilDiv(F, 4 * t.ru * t.wgU);
  const tiles = uTiles * ceilDiv(N, 4 * t.wgN);
  const arenaW = arenaWeights(plan, step, limits);
  const act = actOf(step);
  const u = words(24);
  u.u32.set([inOff, outOff, C, H, W, B, F, pad, OH, OW, g.tilesH, g.tilesW, N, sOff, sOff + g.vAt, sOff + g.mAt, uTiles, tiles, OH * OW, g.points]);
  u.f32.set(act.params, 20);
  if (arenaW !== null) u.u32.set([arenaW.wOff, arenaW.bOff], 22);
  const wArena: Record<string, number> = arenaW !== null ? { W_ARENA: 1 } : {};
  const grid = (count: number): [number, number] => workgroupGrid(Math.max(1, count), limits.maxComputeWorkgroupsPerDimension);
  const transform = (threads: number): [number, number] => grid(ceilDiv(threads, TRANSFORM_GROUP));
  const T = g.tilesH * g.tilesW;
  // the transforms' entry points: F(2x2)'s plain names, F(4x4)'s with the suffix _f4
  const suffix = g.m === 4 ? '_f4' : '';
  return {
    family: 'winograd',
    entryPoint: `weight_transform${suffix}`,
    arena: 'vec4',
    constants: wArena,
    defines: { W_ROW: t.ru * t.wgU, X_ROW: t.wgN },
    uniform: u.buffer,
    workgroups: transform((C * F) / 4),
    arenaRange: { offset: range.offset, size: range.size },
    then: [
      { entryPoint: `input_transform${suffix}`, constants: {}, workgroups: transform((C * T * B) / 4) },
      { entryPoint: 'gemm', constants: { WG_N: t.wgN, WG_U: t.wgU, RU: t.ru, K_CHUNK: t.kChunk }, workgroups: grid(g.points * tiles) },
      { entryPoint: `output_transform${suffix}`, constants: { ACT: act.code, BIAS: BIAS_CODES[step.biasMode], ...wArena }, workgroups: transform((F * T * B) / 4) },
    ],
    weight: arenaW !== null ? undefined : { param: step.weight, layout: { kind: 'conv', step } },
    bias: arenaW !== null || step.biasMode === 'none' ? undefined : { param: step.bias, layout: { kind: 'raw', elements: paramElements(step).bias } },
  };
}
