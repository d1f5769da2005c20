/** max_pool_grad (wgsl/max_pool_grad.wgsl): the input gradient of a max pool, per input element. */
import type { MaxPoolGradStep } from '../../../ops/backward.js';
import { ceilDiv } from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import { backwardParams, type BackwardOp, type BackwardShader } from './op.js';

export const MAX_POOL_GRAD_SHADER: BackwardShader = { files: () => [WGSL.max_pool_grad] };

export const MAX_POOL_GRAD: BackwardOp<MaxPoolGradStep> = {
  kind: 'backward',
  launches(step, at, grid) {
    const offs = [at.tensor(step.input), at.tensor(step.output), at.tensor(step.outputGrad), at.tensor(step.inputGrad)];
    const vec4 = step.batch % 4 === 0 && offs.every((o) => o % 4 === 0);
    const items = (step.channels * step.rows * step.cols * step.batch) / (vec4 ? 4 : 1);
    return [{
      file: 'max_pool_grad', entry: vec4 ? 'main_vec4' : 'main_scalar', constants: {},
      params: backwardParams([...offs, step.channels, step.rows, step.cols, step.batch, step.poolSize, step.stride, step.outRows, step.outCols, items]),
      workgroups: grid(ceilDiv(items, 64)),
    }];
  },
};
