/**
 * The max_pool_grad op (src/ops/backward.ts MaxPoolGradStep) on the WASM backend: c/max_pool_grad.c,
 * every tied maximum of a window getting the gradient.
 */
import type { MaxPoolGradStep } from '../../../ops/backward.js';
import { operands, type BackwardOp } from './op.js';

export const maxPoolGrad: BackwardOp<MaxPoolGradStep> = {
  kind: 'backward',
  check(s, c) {
    c.dims(s.channels, s.rows, s.cols, s.batch, s.poolSize, s.stride, s.outRows, s.outCols);
    if ((s.outRows - 1) * s.stride >= s.rows || (s.outCols - 1) * s.stride >= s.cols) c.fail(`has a pooling window starting outside the ${s.rows}x${s.cols} input`);
    const image = s.channels * s.rows * s.cols * s.batch;
    const out = s.channels * s.outRows * s.outCols * s.batch;
    c.tensor(s.input, image, 'input');
    c.tensor(s.inputGrad, image, 'input gradient');
    c.tensor(s.output, out, 'output');
    c.tensor(s.outputGrad, out, 'output gradient');
  },
  run: (k, s, at) =>
    k.max_pool_grad(at.tensor(s.input), at.tensor(s.output), at.tensor(s.outputGrad), at.tensor(s.inputGrad), s.channels,
      s.rows, s.cols, s.batch, s.poolSize, s.stride, s.outRows, s.outCols),
  operands: (s) => operands([s.input, s.output, s.outputGrad], [s.inputGrad], [s.input, s.output, s.outputGrad, s.inputGrad], []),
};
