/**
 * The training vocabulary: the forward ops the layers around the cuda-convnet ones lower to
 * (DenseLayer, DropoutLayer, NonlinearityLayer, FlattenLayer, ReshapeLayer, GlobalPoolLayer, softmax),
 * the loss, regularization and update ops, and the training plan a backend prepares
 * (`Backend.prepareTraining`). Like every step (src/ops/steps.ts, src/ops/backward.ts) tensors are
 * float32 in C order in one arena, with the batch innermost ("batch last": c01b for images, (U, B)
 * for unit vectors) wherever a step names a `batch`.
 *
 * A training plan runs, in order: the forward steps (phase 'forward', dropout active), the loss
 * (phase 'forward'), the backward steps and the penalties (phase 'backward'), then one update step
 * per trainable parameter (phase 'update'). `trainer.gradients()` runs the first two phases only.
 *
 * In a TRAINING plan every `weight` and `bias` field of a step is a TENSOR id (not an index into
 * plan.params as in an inference plan): the parameters live in the arena, in their parameter layout
 * (`TrainingParam.value`), and the forward and backward kernels read the kernel form of a conv or
 * dense weight from the tensor that a `weight_form` (conv) or `transpose` (dense) step at the start
 * of the forward phase writes. A reference in float64 of every op is test/reference/training_ops.mjs.
 */
import { ValueError } from '../errors.js';
import type { PlanTensor } from './plan.js';
import type { BackwardStep, BackwardStepBase } from './backward.js';
import type { KernelStep, StepBase, StepNonlinearity } from './steps.js';

// ---------------------------------------------------------------- forward ops (inference and training)

/** An exact copy of `count` floats (a reshape of C-order data: FlattenLayer, ReshapeLayer). */
export interface CopyStep extends StepBase {
  op: 'copy';
  count: number;
  /** The batch size (the tensors' batch axes are in the plan), for thread splits. */
  batch: number;
}

/** out[i] = act(in[i]) over `count` floats (NonlinearityLayer; never softmax). */
export interface ActivationStep extends StepBase {
  op: 'activation';
  nonlinearity: StepNonlinearity;
  count: number;
  batch: number;
}

/**
 * Softmax over the units of each example, input and output (U, B) batch last:
 *   out[u, b] = exp(in[u, b] - m_b) / sum_v exp(in[v, b] - m_b),  m_b = max_v in[v, b].
 */
export interface SoftmaxStep extends StepBase {
  op: 'softmax';
  units: number;
  batch: number;
}

/**
 * Inverted dropout (training only; a deterministic pass emits no step), elementwise over `count`
 * floats, mask from a counter-based hash so both backends draw the same mask and the backward pass
 * recomputes it instead of storing it:
 *   key = mix(seed + counter * 0x9E3779B9)         (u32 arithmetic; counter: the run's dropout counter)
 *   keep(i) = (mix(i ^ key) >>> 8) >= threshold     (threshold = round(p * 2^24))
 *   out[i] = keep(i) ? in[i] * scale : 0            (scale = 1 / (1 - p) with rescale, else 1)
 * mix(x): x ^= x >>> 16; x = imul(x, 0x7feb352d); x ^= x >>> 15; x = imul(x, 0x846ca68b); x ^= x >>> 16.
 * `i` is the flat index in the tensor as laid out (the same on both backends and for any thread
 * split: a split must offset i by its slice). Its gradient is the same step applied to the output
 * gradient (same seed, same counter).
 */
export interface DropoutStep extends StepBase {
  op: 'dropout';
  count: number;
  batch: number;
  p: number;
  threshold: number;
  scale: number;
  /** A u32 per layer (its position in the network), so that two dropout layers draw different masks. */
  seed: number;
}

/** Mean over positions: input (C, P, B), output (C, B): out[c, b] = (1 / P) sum_p in[c, p, b] (GlobalPoolLayer). */
export interface GlobalPoolStep extends StepBase {
  op: 'global_pool';
  channels: number;
  positions: number;
  batch: number;
}

/** The forward ops added for the layers around the cuda-convnet ones. */
export type ExtraForwardStep = CopyStep | ActivationStep | SoftmaxStep | DropoutStep | GlobalPoolStep;

// ---------------------------------------------------------------- training-only ops

