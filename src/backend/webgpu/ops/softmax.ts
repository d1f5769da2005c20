/**
 * The ops of wgsl/softmax.wgsl over the units of each example of a (U, B) tensor: the forward
 * softmax (one thread per example) and the training plans' softmax_grad and loss (one workgroup:
 * a deterministic sum).
 */
import { ValueError } from '../../../errors.js';
import type { LossKind, LossStep, SoftmaxGradStep, SoftmaxStep } from '../../../ops/training.js';
import { arenaRange, ceilDiv, checkCount, words, workgroupGrid } from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import { copyFamily, type ForwardOp, TrainingOp } from './op.js';

export const SOFTMAX_SHADER = copyFamily(WGSL.softmax);

/** Examples per workgroup of softmax.wgsl's softmax and softmax_grad (its COLUMN_GROUP). */
export const COLUMN_GROUP = 64;

/** softmax.wgsl's loss kind codes. */
export const LOSS_KIND_CODES: Readonly<Record<LossKind, number>> = Object.freeze({
  categorical_crossentropy: 0, binary_crossentropy: 1, squared_error: 2, binary_hinge: 3, multiclass_hinge: 4,
});

/** The uniform of wgsl/softmax.wgsl (struct Params): 12 u32 words, the weight (f32) at word 12; 16 words. */
export function softmaxUniform(f: { inOff: number; outOff: number; auxOff?: number; lossOff?: number; units: number; batch: number; kind?: number; fused?: boolean; indexTargets?: boolean; weight?: number }): ArrayBuffer {
  const u = words(16);
  u.u32.set([f.inOff, f.outOff, f.auxOff ?? 0, f.lossOff ?? 0, f.units, f.batch, f.kind ?? 0, f.fused ? 1 : 0, f.indexTargets ? 1 : 0]);
  u.f32[12] = f.weight ?? 1;
  return u.buffer;
}

export const SOFTMAX: ForwardOp<SoftmaxStep> = {
  kind: 'forward',
  launch(plan, step, limits) {
    const range = arenaRange(plan, step, limits);
    checkCount(plan, step, step.units * step.batch, step.units * step.batch);
    if (step.units < 1) throw new ValueError(`layer ${step.layer}: softmax needs at least one unit, but units=${step.units}`);
    return {
      family: 'softmax',
      entryPoint: 'softmax',
      constants: {},
      uniform: softmaxUniform({ inOff: range.inOff, outOff: range.outOff, units: step.units, batch: step.batch }),
      workgroups: workgroupGrid(Math.max(1, ceilDiv(step.batch, COLUMN_GROUP)), limits.maxComputeWorkgroupsPerDimension),
      arenaRange: { offset: range.offset, size: range.size },
    };
  },
};

export const SOFTMAX_GRAD: TrainingOp<SoftmaxGradStep> = {
  kind: 'training',
  passes(step, at, grid) {
    const n = step.units * step.batch;
    const uniform = softmaxUniform({
      inOff: at('output', step.output, n), outOff: at('inputGrad', step.inputGrad, n), auxOff: at('outputGrad', step.outputGrad, n),
      units: step.units, batch: step.batch,
    });
    return [{ family: 'softmax', entryPoint: 'softmax_grad', constants: {}, uniform, workgroups: grid(ceilDiv(step.batch, COLUMN_GROUP)) }];
  },
};

export const LOSS: TrainingOp<LossStep> = {
  kind: 'training',
  passes(step, at) {
    const { units: U, batch: B } = step;
    if (!Object.prototype.hasOwnProperty.call(LOSS_KIND_CODES, step.kind)) throw new ValueError(`step ${step.index} (${step.layer}): unknown loss kind=${String(step.kind)}`);
    if (step.fusedSoftmax && step.kind !== 'categorical_crossentropy') {
      throw new ValueError(`step ${step.index} (${step.layer}): fusedSoftmax fuses a softmax with categorical_crossentropy only, but kind=${step.kind}`);
    }
    if (U < 1 || B < 1) throw new ValueError(`step ${step.index} (${step.layer}): the loss needs units >= 1 and batch >= 1, but units=${U}, batch=${B}`);
    const perExample = step.kind === 'categorical_crossentropy' || step.kind === 'multiclass_hinge';
    const uniform = softmaxUniform({
      inOff: at('prediction', step.prediction, U * B), outOff: at('outputGrad', step.outputGrad, U * B),
      auxOff: at('targets', step.targets, step.targetForm === 'index' ? B : U * B), lossOff: at('loss', step.loss, 1),
      units: U, batch: B, kind: LOSS_KIND_CODES[step.kind], fused: step.fusedSoftmax, indexTargets: step.targetForm === 'index',
      weight: step.aggregate === 'sum' ? 1 : 1 / (perExample ? B : U * B),
    });
    // one workgroup: the sum over the batch in a fixed order
    return [{ family: 'softmax', entryPoint: 'loss', constants: {}, uniform, workgroups: [1, 1] }];
  },
};
