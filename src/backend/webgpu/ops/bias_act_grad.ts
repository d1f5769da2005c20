/**
 * bias_act_grad (wgsl/bias_act_grad.wgsl): the gradient through a step's activation and its bias
 * sums, each row cut into segments of one workgroup; with more than one segment a row, a reduce
 * pass adds the segments' sums kept in the step's scratch.
 */
import type { BiasActGradStep } from '../../../ops/backward.js';
import { activationOf, BIAS_CODES } from '../../../ops/codes.js';
import { ceilDiv } from '../geometry.js';
import { WGSL, WGSL_CODES } from '../shaders.generated.js';
import { backwardParams, scratchOffset, type BackwardLaunch, type BackwardOp, type BackwardShader } from './op.js';

/** Compiled after the generated codes (ACT_*, BIAS_* of src/ops/codes.ts) and epilogue.wgsl (override ACT, expm1_accurate). */
export const BIAS_ACT_GRAD_SHADER: BackwardShader = { files: () => [WGSL_CODES, WGSL.epilogue, WGSL.bias_act_grad] };

/** Elements per workgroup of bias_act_grad (a multiple of its 256 threads). */
const BIAS_SEGMENT = 4096;

/**
 * How bias_act_grad cuts its rows (F of positions x batch, or F x positions of batch when untied)
 * into segments of at most 4096 elements, one workgroup each, and the float32 scratch of the
 * segments' bias sums (0 with one segment per row or no bias).
 */
export function biasActGradSplit(step: Pick<BiasActGradStep, 'units' | 'positions' | 'batch' | 'biasMode'>): { rows: number; rowLen: number; segs: number; segLen: number; scratchBytes: number } {
  const untied = step.biasMode === 'untied';
  const rows = untied ? step.units * step.positions : step.units;
  const rowLen = untied ? step.batch : step.positions * step.batch;
  const segs = ceilDiv(rowLen, BIAS_SEGMENT);
  const segLen = segs === 1 ? ceilDiv(rowLen, 256) * 256 : BIAS_SEGMENT;
  return { rows, rowLen, segs, segLen, scratchBytes: segs > 1 && step.biasMode !== 'none' ? 4 * rows * segs : 0 };
}

export const BIAS_ACT_GRAD: BackwardOp<BiasActGradStep> = {
  kind: 'backward',
  scratchBytes: (step) => biasActGradSplit(step).scratchBytes,
  launches(step, at, grid) {
    const act = activationOf(step.nonlinearity, step.layer);
    const { rows, rowLen, segs, segLen, scratchBytes } = biasActGradSplit(step);
    const constants = { ACT: act.code, BIAS: BIAS_CODES[step.biasMode] };
    const params = backwardParams([
      at.tensor(step.output), at.tensor(step.outputGrad), at.tensor(step.preActGrad), step.biasGrad >= 0 ? at.tensor(step.biasGrad) : 0, rows, rowLen,
      act.params[0], act.params[1], segs, segLen, scratchOffset(step, at, scratchBytes),
    ], [6, 7]);
    const main: BackwardLaunch = { file: 'bias_act_grad', entry: 'main', constants, params, workgroups: grid(rows * segs) };
    if (scratchBytes === 0) return [main];
    return [main, { file: 'bias_act_grad', entry: 'reduce', constants, params, workgroups: grid(ceilDiv(rows, 256)) }];
  },
};