/**
 * A conv weight from its parameter layout to the kernel layout (C, k, k, F), flipped when the
 * layer flips: the device counterpart of src/ops/weights.ts kernelWeights (the inverse of
 * weight_grad_layout). `input`: the parameter tensor; `output`: the kernel-form tensor.
 */
export interface WeightFormStep extends StepBase {
  op: 'weight_form';
  weightLayout: 'fckk' | 'ckkf';
  flipFilters: boolean;
  channels: number;
  filterSize: number;
  filters: number;
}

export type LossKind = 'categorical_crossentropy' | 'binary_crossentropy' | 'squared_error' | 'binary_hinge' | 'multiclass_hinge';

/**
 * The objective and its gradient, one step. `prediction` and `outputGrad` are (U, B) batch last;
 * `targets` is (B) class indices stored as floats (targetForm 'index') or (U, B) like the prediction
 * ('dense'). With `fusedSoftmax` (categorical cross-entropy on a softmax output) `prediction` holds
 * the logits z before the softmax and the loss is computed from log-softmax (stable for large z):
 *   l_b = -sum_u t[u, b] (z[u, b] - m_b - log sum_v exp(z[v, b] - m_b)),   dz = w (softmax(z) - t)
 * Otherwise, per element (binary_crossentropy, squared_error, binary_hinge) or per example
 * (categorical_crossentropy, multiclass_hinge), Lasagne's formulas:
 *   categorical_crossentropy   l_b = -sum_u t log p                       dp = -w t / p
 *   binary_crossentropy        l = -t log p - (1 - t) log(1 - p)          dp = w (p - t) / (p (1 - p))
 *   squared_error              l = (p - t)^2                              dp = 2 w (p - t)
 *   binary_hinge (log odds)    l = max(0, 1 - p t'),  t' = 2t - 1         dp = l > 0 ? -w t' : 0
 *   multiclass_hinge (delta 1) l_b = max(0, max_{u != t_b} p[u, b] - p[t_b, b] + 1)
 *                              dp[u*, b] = w, dp[t_b, b] = -w when l_b > 0 (u*: the first maximum)
 * (index targets are one-hot t). The aggregate: `loss[0] = w * sum of l` with w = 1 / (number of
 * loss values: B per example, U B per element) for 'mean', 1 for 'sum'. `outputGrad` is written
 * whole (0 where a loss has no gradient).
 */
export interface LossStep extends BackwardStepBase {
  op: 'loss';
  kind: LossKind;
  fusedSoftmax: boolean;
  prediction: number;
  targets: number;
  targetForm: 'index' | 'dense';
  outputGrad: number;
  /** A one-float tensor: the aggregated loss. */
  loss: number;
  units: number;
  batch: number;
  aggregate: 'mean' | 'sum';
}

/**
 * Regularization of one parameter (Lasagne's regularize_network_params with l2 and l1 weights):
 *   loss[0] += l2 sum w^2 + l1 sum |w|;   grad += 2 l2 w + l1 sign(w)   (sign(0) = 0)
 */
export interface PenaltyStep extends BackwardStepBase {
  op: 'penalty';
  param: number;
  grad: number;
  loss: number;
  count: number;
  l1: number;
  l2: number;
}

export type UpdateRule = 'sgd' | 'momentum' | 'nesterov_momentum' | 'adagrad' | 'rmsprop' | 'adadelta' | 'adam' | 'adamax';

/** The hyperparameters of the update rules (an UpdateStep's and an update descriptor's fields). */
export type UpdateHyper = 'learningRate' | 'momentum' | 'rho' | 'beta1' | 'beta2' | 'epsilon';

/** The hyperparameters in descriptor order. */
export const UPDATE_HYPERS: readonly UpdateHyper[] = Object.freeze(['learningRate', 'momentum', 'rho', 'beta1', 'beta2', 'epsilon']);

/**
 * The hyperparameters each rule takes, with Lasagne's defaults (lasagne/updates.py); undefined:
 * required (the learning rate of sgd, momentum and nesterov_momentum). A descriptor's other fields are 0.
 */
