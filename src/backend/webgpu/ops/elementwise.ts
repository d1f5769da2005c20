/**
 * The flat ops of wgsl/elementwise.wgsl (compiled with the codes, epilogue.wgsl, flat.wgsl and
 * weight_layout.wgsl), one thread per element: the forward copy, activation, dropout and
 * global_pool, and the training plans' weight_form and global_pool_grad.
 */
import { ValueError } from '../../../errors.js';
import { activationOf } from '../../../ops/codes.js';
import type { KernelStep } from '../../../ops/steps.js';
import type { ActivationStep, CopyStep, DropoutStep, GlobalPoolGradStep, GlobalPoolStep, WeightFormStep } from '../../../ops/training.js';
import { arenaRange, ceilDiv, checkCount, FLAT_WORKGROUP, words, workgroupGrid, type KernelLimits, type KernelPlan, type Launch } from '../geometry.js';
import { WGSL, WGSL_CODES } from '../shaders.generated.js';
import type { ForwardOp, ShaderFamily, TrainingOp } from './op.js';

/** Compiled after the codes, epilogue.wgsl (the activations), flat.wgsl and weight_layout.wgsl (weight_form). */
export const ELEMENTWISE_SHADER: ShaderFamily = { layout: 'copy', files: () => [WGSL_CODES, WGSL.epilogue, WGSL.flat, WGSL.weight_layout, WGSL.elementwise] };

/**
 * The uniform of wgsl/elementwise.wgsl (struct Params): 14 u32 words, act (2 f32) at word 14,
 * scale (f32) at word 16; 18 words in all.
 */
export function elementwiseUniform(fields: {
  inOff: number; outOff: number; count: number; seed?: number; threshold?: number; counter?: number;
  channels?: number; positions?: number; batch?: number; filterSize?: number; filters?: number; layout?: number; flip?: number;
  act?: readonly [number, number]; scale?: number;
}): ArrayBuffer {
  const u = words(18);
  const f = fields;
  u.u32.set([f.inOff, f.outOff, f.count, f.seed ?? 0, f.threshold ?? 0, f.counter ?? 0, f.channels ?? 0, f.positions ?? 0, f.batch ?? 0, f.filterSize ?? 0, f.filters ?? 0, f.layout ?? 0, f.flip ?? 0, 0]);
  u.f32.set(f.act ?? [0, 0], 14);
  u.f32[16] = f.scale ?? 1;
  return u.buffer;
}

/** Byte offset of the dropout counter in elementwise.wgsl's Params (written before each training run). */
export const DROPOUT_COUNTER_BYTE = 20;

/** An op's own uniform fields and override constants. */
interface FlatSpec {
  fields?: Omit<Parameters<typeof elementwiseUniform>[0], 'inOff' | 'outOff' | 'count'>;
  constants?: Record<string, number>;
}

/**
 * The launch of a forward flat op writing `count` values (entry point: the op's name), after
 * checking that its tensors hold `inCount` and `count` values; `spec` checks the op's own rules and
 * gives its fields.
 */
function flatLaunch(plan: KernelPlan, step: KernelStep, limits: KernelLimits, inCount: number, count: number, spec: () => FlatSpec = () => ({})): Launch {
  const range = arenaRange(plan, step, limits);
  checkCount(plan, step, inCount, count);
  const { fields = {}, constants = {} } = spec();
  return {
    family: 'elementwise',
    entryPoint: step.op,
    constants,
    uniform: elementwiseUniform({ inOff: range.inOff, outOff: range.outOff, count, ...fields }),
    workgroups: workgroupGrid(Math.max(1, ceilDiv(count, FLAT_WORKGROUP)), limits.maxComputeWorkgroupsPerDimension),
    arenaRange: { offset: range.offset, size: range.size },
  };
}

export const COPY: ForwardOp<CopyStep> = {
  kind: 'forward',
  launch: (plan, step, limits) => flatLaunch(plan, step, limits, step.count, step.count),
};

export const ACTIVATION: ForwardOp<ActivationStep> = {
  kind: 'forward',
  launch: (plan, step, limits) =>
    flatLaunch(plan, step, limits, step.count, step.count, () => {
      const act = activationOf(step.nonlinearity, step.layer);
      return { fields: { act: act.params }, constants: { ACT: act.code } };
    }),
};

export const DROPOUT: ForwardOp<DropoutStep> = {
  kind: 'forward',
  perRun: { kind: 'counter', byte: DROPOUT_COUNTER_BYTE },
  launch: (plan, step, limits) =>
    flatLaunch(plan, step, limits, step.count, step.count, () => {
      if (!(Number.isInteger(step.threshold) && step.threshold >= 0 && step.threshold <= 2 ** 24)) {
        throw new ValueError(`layer ${step.layer}: dropout needs an integer threshold in [0, 2^24], but threshold=${step.threshold}`);
      }
      return { fields: { seed: step.seed >>> 0, threshold: step.threshold, scale: step.scale } };
    }),
};

export const GLOBAL_POOL: ForwardOp<GlobalPoolStep> = {
  kind: 'forward',
  launch: (plan, step, limits) =>
    flatLaunch(plan, step, limits, step.channels * step.positions * step.batch, step.channels * step.batch, () => {
      if (step.positions < 1) throw new ValueError(`layer ${step.layer}: global_pool needs at least one position, but positions=${step.positions}`);
      return { fields: { channels: step.channels, positions: step.positions, batch: step.batch } };
    }),
};

export const WEIGHT_FORM: TrainingOp<WeightFormStep> = {
  kind: 'training',
  passes(step, at, grid) {
    const n = step.channels * step.filterSize * step.filterSize * step.filters;
    const uniform = elementwiseUniform({
      inOff: at('input', step.input, n), outOff: at('output', step.output, n), count: n,
      channels: step.channels, filterSize: step.filterSize, filters: step.filters, layout: step.weightLayout === 'fckk' ? 0 : 1, flip: step.flipFilters ? 1 : 0,
    });
    return [{ family: 'elementwise', entryPoint: 'weight_form', constants: {}, uniform, workgroups: grid(ceilDiv(n, FLAT_WORKGROUP)) }];
  },
};

export const GLOBAL_POOL_GRAD: TrainingOp<GlobalPoolGradStep> = {
  kind: 'training',
  passes(step, at, grid) {
    const { channels: C, positions: P, batch: B } = step;
    if (P < 1) throw new ValueError(`step ${step.index} (${step.layer}): global_pool_grad needs at least one position, but positions=${P}`);
    const uniform = elementwiseUniform({
      inOff: at('outputGrad', step.outputGrad, C * B), outOff: at('inputGrad', step.inputGrad, C * P * B), count: C * P * B,
      channels: C, positions: P, batch: B,
    });
    return [{ family: 'elementwise', entryPoint: 'global_pool_grad', constants: {}, uniform, workgroups: grid(ceilDiv(C * P * B, FLAT_WORKGROUP)) }];
  },
};
