/** The max_pool op (src/ops/steps.ts MaxPoolStep) on the WASM backend: c/max_pool.c. */
import type { MaxPoolStep } from '../../../ops/steps.js';
import { unaryOperands, type ForwardOp } from './op.js';

export const maxPool: ForwardOp<MaxPoolStep> = {
  kind: 'forward',
  elements: (s) => ({ input: s.channels * s.rows * s.cols * s.batch, output: s.channels * s.outRows * s.outCols * s.batch }),
  dims: (s) => [s.channels, s.rows, s.cols, s.batch, s.poolSize, s.stride, s.outRows, s.outCols],
  call(k, s, at) {
    const src = at.tensor(s.input);
    const dst = at.tensor(s.output);
    return () => k.max_pool(src, dst, s.channels, s.rows, s.cols, s.batch, s.poolSize, s.stride, s.outRows, s.outCols);
  },
  operands: unaryOperands,
  flops: (s) => maxPool.elements(s).output * (s.poolSize * s.poolSize),
};