export const UPDATE_DEFAULTS: Readonly<Record<UpdateRule, Readonly<Partial<Record<UpdateHyper, number | undefined>>>>> = Object.freeze({
  sgd: { learningRate: undefined },
  momentum: { learningRate: undefined, momentum: 0.9 },
  nesterov_momentum: { learningRate: undefined, momentum: 0.9 },
  adagrad: { learningRate: 1.0, epsilon: 1e-6 },
  rmsprop: { learningRate: 1.0, rho: 0.9, epsilon: 1e-6 },
  adadelta: { learningRate: 1.0, rho: 0.95, epsilon: 1e-6 },
  adam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  adamax: { learningRate: 0.002, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
});

/** The camelCase function of lasagne.updates that makes each rule's descriptor, for messages. */
export const UPDATE_FUNCTION: Readonly<Record<UpdateRule, string>> = Object.freeze({
  sgd: 'sgd', momentum: 'momentum', nesterov_momentum: 'nesterovMomentum', adagrad: 'adagrad',
  rmsprop: 'rmsprop', adadelta: 'adadelta', adam: 'adam', adamax: 'adamax',
});

/** An update rule with all its hyperparameters (those it does not use are 0). */
export type UpdateHypers = { readonly rule: UpdateRule } & { readonly [h in UpdateHyper]: number };

/**
 * One hyperparameter checked against its range: a learning rate >= 0 (0 freezes the parameters),
 * momentum and decay rates in [0, 1], epsilon >= 0; all finite. TypeError or ValueError naming the
 * rule's function, the option and the value.
 */
export function checkHyper(rule: UpdateRule, name: UpdateHyper, v: unknown): number {
  const fn = UPDATE_FUNCTION[rule];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new TypeError(`${fn} option '${name}' must be a finite number, but ${name}=${String(v)}`);
  }
  if (name === 'learningRate' || name === 'epsilon') {
    if (v < 0) throw new ValueError(`${fn} requires ${name} >= 0, but ${name}=${v}`);
  } else if (v < 0 || v > 1) {
    throw new ValueError(`${fn} requires 0 <= ${name} <= 1, but ${name}=${v}`);
  }
  return v;
}

/**
 * A hand-made descriptor (`{ rule: 'adam', learningRate: 0.01 }`, as compileTraining's types allow)
 * completed with the rule's defaults (Lasagne's) and 0 for the hyperparameters it does not use; any
 * other value is returned as it is, for checkUpdateDescriptor to refuse.
 */
export function completeUpdate(value: unknown): unknown {
  const d = value as { rule?: unknown } | null;
  if (d === null || typeof d !== 'object' || typeof d.rule !== 'string' || !Object.hasOwn(UPDATE_DEFAULTS, d.rule)) return value;
  const out: Record<string, unknown> = { rule: d.rule };
  const defaults = UPDATE_DEFAULTS[d.rule as UpdateRule];
  for (const h of UPDATE_HYPERS) {
    const given = (value as Record<string, unknown>)[h];
    out[h] = given !== undefined ? given : Object.hasOwn(defaults, h) ? defaults[h] : 0;
  }
  return out;
}

/**
 * Checks that `value` is an update descriptor (what lasagne.updates' functions return: a rule and
 * every hyperparameter in range); `what` names it in the TypeError otherwise.
 */
export function checkUpdateDescriptor(value: unknown, what = 'updates'): UpdateHypers {
  const d = value as Partial<UpdateHypers> | null;
  if (d === null || typeof d !== 'object' || typeof d.rule !== 'string' || !Object.hasOwn(UPDATE_DEFAULTS, d.rule)) {
    throw new TypeError(
      `${what} must be a descriptor from lasagne.updates (e.g. updates.nesterovMomentum({ learningRate: 0.01 })), but got ` +
        `${value === undefined ? 'nothing' : typeof value === 'function' ? 'the function itself (call it with its options)' : String(value)}`,
    );
  }
  const rule = d.rule as UpdateRule;
  for (const name of UPDATE_HYPERS) checkHyper(rule, name, d[name]);
  return d as UpdateHypers;
}

/** The device losses, one per objective of lasagne.objectives. */
export const LOSS_KINDS: readonly LossKind[] = Object.freeze(['categorical_crossentropy', 'binary_crossentropy', 'squared_error', 'binary_hinge', 'multiclass_hinge']);

/** The device loss of an objective function (tagged with its `lossKind`), or a TypeError naming `what` and the value. */
export function lossKindOf(loss: unknown, what = 'loss'): LossKind {
  const kind = typeof loss === 'function' ? (loss as { lossKind?: unknown }).lossKind : undefined;
  if (typeof kind !== 'string' || !(LOSS_KINDS as readonly string[]).includes(kind)) {
    throw new TypeError(
      `${what} must be one of lasagne.objectives' losses (categoricalCrossentropy, binaryCrossentropy, squaredError, binaryHingeLoss, ` +
        `multiclassHingeLoss), but got ${typeof loss === 'function' ? `the function ${(loss as { name: string }).name || '(anonymous)'}` : String(loss)}`,
    );
  }
  return kind as LossKind;
}

