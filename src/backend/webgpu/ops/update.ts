/**
 * The ops of wgsl/update.wgsl (compiled with flat.wgsl) over a parameter of `count` values: the
 * penalty (L1, L2; one workgroup adds it to the loss) and the update rules (one thread per value;
 * the learning rate rewritten before each run).
 */
import { ValueError } from '../../../errors.js';
import { UPDATE_STATE, type PenaltyStep, type UpdateRule, type UpdateStep } from '../../../ops/training.js';
import { ceilDiv, FLAT_WORKGROUP } from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import type { ShaderFamily, TrainingOp } from './op.js';

/** Compiled after flat.wgsl. */
export const UPDATE_SHADER: ShaderFamily = { layout: 'copy', files: () => [WGSL.flat, WGSL.update] };

/** update.wgsl's RULE codes. */
export const UPDATE_RULE_CODES: Readonly<Record<UpdateRule, number>> = Object.freeze({
  sgd: 0, momentum: 1, nesterov_momentum: 2, adagrad: 3, rmsprop: 4, adadelta: 5, adam: 6, adamax: 7,
});

/** Byte offset of `lr` in update.wgsl's Params (written before each run). */
const UPDATE_LR_BYTE = 32;

/** update.wgsl's uniform: 8 u32 words, then lr, momentum, rho, beta1, beta2, eps, l1, l2, 1 - rho, 1 - beta1, 1 - beta2 (f32; the differences in float64). */
function updateUniform(f: { p: number; g: number; s0?: number; s1?: number; count: number; loss?: number; momentum?: number; rho?: number; beta1?: number; beta2?: number; eps?: number; l1?: number; l2?: number }): ArrayBuffer {
  const buf = new ArrayBuffer(80);
  new Uint32Array(buf).set([f.p, f.g, f.s0 ?? 0, f.s1 ?? 0, f.count, f.loss ?? 0, 0, 0]);
  new Float32Array(buf).set([0, f.momentum ?? 0, f.rho ?? 0, f.beta1 ?? 0, f.beta2 ?? 0, f.eps ?? 0, f.l1 ?? 0, f.l2 ?? 0,
    1 - (f.rho ?? 0), 1 - (f.beta1 ?? 0), 1 - (f.beta2 ?? 0), 0], 8);
  return buf;
}

export const PENALTY: TrainingOp<PenaltyStep> = {
  kind: 'training',
  passes(step, at) {
    const uniform = updateUniform({
      p: at('param', step.param, step.count), g: at('grad', step.grad, step.count), count: step.count,
      loss: at('loss', step.loss, 1), l1: step.l1, l2: step.l2,
    });
    // one workgroup: the sum over the parameter in a fixed order
    return [{ family: 'update', entryPoint: 'penalty', constants: {}, uniform, workgroups: [1, 1] }];
  },
};

export const UPDATE: TrainingOp<UpdateStep> = {
  kind: 'training',
  passes(step, at, grid) {
    if (!Object.prototype.hasOwnProperty.call(UPDATE_RULE_CODES, step.rule)) throw new ValueError(`step ${step.index} (${step.layer}): unknown update rule=${String(step.rule)}`);
    const states = UPDATE_STATE[step.rule];
    if (!Array.isArray(step.state) || step.state.length !== states) {
      throw new ValueError(`step ${step.index} (${step.layer}): the ${step.rule} update keeps ${states} state tensors, but state=${JSON.stringify(step.state)}`);
    }
    const n = step.count;
    const uniform = updateUniform({
      p: at('param', step.param, n), g: at('grad', step.grad, n),
      s0: states > 0 ? at('state[0]', step.state[0], n) : 0, s1: states > 1 ? at('state[1]', step.state[1], n) : 0,
      count: n, momentum: step.momentum, rho: step.rho, beta1: step.beta1, beta2: step.beta2, eps: step.epsilon,
    });
    return [{
      family: 'update', entryPoint: 'update', constants: { RULE: UPDATE_RULE_CODES[step.rule] }, uniform, workgroups: grid(ceilDiv(n, FLAT_WORKGROUP)),
      perRun: { kind: 'lr', byte: UPDATE_LR_BYTE, rule: step.rule, beta1: step.beta1, beta2: step.beta2 },
    }];
  },
};
