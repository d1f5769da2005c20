/**
 * nin (wgsl/nin.wgsl, compiled with an arena view, the codes, epilogue.wgsl, stage_flat.wgsl,
 * gemm.wgsl and gemm_units.wgsl): a NIN (1x1 conv) or dense layer, out(U, N) = W(U, C) x(C, N), as a tiled GEMM with the activation and
 * bias fused. Its tile is geometry.ts ninTile.
 */
import { BIAS_CODES } from '../../../ops/codes.js';
import { paramElements, type NinStep } from '../../../ops/steps.js';
import {
  actOf, arenaRange, arenaWeights, ceilDiv, ninTile, words, workgroupGrid,
  type KernelLimits, type KernelPlan, type Launch,
} from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import { gemmFamily, type ForwardOp } from './op.js';

export const NIN_SHADER = gemmFamily(WGSL.nin, 'stage_flat', true);

function ninLaunch(plan: KernelPlan, step: NinStep, limits: KernelLimits): Launch {
  const range = arenaRange(plan, step, limits);
  const { channels: C, units: U, positions: P, batch: B } = step;
  const N = P * B;
  const vec4 = N % 4 === 0 && range.inOff % 4 === 0 && range.outOff % 4 === 0;
  const { wgU, ru, wgN, kChunk } = ninTile(U, limits);
  const uTiles = ceilDiv(U, 4 * ru * wgU);
  const tiles = uTiles * ceilDiv(N, 4 * wgN);
  const act = actOf(step);
  const arenaW = arenaWeights(plan, step, limits);
  const u = words(14);
  u.u32.set([range.inOff, range.outOff, C, U, N, B, P, uTiles, tiles, 4 * ceilDiv(U, 4)]);
  u.f32.set(act.params, 10);
  if (arenaW !== null) u.u32.set([arenaW.wOff, arenaW.bOff], 12);
  return {
    family: 'nin',
    entryPoint: 'main',
    arena: vec4 ? 'vec4' : 'scalar',
    constants: { ACT: act.code, BIAS: BIAS_CODES[step.biasMode], WG_N: wgN, WG_U: wgU, RU: ru, K_CHUNK: kChunk, ...(arenaW !== null ? { W_ARENA: 1 } : {}) },
    defines: { W_ROW: ru * wgU, X_ROW: wgN },
    uniform: u.buffer,
    workgroups: workgroupGrid(tiles, limits.maxComputeWorkgroupsPerDimension),
    arenaRange: { offset: range.offset, size: range.size },
    weight: arenaW !== null ? undefined : { param: step.weight, layout: { kind: 'nin', units: U, channels: C, weightLayout: step.weightLayout ?? 'uc' } },
    bias: arenaW !== null || step.biasMode === 'none' ? undefined : { param: step.bias, layout: { kind: 'raw', elements: paramElements(step).bias } },
  };
}

export const NIN: ForwardOp<NinStep> = { kind: 'forward', launch: ninLaunch };
