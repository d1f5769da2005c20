/**
 * The nin op (src/ops/steps.ts NinStep) on the WASM backend: c/nin.c, a GEMM fused with bias and
 * nonlinearity that reads the (U, C) weight (an inference plan keeps a dense layer's (C, U) weight
 * transposed: layout.ts Slot).
 */
import { BIAS_CODES, activationOf } from '../../../ops/codes.js';
import type { NinStep } from '../../../ops/steps.js';
import { checkFusedParams, fusedOperands, fusedParams, type ForwardOp } from './op.js';

export const nin: ForwardOp<NinStep> = {
  kind: 'forward',
  elements: (s) => ({ input: s.channels * s.positions * s.batch, output: s.units * s.positions * s.batch }),
  dims: (s) => [s.channels, s.units, s.positions, s.batch],
  check(s, fail) {
    if (!(s.weightLayout === undefined || s.weightLayout === 'uc' || s.weightLayout === 'cu')) fail(`has weightLayout ${String(s.weightLayout)}`);
  },
  checkFused: checkFusedParams,
  params: (s) => fusedParams(s, s.weightLayout === 'cu' ? { kind: 'units', units: s.units, channels: s.channels } : { kind: 'raw' }),
  call(k, s, at) {
    const src = at.tensor(s.input);
    const dst = at.tensor(s.output);
    const { code: act, params: [p0, p1] } = activationOf(s.nonlinearity, s.layer);
    const mode = BIAS_CODES[s.biasMode];
    const { weight: w, bias: b } = at;
    return () => k.nin(src, w, b, dst, s.channels, s.units, s.positions, s.batch, mode, act, p0, p1);
  },
  operands: fusedOperands,
  flops: (s) => 2 * s.channels * s.units * s.positions * s.batch,
};