/** How many state tensors (each the parameter's shape, zero at the start) a rule keeps. */
export const UPDATE_STATE = Object.freeze({
  sgd: 0, momentum: 1, nesterov_momentum: 1, adagrad: 1, rmsprop: 1, adadelta: 2, adam: 2, adamax: 2,
} as const satisfies Record<UpdateRule, number>);

/**
 * One parameter's update, Lasagne's formulas (lasagne/updates.py), elementwise over `count`:
 *   sgd                p -= lr g
 *   momentum           v = m v - lr g;  p += v
 *   nesterov_momentum  v = m v - lr g;  p += m v - lr g
 *   adagrad            a += g^2;  p -= lr g / sqrt(a + eps)
 *   rmsprop            a = rho a + (1 - rho) g^2;  p -= lr g / sqrt(a + eps)
 *   adadelta           a = rho a + (1 - rho) g^2;  u = g sqrt(d + eps) / sqrt(a + eps);  p -= lr u;
 *                      d = rho d + (1 - rho) u^2                          (state [a, d])
 *   adam               m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lrT m / (sqrt(v) + eps)   (state [m, v])
 *   adamax             m = b1 m + (1 - b1) g;  u = max(b2 u, |g|);  p -= lrT m / (u + eps)          (state [m, u])
 * `lr` (and adam's and adamax's bias-corrected `lrT`) come with each run: updateScalar().
 */
