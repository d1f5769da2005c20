/**
 * The WebGPU backend's ops: one descriptor per op (the files of this folder, one per wgsl/ kernel
 * file), in a table typed so that a step op without one does not compile, the kernel files'
 * families, and the lookups in them that the prepared network, the training executor, the pipeline
 * cache and the tests use. A new op is its .wgsl file, its file here, one line in OPS and, for a
 * new kernel file, one in FAMILIES or BACKWARD_SHADERS.
 */
import { ValueError } from '../../../errors.js';
import type { BackwardStep } from '../../../ops/backward.js';
import type { KernelStep } from '../../../ops/steps.js';
import type { TrainingStep } from '../../../ops/training.js';
import { DEFAULT_GPU_LIMITS, type KernelLimits, type KernelPlan, type Launch } from '../geometry.js';
import { BIAS_ACT_GRAD, BIAS_ACT_GRAD_SHADER } from './bias_act_grad.js';
import { ACTIVATION, COPY, DROPOUT, ELEMENTWISE_SHADER, GLOBAL_POOL, GLOBAL_POOL_GRAD, WEIGHT_FORM } from './elementwise.js';
import { FILTER_ACTS, FILTER_ACTS_SHADER } from './filter_acts.js';
import { IMG_ACTS, IMG_ACTS_SHADER } from './img_acts.js';
import { MAX_POOL, MAX_POOL_SHADER } from './max_pool.js';
import { MAX_POOL_GRAD, MAX_POOL_GRAD_SHADER } from './max_pool_grad.js';
import { NIN, NIN_SHADER } from './nin.js';
import { NIN_GRAD_INPUT, NIN_GRAD_SHADER, NIN_GRAD_WEIGHT } from './nin_grad.js';
import { gridOf, type BackwardLaunch, type BackwardOffsets, type BackwardOp, type BackwardShader, type ForwardOp, type OpDescriptor, type ShaderFamily, type TrainingOp } from './op.js';
import { LOSS, SOFTMAX, SOFTMAX_GRAD, SOFTMAX_SHADER } from './softmax.js';
import { TRANSPOSE, TRANSPOSE_SHADER } from './transpose.js';
import { PENALTY, UPDATE, UPDATE_SHADER } from './update.js';
import { WEIGHT_ACTS, WEIGHT_ACTS_SHADER, WEIGHT_GRAD_LAYOUT } from './weight_acts.js';
import { WINOGRAD_SHADER } from './winograd.js';

/** The forward kernel files (wgsl/) by family name (geometry.ts Launch.family). */
export const FAMILIES = Object.freeze({
  filter_acts: FILTER_ACTS_SHADER,
  nin: NIN_SHADER,
  max_pool: MAX_POOL_SHADER,
  transpose: TRANSPOSE_SHADER,
  elementwise: ELEMENTWISE_SHADER,
  softmax: SOFTMAX_SHADER,
  update: UPDATE_SHADER,
  winograd: WINOGRAD_SHADER,
}) satisfies Readonly<Record<string, ShaderFamily>>;

/** The wgsl/ file a forward step runs. */
export type KernelFamily = keyof typeof FAMILIES;

/** The backward kernel files (wgsl/) by name (op.ts BackwardLaunch.file). */
export const BACKWARD_SHADERS = Object.freeze({
  bias_act_grad: BIAS_ACT_GRAD_SHADER,
  img_acts: IMG_ACTS_SHADER,
  weight_acts: WEIGHT_ACTS_SHADER,
  max_pool_grad: MAX_POOL_GRAD_SHADER,
  nin_grad: NIN_GRAD_SHADER,
}) satisfies Readonly<Record<string, BackwardShader>>;

export type BackwardFile = keyof typeof BACKWARD_SHADERS;

type StepOf<S, K> = Extract<S, { op: K }>;
/** The ops only training plans hold (loss, penalties, updates, the gradients of the extra forward ops). */
type TrainingOnlyOp = Exclude<TrainingStep['op'], KernelStep['op'] | BackwardStep['op']>;

/** Every step op's descriptor, in the shape its kind of step takes. */
type OpTable = { readonly [K in KernelStep['op']]: ForwardOp<StepOf<KernelStep, K>> }
  & { readonly [K in BackwardStep['op']]: BackwardOp<StepOf<BackwardStep, K>> }
  & { readonly [K in TrainingOnlyOp]: TrainingOp<StepOf<TrainingStep, K>> };

const OPS: OpTable = Object.freeze({
  transpose: TRANSPOSE,
  filter_acts: FILTER_ACTS,
  max_pool: MAX_POOL,
  nin: NIN,
  copy: COPY,
  activation: ACTIVATION,
  softmax: SOFTMAX,
  dropout: DROPOUT,
  global_pool: GLOBAL_POOL,
  bias_act_grad: BIAS_ACT_GRAD,
  img_acts: IMG_ACTS,
  weight_acts: WEIGHT_ACTS,
  weight_grad_layout: WEIGHT_GRAD_LAYOUT,
  max_pool_grad: MAX_POOL_GRAD,
  nin_grad_input: NIN_GRAD_INPUT,
  nin_grad_weight: NIN_GRAD_WEIGHT,
  weight_form: WEIGHT_FORM,
  global_pool_grad: GLOBAL_POOL_GRAD,
  softmax_grad: SOFTMAX_GRAD,
  loss: LOSS,
  penalty: PENALTY,
  update: UPDATE,
});

/** The descriptor of an op (its steps' type checked by the caller), or undefined where the backend has none. */
export function opOf(op: string): OpDescriptor<never> | undefined {
  return Object.prototype.hasOwnProperty.call(OPS, op) ? (OPS as unknown as Readonly<Record<string, OpDescriptor<never>>>)[op] : undefined;
}

/** The scratch bytes of a step on a device with these limits (0: none, or an op the backend does not know). */
export function scratchBytesOf(step: { op: string }, limits: KernelLimits): number {
  return opOf(step.op)?.scratchBytes?.(step as never, limits) ?? 0;
}

/** The scratch bytes of each step of a step list (0: none) on a device with these limits. */
export function scratchNeeds(steps: readonly KernelStep[], limits: KernelLimits): number[] {
  return steps.map((s) => scratchBytesOf(s, limits));
}

const noKernel = (op: string): ValueError => new ValueError(`the WebGPU backend has no kernel for op ${op}`);

/** The launch of one step on a device with these limits. */
export function launchOf(plan: KernelPlan, step: KernelStep, limits: KernelLimits): Launch {
  const d = opOf(step.op);
  if (d?.kind !== 'forward') throw noKernel(step.op);
  return d.launch(plan, step as never, limits);
}

/** Scratch bytes a backward step needs on this backend (0 for most; the same on every device). */
export function backwardScratchBytes(step: BackwardStep): number {
  return scratchBytesOf(step, DEFAULT_GPU_LIMITS);
}

/** The passes of one backward step, in order. */
export function backwardLaunches(step: BackwardStep, at: BackwardOffsets, maxPerDimension = 65535): BackwardLaunch[] {
  const d = opOf(step.op);
  if (d?.kind !== 'backward') throw noKernel(step.op);
  return d.launches(step as never, at, gridOf(maxPerDimension));
}
