/** img_acts (wgsl/img_acts.wgsl): the input gradient of a conv, dx = the transposed convolution of dz with the weights. */
import type { ImgActsStep } from '../../../ops/backward.js';
import { ceilDiv } from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import { backwardParams, type BackwardOp, type BackwardShader } from './op.js';

export const IMG_ACTS_SHADER: BackwardShader = { files: () => [WGSL.img_acts] };

/** img_acts' workgroup shape (WG_C, WG_N threads, K_CHUNK filters per stage) for C channels, and its workgroup memory. */
export function imgActsTile(channels: number): { wgC: number; wgN: number; kChunk: number; workgroupBytes: number } {
  const [wgC, wgN, kChunk] = channels > 16 ? [16, 16, 16] : channels > 8 ? [4, 64, 8] : [2, 128, 2];
  return { wgC, wgN, kChunk, workgroupBytes: 16 * (kChunk * (wgC + wgN) + 4 * wgN) };
}

export const IMG_ACTS: BackwardOp<ImgActsStep> = {
  kind: 'backward',
  weightInArena: true,
  launches(step, at, grid) {
    const n = step.rows * step.cols * step.batch;
    const t = imgActsTile(step.channels);
    const cTiles = ceilDiv(step.channels, 4 * t.wgC);
    const tiles = cTiles * ceilDiv(n, 4 * t.wgN);
    const vec4 = step.batch % 4 === 0 && at.tensor(step.preActGrad) % 4 === 0 && at.tensor(step.inputGrad) % 4 === 0;
    return [{
      file: 'img_acts', entry: vec4 ? 'main_vec4' : 'main_scalar', constants: { WG_C: t.wgC, WG_N: t.wgN, K_CHUNK: t.kChunk },
      params: backwardParams([
        at.tensor(step.preActGrad), at.tensor(step.inputGrad), at.weight(step.weight), step.channels, step.rows, step.cols, step.batch, step.filters,
        step.filterSize, step.stride, step.pad, step.outRows, step.outCols, n, cTiles, tiles,
      ]),
      workgroups: grid(tiles),
    }];
  },
};