export interface UpdateStep extends BackwardStepBase {
  op: 'update';
  rule: UpdateRule;
  param: number;
  grad: number;
  state: number[];
  count: number;
  /** momentum (momentum, nesterov); rho (rmsprop, adadelta); beta1 and beta2 (adam, adamax); eps. Unused ones 0. */
  momentum: number;
  rho: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** The softmax's gradient where no loss fuses it: dz[u, b] = p[u, b] (g[u, b] - sum_v g[v, b] p[v, b]). */
export interface SoftmaxGradStep extends BackwardStepBase {
  op: 'softmax_grad';
  output: number;
  outputGrad: number;
  inputGrad: number;
  units: number;
  batch: number;
}

/** GlobalPoolLayer's gradient: inputGrad[c, p, b] = outputGrad[c, b] / P. */
export interface GlobalPoolGradStep extends BackwardStepBase {
  op: 'global_pool_grad';
  outputGrad: number;
  inputGrad: number;
  channels: number;
  positions: number;
  batch: number;
}

export type Phase = 'forward' | 'backward' | 'update';

/** Every step a training plan can hold, with its phase. */
export type TrainingStep = (KernelStep | ExtraForwardStep | WeightFormStep | BackwardStep | LossStep | PenaltyStep | UpdateStep | SoftmaxGradStep | GlobalPoolGradStep) & { phase: Phase };

/** A trainable parameter in a training plan. */
export interface TrainingParam {
  name: string;
  /** The parameter's shape (its Lasagne layout). */
  shape: number[];
  /** Tensor ids: the value and its gradient (parameter layout), the update rule's state. */
  value: number;
  grad: number;
  state: number[];
  regularizable: boolean;
}

/** What `Backend.prepareTraining` takes (src/compile/training.ts builds it). Plain data. */
export interface TrainingPlan {
  tensors: readonly PlanTensor[];
  arenaBytes: number;
  alignment: number;
  steps: readonly TrainingStep[];
  /** Tensor ids the host writes before each run: the network inputs, then the targets. */
  inputs: readonly number[];
  targets: number;
  /** The one-float loss tensor (data loss plus penalties) after a run. */
  loss: number;
  /** The network's outputs (batch-last forms, as the loss reads them). */
  outputs: readonly number[];
  params: readonly TrainingParam[];
  /** d loss / d input, when compiled with inputGradient. */
  inputGrad?: number;
  digest: string;
}

/** The per-run values of a training run. */
export interface TrainingHyper {
  learningRate: number;
  /** The update's step number, 1 for the first update (adam's and adamax's t). */
  t: number;
  /** The dropout counter (a u32; the trainer increments it every run). */
  counter: number;
}

export interface TrainingRunOptions {
  /** false: forward, loss and backward only (trainer.gradients). */
  update: boolean;
  /** Tensors to read back after the run, in this order. */
  read: readonly number[];
}

/** A training plan prepared on a backend. Calls are queued: each starts after the previous settles. */
export interface PreparedTraining {
  /**
   * Writes `inputs` (plan.inputs order, each a Float32Array of exactly its tensor's size), runs the
   * steps (all, or without phase 'update'), resolves to the contents of `options.read`.
   */
  run(inputs: readonly Float32Array[], hyper: TrainingHyper, options: TrainingRunOptions): Promise<Float32Array[]>;
  /** Writes a tensor (a parameter's value, in parameter layout), in order with the runs. */
  write(tensor: number, data: Float32Array): Promise<void>;
  /** Reads tensors, in order with the runs. */
  read(tensors: readonly number[]): Promise<Float32Array[]>;
  /** Bytes the backend holds for this plan (the arena and nothing else, where it can). */
  readonly bytes: number;
  readonly description: string;
  dispose(): void;
}

/**
 * The learning rate an update kernel uses this run: lr, or for adam lr sqrt(1 - b2^t) / (1 - b1^t),
 * for adamax lr / (1 - b1^t) (Lasagne's a_t), computed in float64 on the host.
 */
export function updateScalar(step: Pick<UpdateStep, 'rule' | 'beta1' | 'beta2'>, hyper: Pick<TrainingHyper, 'learningRate' | 't'>): number {
  const { learningRate: lr, t } = hyper;
  if (step.rule === 'adam') return (lr * Math.sqrt(1 - step.beta2 ** t)) / (1 - step.beta1 ** t);
  if (step.rule === 'adamax') return lr / (1 - step.beta1 ** t);
  return lr;
}

/** The u32 mix of a DropoutStep's mask (see there). */
export function dropoutMix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Whether element i is kept by a dropout step with this seed, threshold and run counter. */
export function dropoutKeeps(seed: number, threshold: number, counter: number, i: number): boolean {
  const key = dropoutMix((seed + Math.imul(counter, 0x9e3779b9)) >>> 0);
  return dropoutMix((i ^ key) >>> 0) >>> 8 >= threshold;
}

/**
 * The tensors a step reads and writes (its scratch not included): what lifetimes are computed from.
 * In-place steps (bias_act_grad with preActGrad === outputGrad) list the tensor in both.
 */
export function stepOperands(s: TrainingStep): { reads: number[]; writes: number[] } {
  switch (s.op) {
    case 'transpose': case 'max_pool': case 'copy': case 'activation': case 'softmax': case 'dropout': case 'global_pool': case 'weight_form':
      return { reads: [s.input], writes: [s.output] };
    case 'filter_acts': case 'nin':
      return { reads: [s.input, s.weight, ...(s.bias >= 0 ? [s.bias] : [])], writes: [s.output] };
    case 'bias_act_grad':
      return { reads: [s.output, s.outputGrad], writes: [s.preActGrad, ...(s.biasGrad >= 0 ? [s.biasGrad] : [])] };
    case 'img_acts':
      return { reads: [s.preActGrad, s.weight], writes: [s.inputGrad] };
    case 'weight_acts':
      return { reads: [s.input, s.preActGrad], writes: [s.weightGrad] };
    case 'weight_grad_layout':
      return { reads: [s.weightGrad], writes: [s.paramGrad] };
    case 'max_pool_grad':
      return { reads: [s.input, s.output, s.outputGrad], writes: [s.inputGrad] };
    case 'nin_grad_input':
      return { reads: [s.preActGrad, s.weight], writes: [s.inputGrad] };
    case 'nin_grad_weight':
      return { reads: [s.input, s.preActGrad], writes: [s.weightGrad] };
    case 'loss':
      return { reads: [s.prediction, s.targets], writes: [s.outputGrad, s.loss] };
    case 'penalty':
      return { reads: [s.param, s.grad, s.loss], writes: [s.grad, s.loss] };
    case 'update':
      return { reads: [s.param, s.grad, ...s.state], writes: [s.param, ...s.state] };
    case 'softmax_grad':
      return { reads: [s.output, s.outputGrad], writes: [s.inputGrad] };
    case 'global_pool_grad':
      return { reads: [s.outputGrad], writes: [s.inputGrad] };
  }
}
