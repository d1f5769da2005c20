/**
 * nin_grad (wgsl/nin_grad.wgsl): the NIN (1x1 conv, dense) gradients as one tiled GEMM,
 * nin_grad_input dx = W^T dz and nin_grad_weight dW = dz x^T, the latter's K split into slices
 * summed into the step's scratch and added up by a reduce pass.
 */
import type { NinGradInputStep, NinGradWeightStep } from '../../../ops/backward.js';
import { ceilDiv, FLAT_WORKGROUP } from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import { backwardParams, scratchOffset, type BackwardLaunch, type BackwardOp, type BackwardShader } from './op.js';

/** Compiled after flat.wgsl and slot_sum.wgsl (the reduce pass). */
export const NIN_GRAD_SHADER: BackwardShader = { files: () => [WGSL.flat, WGSL.slot_sum, WGSL.nin_grad] };

/** The shader's output tile (TILE x TILE) and rows of K per stage (K_CHUNK). */
const TILE = 64;
const K_CHUNK = 16;

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

export const NIN_GRAD_INPUT: BackwardOp<NinGradInputStep> = {
  kind: 'backward',
  weightInArena: true,
  launches(step, at, grid) {
    // dx(C, N) = W^T(C, U) dz(U, N); W (U, C) as stored: A[c, u] = W[u * C + c]
    const n = step.positions * step.batch;
    const iTiles = ceilDiv(step.channels, TILE);
    const jTiles = ceilDiv(n, TILE);
    return [{
      file: 'nin_grad', entry: 'main', constants: { A_WEIGHTS: 1, B_K_FAST: 0 },
      params: backwardParams([at.weight(step.weight), 1, step.channels, at.tensor(step.preActGrad), n, 1, at.tensor(step.inputGrad), 0, step.channels, n, step.units, iTiles, jTiles, ceilDiv(step.units, K_CHUNK) * K_CHUNK, 1, iTiles * jTiles]),
      workgroups: grid(iTiles * jTiles),
    }];
  },
};

export const NIN_GRAD_WEIGHT: BackwardOp<NinGradWeightStep> = {
  kind: 'backward',
  scratchBytes: (step) => ninGradWeightSplit(step).scratchBytes,
  launches(step, at, grid) {
    // dW(U, C) = dz(U, N) x^T(N, C): A[u, n] = dz[u * N + n], B[n, c] = x[c * N + n]
    const n = step.positions * step.batch;
    const iTiles = ceilDiv(step.units, TILE);
    const jTiles = ceilDiv(step.channels, TILE);
    const { slices, kPer, scratchBytes } = ninGradWeightSplit(step);
    const params = backwardParams([at.tensor(step.preActGrad), n, 1, at.tensor(step.input), 1, n, at.tensor(step.weightGrad), scratchOffset(step, at, scratchBytes), step.units, step.channels, n, iTiles, jTiles, kPer, slices, iTiles * jTiles * slices]);
    const main: BackwardLaunch = { file: 'nin_grad', entry: 'main', constants: { A_WEIGHTS: 0, B_K_FAST: 1 }, params, workgroups: grid(iTiles * jTiles * slices) };
    if (slices === 1) return [main];
    return [main, { file: 'nin_grad', entry: 'reduce', constants: { A_WEIGHTS: 0, B_K_FAST: 1 }, params, workgroups: grid(ceilDiv(step.units * step.channels, FLAT_WORKGROUP)) }];
  },
};
