/**
 * The ops of c/weight_acts.c on the WASM backend (src/ops/backward.ts): weight_acts, the conv weight
 * gradient in partial sums over groups of cuda-convnet's module grid (its scratch), and
 * weight_grad_layout, that gradient back to the parameter's layout.
 */
import type { WeightActsStep, WeightGradLayoutStep } from '../../../ops/backward.js';
import { filterWeightElements } from '../../../ops/steps.js';
import { checkConvGeometry, checkRelayout, operands, type BackwardOp } from './op.js';

export const weightActs: BackwardOp<WeightActsStep> = {
  kind: 'backward',
  check(s, c) {
    const image = checkConvGeometry(c, s);
    c.dims(s.effectivePartialSum);
    c.tensor(s.input, image, 'input');
    c.tensor(s.weightGrad, filterWeightElements(s), 'kernel-form weight gradient');
  },
  scratch: (_k, s) => s.scratchBytes,
  run: (k, s, at, scratch) =>
    k.weight_acts(
      at.tensor(s.input), at.tensor(s.preActGrad), at.tensor(s.weightGrad), scratch, s.channels, s.rows,
      s.cols, s.batch, s.filters, s.filterSize, s.stride, s.pad, s.outRows, s.outCols, s.effectivePartialSum,
    ),
  operands: (s) => operands([s.input, s.preActGrad], [s.weightGrad], [s.input, s.preActGrad], [s.weightGrad]),
};

export const weightGradLayout: BackwardOp<WeightGradLayoutStep> = {
  kind: 'backward',
  check(s, c) {
    checkRelayout(c, s, s.weightGrad, 'kernel-form weight gradient', s.paramGrad, 'parameter gradient');
  },
  run: (k, s, at) =>
    k.weight_grad_layout(at.tensor(s.weightGrad), at.tensor(s.paramGrad), s.channels, s.filterSize, s.filters, s.weightLayout === 'fckk' ? 0 : 1, s.flipFilters ? 1 : 0),
  operands: (s) => operands([s.weightGrad], [s.paramGrad], [], [s.weightGrad, s.paramGrad]),
};
