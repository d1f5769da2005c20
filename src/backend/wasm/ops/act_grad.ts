/**
 * The bias_act_grad op (src/ops/backward.ts BiasActGradStep) on the WASM backend: c/act_grad.c,
 * the nonlinearity's derivative from the forward output fused with the bias gradient.
 */
import type { BiasActGradStep } from '../../../ops/backward.js';
import { activationOf, BIAS_CODES } from '../../../ops/codes.js';
import { operands, type BackwardOp } from './op.js';

export const biasActGrad: BackwardOp<BiasActGradStep> = {
  kind: 'backward',
  check(s, c) {
    c.dims(s.units, s.positions, s.batch);
    activationOf(s.nonlinearity, s.layer);
    const n = s.units * s.positions * s.batch;
    c.tensor(s.output, n, 'forward output');
    c.tensor(s.outputGrad, n, 'output gradient');
    c.tensor(s.preActGrad, n, 'pre-activation gradient');
    if (s.biasMode !== 'none') c.tensor(s.biasGrad, s.biasMode === 'tied' ? s.units : s.units * s.positions, 'bias gradient');
  },
  run(k, s, at) {
    const act = activationOf(s.nonlinearity, s.layer);
    return k.bias_act_grad(
      at.tensor(s.output), at.tensor(s.outputGrad), at.tensor(s.preActGrad), s.biasGrad >= 0 ? at.tensor(s.biasGrad) : 0,
      s.units, s.positions, s.batch, BIAS_CODES[s.biasMode], act.code, act.params[0], act.params[1],
    );
  },
  operands(s) {
    const bias = s.biasMode === 'none' ? [] : [s.biasGrad];
    return operands([s.output, s.outputGrad], [s.preActGrad, ...bias], [s.output, s.outputGrad, s.preActGrad], bias);
  },
};
