/**
 * The img_acts op (src/ops/backward.ts ImgActsStep) on the WASM backend: c/img_acts.c, the conv
 * input gradient (cuda-convnet ImageActs) from the kernel-form weight, with scratch for dz
 * transposed.
 */
import type { ImgActsStep } from '../../../ops/backward.js';
import { filterWeightElements } from '../../../ops/steps.js';
import { checkConvGeometry, operands, type BackwardOp } from './op.js';

export const imgActs: BackwardOp<ImgActsStep> = {
  kind: 'backward',
  check(s, c) {
    const image = checkConvGeometry(c, s);
    c.tensor(s.weight, filterWeightElements(s), 'kernel-form weight');
    c.tensor(s.inputGrad, image, 'input gradient');
  },
  scratch: (k, s) => k.img_acts_scratch_bytes(s.filters, s.outRows, s.outCols, s.batch, s.filterSize),
  run: (k, s, at, scratch) =>
    k.img_acts(
      at.tensor(s.preActGrad), at.weight(s.weight), at.tensor(s.inputGrad), scratch, s.channels, s.rows, s.cols, s.batch,
      s.filters, s.filterSize, s.stride, s.pad, s.outRows, s.outCols,
    ),
  operands: (s) => operands([s.preActGrad, s.weight], [s.inputGrad], [s.preActGrad, s.inputGrad], [s.weight]),
};
