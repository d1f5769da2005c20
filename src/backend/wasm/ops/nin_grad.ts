/**
 * The ops of c/nin_grad.c on the WASM backend (src/ops/backward.ts): nin_grad_input and
 * nin_grad_weight, the NIN gradients as GEMMs over N = positions * batch columns.
 */
import type { NinGradInputStep, NinGradWeightStep } from '../../../ops/backward.js';
import { operands, type BackwardOp, type TrainingChecks } from './op.js';

/** Checks the sizes and the pre-activation gradient; returns N. */
function checkColumns(c: TrainingChecks, s: NinGradInputStep | NinGradWeightStep): number {
  c.dims(s.channels, s.units, s.positions, s.batch);
  const N = s.positions * s.batch;
  c.tensor(s.preActGrad, s.units * N, 'pre-activation gradient');
  return N;
}

export const ninGradInput: BackwardOp<NinGradInputStep> = {
  kind: 'backward',
  check(s, c) {
    const N = checkColumns(c, s);
    c.tensor(s.weight, s.units * s.channels, '(U, C) weight');
    c.tensor(s.inputGrad, s.channels * N, 'input gradient');
  },
  run: (k, s, at) => k.nin_grad_input(at.tensor(s.preActGrad), at.weight(s.weight), at.tensor(s.inputGrad), s.channels, s.units, s.positions * s.batch),
  operands: (s) => operands([s.preActGrad, s.weight], [s.inputGrad], [s.preActGrad, s.inputGrad], [s.weight]),
};

export const ninGradWeight: BackwardOp<NinGradWeightStep> = {
  kind: 'backward',
  check(s, c) {
    const N = checkColumns(c, s);
    c.tensor(s.input, s.channels * N, 'input');
    c.tensor(s.weightGrad, s.units * s.channels, 'weight gradient');
  },
  run: (k, s, at) => k.nin_grad_weight(at.tensor(s.input), at.tensor(s.preActGrad), at.tensor(s.weightGrad), s.channels, s.units, s.positions * s.batch),
  operands: (s) => operands([s.input, s.preActGrad], [s.weightGrad], [s.input, s.preActGrad], [s.weightGrad]),
};
