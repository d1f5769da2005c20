/**
 * compileTraining() and Trainer: the counterpart of
 * `theano.function([x, t], loss, updates=updates)` with Lasagne's objectives, updates and
 * regularization (../shared/API.md, "Training").
 *
 * The training plan (src/ops/training.ts TrainingPlan) is derived from the network's forward plan
 * in training mode (dropout active, `plan(net, { deterministic: false })`): the parameters move into
 * the arena (their value, gradient and update state), each forward step that reads a weight reads
 * its kernel form, written at the start of every run by a `weight_form` (conv) or `transpose`
 * (dense) step; the loss step follows the forward steps (fused with a final softmax for
 * categorical cross-entropy: the gradient is then p - t, stable for large logits); then, walking
 * the forward steps backwards, each step's gradient (`gradientSteps`), the penalties and one update
 * step per trainable parameter. Lifetimes: parameters, gradients, state, inputs, targets and the
 * loss live for the whole run; activations from their producer to their last reader in the
 * backward pass; gradients of activations and scratch only while needed. The planner lays out the
 * arena, so `trainer.plan.arenaBytes` is every byte the backend uses for it.
 */
import { NotImplementedError, RuntimeError, ValueError } from '../errors.js';
import { asNDArray, formatShape, shapeSize, type NDArray } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { Layer, isInputLayer, type Param } from '../layers/base.js';
import { getAllLayers, getAllParams } from '../layers/helper.js';
import { planArena } from '../planner/planner.js';
import { checkDerivativeFromOutput, transposeGradStep, weightActsStep, type BackwardStep } from '../ops/backward.js';
import type { PlanTensor } from '../ops/plan.js';
import type { KernelStep, TransposeStep } from '../ops/steps.js';
import {
  UPDATE_STATE, checkUpdateDescriptor, completeUpdate, lossKindOf, stepOperands, type LossKind, type LossStep, type Phase, type PreparedTraining, type TrainingParam, type TrainingPlan,
  type TrainingStep, type UpdateRule, type UpdateStep,
} from '../ops/training.js';
import { plan as makePlan, type NetworkPlan } from './plan.js';
import { fnv1a64 } from './digest.js';
import type { Backend, BackendName, BackendOptions, WebGpuDevice } from '../backend/backend.js';
import { releaseDeviceMemory, trackDeviceMemory } from './memory.js';
import { selectBackend, type BackendChoice } from '../backend/select.js';

/** What `updates.*({...})` returns (src/updates.ts): the rule and its hyperparameters. */
export interface UpdateSpec {
  readonly rule: UpdateRule;
  readonly learningRate: number;
  readonly momentum?: number;
  readonly rho?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

/** An objective of src/objectives.ts: a host function that also names its device loss. */
export interface LossFunction {
  readonly lossKind: LossKind;
}

export interface TrainingOptions {
  /** An objective: `objectives.categoricalCrossentropy` (default), `squaredError`, ... */
  loss?: LossFunction;
  /** Lasagne's aggregate mode: 'mean' (default) or 'sum' ('normalized_sum' needs weights, which a trainer does not take). */
  aggregate?: 'mean' | 'sum' | 'normalized_sum';
  /** An update rule: `updates.nesterovMomentum({ learningRate: 0.01, momentum: 0.9 })`. Required. */
  updates: UpdateSpec;
  /** Penalties on the regularizable params (W, not b): `{ l2: 1e-4 }` adds l2 * sum(W^2) to the loss. */
  regularization?: { l1?: number; l2?: number };
  /** Fixes a null batch dimension (required when it is null). */
  batchSize?: number;
  backend?: BackendChoice;
  /** WebGPU: an existing GPUDevice to train on. */
  device?: WebGpuDevice;
  threads?: number;
  /** Also compute d loss / d input (returned by `gradients`). */
  inputGradient?: boolean;
}

const TRAINING_OPTIONS = ['loss', 'aggregate', 'updates', 'regularization', 'batchSize', 'backend', 'device', 'threads', 'inputGradient'] as const;

/** The loss, update and regularization a training plan is built with (checked). */
export interface TrainingSpec {
  loss: LossKind;
  aggregate: 'mean' | 'sum';
  updates: Required<UpdateSpec>;
  l1: number;
  l2: number;
  inputGradient: boolean;
}

const finite = (what: string, v: unknown, rule = 'a finite number'): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`compileTraining option ${what} must be ${rule}, but got ${String(v)}`);
  return v;
};

/** Checks compileTraining's loss, aggregate, updates and regularization options. */
export function trainingSpec(opts: Partial<TrainingOptions>): TrainingSpec {
  const loss = opts.loss === undefined ? 'categorical_crossentropy' : lossKindOf(opts.loss, "compileTraining option 'loss'");
  const aggregate = opts.aggregate ?? 'mean';
  if (aggregate === 'normalized_sum') {
    throw new ValueError("require weights for normalized_sum: compileTraining's aggregate 'normalized_sum' needs per-example weights, which a trainer does not take; use 'mean' or 'sum'");
  }
  if (aggregate !== 'mean' && aggregate !== 'sum') {
    throw new ValueError(`compileTraining option 'aggregate' must be 'mean', 'sum' or 'normalized_sum', but got ${JSON.stringify(aggregate)}`);
  }
  const updates: Required<UpdateSpec> = checkUpdateDescriptor(completeUpdate(opts.updates), "compileTraining option 'updates'");
  const reg = opts.regularization ?? {};
  if (typeof reg !== 'object' || reg === null) throw new TypeError(`compileTraining option 'regularization' must be an object like { l2: 1e-4 }, but got ${String(reg)}`);
  checkOptions(reg, ['l1', 'l2'], "compileTraining option 'regularization'");
  const l1 = finite("'regularization.l1'", reg.l1 ?? 0, 'a finite number >= 0');
  const l2 = finite("'regularization.l2'", reg.l2 ?? 0, 'a finite number >= 0');
  if (l1 < 0 || l2 < 0) throw new ValueError(`compileTraining option 'regularization' needs l1 >= 0 and l2 >= 0, but got l1=${l1}, l2=${l2}`);
  if (opts.inputGradient !== undefined && typeof opts.inputGradient !== 'boolean') {
    throw new TypeError(`compileTraining option 'inputGradient' must be a boolean, but got ${String(opts.inputGradient)}`);
  }
  return { loss, aggregate, updates, l1, l2, inputGradient: opts.inputGradient === true };
}

/** A step as the builder writes it: without its position and phase (distributes over the union). */
type Spec<T> = T extends unknown ? Omit<T, 'index' | 'phase'> : never;
type StepDraft = Spec<TrainingStep>;

/** A tensor while the plan is built: lifetimes come later. */
interface Draft {
  producer: string;
  shape: number[];
  batchAxis: number;
  /** Live for the whole run (read or written by the host, or kept across runs). */
  pinned: boolean;
}

/** The facts of the network the trainer needs next to the plan. */
export interface TrainingLayout {
  plan: TrainingPlan;
  /** For each plan param (plan.params order): trainable. */
  trainable: boolean[];
  /** The network input tensor's shape (rotation 0, as the user gives it). */
  inputShape: number[];
  /** Units and batch of the prediction (U, N). */
  units: number;
  batch: number;
}

/**
 * Builds the training plan of a network from its forward plan (made with deterministic: false).
 * `scratch(steps)` gives the backend's working memory per step (Backend.trainingScratchBytes).
 */
export async function buildTrainingPlan(
  forward: NetworkPlan, params: readonly Param[], tags: { trainable: readonly Param[]; regularizable: readonly Param[] }, spec: TrainingSpec,
  scratch: (steps: readonly TrainingStep[]) => Promise<number[]>,
): Promise<TrainingLayout> {
  if (forward.inputs.length !== 1 || forward.outputs.length !== 1) {
    throw new NotImplementedError(`compileTraining needs a network with one input and one output layer, but this one has ${forward.inputs.length} inputs and ${forward.outputs.length} outputs`);
  }
  const drafts: Draft[] = forward.tensors.map((t) => ({ producer: t.producer, shape: [...t.shape], batchAxis: t.batchAxis, pinned: false }));
  const newTensor = (producer: string, shape: readonly number[], batchAxis: number, pinned = false): number => {
    drafts.push({ producer, shape: [...shape], batchAxis, pinned });
    return drafts.length - 1;
  };
  const input = forward.inputs[0];
  drafts[input].pinned = true;
  const producerOf = new Map<number, KernelStep>();
  for (const s of forward.steps) producerOf.set(s.output, s);

  // the prediction the loss reads: the batch-last (U, N) form of the output
  let kept = [...forward.steps];
  let prediction = forward.outputs[0];
  const last = producerOf.get(prediction);
  if (last?.op === 'transpose' && drafts[last.input].shape.length === 2) {
    prediction = last.input;
    kept = kept.filter((s) => s !== last);
  }
  const pshape = drafts[prediction].shape;
  if (pshape.length !== 2 || drafts[prediction].batchAxis !== 1) {
    throw new NotImplementedError(
      `compileTraining needs a network whose output is 2-D (batch, units), as DenseLayer gives; this one's output has shape ${formatShape(forward.tensors[forward.outputs[0]].shape)}`,
    );
  }
  const [units, batch] = pshape;
  let fusedSoftmax = false;
  const beforeLoss = producerOf.get(prediction);
  if (beforeLoss?.op === 'softmax' && spec.loss === 'categorical_crossentropy') {
    fusedSoftmax = true;
    prediction = beforeLoss.input;
    kept = kept.filter((s) => s !== beforeLoss);
  }

  // parameters in the arena
  const trainableSet = new Set(tags.trainable);
  const regularizable = new Set(tags.regularizable);
  const tparams: TrainingParam[] = params.map((p) => {
    const value = newTensor(p.name, p.shape as number[], -1, true);
    const trainable = trainableSet.has(p);
    const grad = newTensor(`${p.name}#grad`, p.shape as number[], -1, true);
    const state = trainable ? Array.from({ length: UPDATE_STATE[spec.updates.rule] }, (_, k) => newTensor(`${p.name}#state${k}`, p.shape as number[], -1, true)) : [];
    return { name: p.name, shape: [...(p.shape as number[])], value, grad, state, regularizable: regularizable.has(p) };
  });
  const readers = new Map<number, number>();
  const steps: TrainingStep[] = [];
  const push = (phase: Phase, s: StepDraft): void => {
    steps.push({ ...s, index: steps.length, phase } as TrainingStep);
  };

  // forward: kernel forms of the weights first, then the network's steps reading them
  const kernelForm = new Map<KernelStep, number>();
  for (const s of kept) {
    if (s.op !== 'filter_acts' && s.op !== 'nin') continue;
    readers.set(s.weight, (readers.get(s.weight) ?? 0) + 1);
    if (s.bias >= 0) readers.set(s.bias, (readers.get(s.bias) ?? 0) + 1);
    const value = tparams[s.weight].value;
    if (s.op === 'filter_acts') {
      const k = newTensor(`${s.layer}#kernel`, [s.channels, s.filterSize, s.filterSize, s.filters], -1);
      push('forward', { op: 'weight_form', layer: s.layer, input: value, output: k, weightLayout: s.weightLayout, flipFilters: s.flipFilters, channels: s.channels, filterSize: s.filterSize, filters: s.filters });
      kernelForm.set(s, k);
    } else if (s.weightLayout === 'cu') {
      const k = newTensor(`${s.layer}#kernel`, [s.units, s.channels], -1);
      push('forward', { op: 'transpose', layer: s.layer, input: value, output: k, perm: [1, 2, 3, 0], inShape: [s.channels, s.units, 1, 1] });
      kernelForm.set(s, k);
    } else {
      kernelForm.set(s, value);
    }
  }
  for (const [param, n] of readers) {
    if (n > 1) throw new NotImplementedError(`compileTraining: parameter ${params[param].name} is read by ${n} layers; shared parameters are not supported in training yet`);
  }
  for (const s of kept) {
    const { index: _i, ...rest } = s;
    void _i;
    if (rest.op === 'filter_acts' || rest.op === 'nin') {
      push('forward', { ...rest, weight: kernelForm.get(s) as number, bias: rest.bias >= 0 ? tparams[rest.bias].value : -1 });
    } else {
      push('forward', rest);
    }
  }

  // the loss
  const targets = newTensor('targets', [units, batch], 1, true);
  const loss = newTensor('loss', [1], -1, true);
  const grads = new Map<number, number>();
  const gradOf = (t: number): number => {
    let g = grads.get(t);
    if (g === undefined) {
      g = newTensor(`${drafts[t].producer}#grad`, drafts[t].shape, drafts[t].batchAxis, t === input);
      grads.set(t, g);
    }
    return g;
  };
  const lossLabel = forward.layers[forward.layers.length - 1]?.name ?? 'loss';
  const lossStep: Omit<LossStep, 'index'> = {
    op: 'loss', layer: lossLabel, kind: spec.loss, fusedSoftmax, prediction, targets, targetForm: 'dense',
    outputGrad: gradOf(prediction), loss, units, batch, aggregate: spec.aggregate,
  };
  push('forward', lossStep);

  // backward, in reverse forward order
  const partialSumOf = (layer: string): number => {
    const g = forward.weightGradients?.find((w) => w.layer === layer);
    if (g === undefined) throw new RuntimeError(`compileTraining: the forward plan has no weight-gradient plan for ${layer}`);
    return g.effective;
  };
  // a tensor needs a gradient when it depends on a parameter, or on the input with inputGradient
  const dependsOn = new Set<number>(spec.inputGradient ? [input] : []);
  for (const s of kept) {
    if (dependsOn.has(s.input) || s.op === 'filter_acts' || s.op === 'nin') dependsOn.add(s.output);
  }
  const wantsGrad = (t: number) => dependsOn.has(t);
  for (const s of [...kept].reverse()) {
    if (!grads.has(s.output)) continue;
    const gO = grads.get(s.output) as number;
    const into = wantsGrad(s.input);
    for (const b of gradientSteps(s, gO, into ? gradOf(s.input) : -1, tparams, kernelForm.get(s) ?? -1, newTensor, partialSumOf)) push('backward', b);
  }
  if (spec.l1 > 0 || spec.l2 > 0) {
    for (const p of tparams) {
      if (!p.regularizable || !trainableSet.has(params[tparams.indexOf(p)])) continue;
      push('backward', { op: 'penalty', layer: p.name, param: p.value, grad: p.grad, loss, count: shapeSize(p.shape), l1: spec.l1, l2: spec.l2 });
    }
  }
  const u = spec.updates;
  tparams.forEach((p, i) => {
    if (!trainableSet.has(params[i])) return;
    const up: Omit<UpdateStep, 'index'> = {
      op: 'update', layer: p.name, rule: u.rule, param: p.value, grad: p.grad, state: p.state, count: shapeSize(p.shape),
      momentum: u.momentum, rho: u.rho, beta1: u.beta1, beta2: u.beta2, epsilon: u.epsilon,
    };
    push('update', up);
  });

  // the backend's scratch, then lifetimes and the arena
  const needs = await scratch(steps);
  steps.forEach((s, i) => {
    const need = needs[i] ?? 0;
    if (!(Number.isInteger(need) && need >= 0)) throw new RuntimeError(`compileTraining: the backend asked for ${String(need)} bytes of scratch for step ${i}`);
    if (need > 0) s.scratch = newTensor(`${s.layer}#scratch`, [Math.ceil(need / 4)], -1);
  });
  const end = Math.max(steps.length - 1, 0);
  const first = drafts.map(() => Infinity);
  const lastUse = drafts.map(() => -Infinity);
  for (const s of steps) {
    const { reads, writes } = stepOperands(s);
    for (const t of [...reads, ...writes, ...(s.scratch === undefined ? [] : [s.scratch])]) {
      first[t] = Math.min(first[t], s.index);
      lastUse[t] = Math.max(lastUse[t], s.index);
    }
  }
  const lived = drafts.map((d, id) => {
    const pinned = d.pinned || id === prediction;
    const untouched = first[id] === Infinity;
    return {
      id, producer: d.producer, shape: d.shape, bytes: 4 * shapeSize(d.shape), batchAxis: d.batchAxis,
      first: pinned ? 0 : untouched ? 0 : first[id], last: pinned ? end : untouched ? 0 : lastUse[id],
    };
  });
  const alignment = forward.alignment;
  const { offsets, totalBytes } = planArena(lived, alignment);
  const tensors: PlanTensor[] = lived.map((t, i) => ({ id: t.id, shape: t.shape, bytes: t.bytes, offset: offsets[i], batchAxis: t.batchAxis }));
  const inputGrad = spec.inputGradient ? grads.get(input) : undefined;
  const body: Omit<TrainingPlan, 'digest'> = {
    tensors, arenaBytes: totalBytes, alignment, steps, inputs: [input, targets], targets, loss, outputs: [prediction],
    params: tparams, ...(inputGrad === undefined ? {} : { inputGrad }),
  };
  const plan = deepFreeze({ ...body, digest: fnv1a64(JSON.stringify(body)) }) as TrainingPlan;
  return { plan, trainable: params.map((p) => trainableSet.has(p)), inputShape: [...forward.tensors[input].shape], units, batch };
}


/**
 * The backward steps of one forward step: `gO` is the gradient of its output, `gI` the tensor for
 * the gradient of its input (-1: not needed), `kernel` the tensor of its weight's kernel form.
 */
function gradientSteps(
  s: KernelStep, gO: number, gI: number, params: readonly TrainingParam[], kernel: number,
  newTensor: (producer: string, shape: readonly number[], batchAxis: number) => number,
  partialSum: (layer: string) => number,
): StepDraft[] {
  const out: StepDraft[] = [];
  const layer = s.layer;
  switch (s.op) {
    case 'transpose':
      if (gI >= 0) {
        const { index: _i, ...t } = transposeGradStep(s, gO, gI, 0);
        void _i;
        out.push(t as Omit<TransposeStep, 'index'>);
      }
      break;
    case 'filter_acts': {
      checkDerivativeFromOutput(layer, s.nonlinearity.kind, s.nonlinearity.params);
      out.push({
        op: 'bias_act_grad', layer, output: s.output, outputGrad: gO, preActGrad: gO, biasGrad: s.bias >= 0 ? params[s.bias].grad : -1,
        biasMode: s.biasMode, nonlinearity: s.nonlinearity, units: s.filters, positions: s.outRows * s.outCols, batch: s.batch,
      });
      const dwK = newTensor(`${layer}#kernel#grad`, [s.channels, s.filterSize, s.filterSize, s.filters], -1);
      const { index: _i, ...wa } = weightActsStep({ ...s, layer }, partialSum(layer), { input: s.input, preActGrad: gO, weightGrad: dwK, index: 0 });
      void _i;
      out.push(wa);
      out.push({
        op: 'weight_grad_layout', layer, weightGrad: dwK, paramGrad: params[s.weight].grad, weightLayout: s.weightLayout, flipFilters: s.flipFilters,
        channels: s.channels, filterSize: s.filterSize, filters: s.filters,
      });
      if (gI >= 0) {
        out.push({
          op: 'img_acts', layer, preActGrad: gO, weight: kernel, inputGrad: gI, channels: s.channels, rows: s.rows, cols: s.cols, batch: s.batch,
          filters: s.filters, filterSize: s.filterSize, stride: s.stride, pad: s.pad, outRows: s.outRows, outCols: s.outCols,
        });
      }
      break;
    }
    case 'nin': {
      checkDerivativeFromOutput(layer, s.nonlinearity.kind, s.nonlinearity.params);
      out.push({
        op: 'bias_act_grad', layer, output: s.output, outputGrad: gO, preActGrad: gO, biasGrad: s.bias >= 0 ? params[s.bias].grad : -1,
        biasMode: s.biasMode, nonlinearity: s.nonlinearity, units: s.units, positions: s.positions, batch: s.batch,
      });
      const geometry = { channels: s.channels, units: s.units, positions: s.positions, batch: s.batch };
      if (s.weightLayout === 'cu') {
        const dwK = newTensor(`${layer}#kernel#grad`, [s.units, s.channels], -1);
        out.push({ op: 'nin_grad_weight', layer, input: s.input, preActGrad: gO, weightGrad: dwK, ...geometry });
        out.push({ op: 'transpose', layer, input: dwK, output: params[s.weight].grad, perm: [1, 2, 3, 0], inShape: [s.units, s.channels, 1, 1] });
      } else {
        out.push({ op: 'nin_grad_weight', layer, input: s.input, preActGrad: gO, weightGrad: params[s.weight].grad, ...geometry });
      }
      if (gI >= 0) out.push({ op: 'nin_grad_input', layer, preActGrad: gO, weight: kernel, inputGrad: gI, ...geometry });
      break;
    }
    case 'max_pool':
      if (gI >= 0) {
        out.push({
          op: 'max_pool_grad', layer, input: s.input, output: s.output, outputGrad: gO, inputGrad: gI, channels: s.channels, rows: s.rows, cols: s.cols,
          batch: s.batch, poolSize: s.poolSize, stride: s.stride, outRows: s.outRows, outCols: s.outCols,
        });
      }
      break;
    case 'copy':
      if (gI >= 0) out.push({ op: 'copy', layer, input: gO, output: gI, count: s.count, batch: s.batch });
      break;
    case 'activation':
      checkDerivativeFromOutput(layer, s.nonlinearity.kind, s.nonlinearity.params);
      if (gI >= 0) {
        out.push({
          op: 'bias_act_grad', layer, output: s.output, outputGrad: gO, preActGrad: gI, biasGrad: -1, biasMode: 'none',
          nonlinearity: s.nonlinearity, units: s.count / s.batch, positions: 1, batch: s.batch,
        });
      }
      break;
    case 'softmax':
      if (gI >= 0) out.push({ op: 'softmax_grad', layer, output: s.output, outputGrad: gO, inputGrad: gI, units: s.units, batch: s.batch });
      break;
    case 'dropout':
      if (gI >= 0) out.push({ ...s, input: gO, output: gI });
      break;
    case 'global_pool':
      if (gI >= 0) out.push({ op: 'global_pool_grad', layer, outputGrad: gO, inputGrad: gI, channels: s.channels, positions: s.positions, batch: s.batch });
      break;
  }
  return out;
}

function deepFreeze<T>(x: T): T {
  if (x === null || typeof x !== 'object' || Object.isFrozen(x)) return x;
  for (const v of Object.values(x as object)) deepFreeze(v);
  return Object.freeze(x);
}

/** Targets as the trainer's plan takes them: dense (U, N), batch last. */
function targetsData(targets: unknown, units: number, batch: number, loss: LossKind): Float32Array {
  const out = new Float32Array(units * batch);
  if (targets instanceof Int32Array) {
    if (loss !== 'categorical_crossentropy' && loss !== 'multiclass_hinge') {
      throw new ValueError(`targets: class indices (an Int32Array) suit categoricalCrossentropy and multiclassHingeLoss; ${loss} needs an NDArray of the output's shape [${batch}, ${units}]`);
    }
    if (targets.length !== batch) throw new ValueError(`targets must hold one class index per example (${batch}), but has ${targets.length}`);
    for (let n = 0; n < batch; n++) {
      const c = targets[n];
      if (c < 0 || c >= units) throw new ValueError(`targets[${n}] must be a class index in [0, ${units}), but is ${c}`);
      out[c * batch + n] = 1;
    }
    return out;
  }
  const t = asNDArray(targets, 'targets');
  if (t.shape.length !== 2 || t.shape[0] !== batch || t.shape[1] !== units) {
    throw new ValueError(`targets must be an Int32Array of ${batch} class indices or an NDArray of shape [${batch}, ${units}], but got shape ${formatShape(t.shape)}`);
  }
  for (let n = 0; n < batch; n++) for (let u = 0; u < units; u++) out[u * batch + n] = t.data[n * units + u];
  return out;
}

/** What `trainer.gradients()` resolves to. */
export interface GradientsResult {
  loss: number;
  /** In the order of `getAllParams(net, { trainable: true })`, each of its param's shape. */
  grads: NDArray[];
  /** d loss / d input (compileTraining with inputGradient: true). */
  inputGrad?: NDArray;
}

/**
 * A compiled training function (compileTraining). `step` runs forward, loss, backward and the
 * updates on the device; parameters and update state stay there between steps. `syncParams()`
 * copies the device values into the Params (so `getValue()`, `saveNpz` and compiled networks see
 * them); a Param set by the user between steps is uploaded before the next one.
 */
export class Trainer {
  readonly plan: TrainingPlan;
  readonly backend: BackendName;
  /** What the backend runs on (adapter, threads). */
  readonly device: string;
  readonly #prepared: PreparedTraining;
  readonly #params: readonly Param[];
  readonly #layout: TrainingLayout;
  readonly #loss: LossKind;
  /** Param.version the device holds, per plan param (-1: never uploaded). */
  readonly #versions: number[];
  #learningRate: number;
  #t = 0;
  #counter = 0;
  #disposed = false;

  /** @internal Use `compileTraining()`. */
  constructor(layout: TrainingLayout, backend: BackendName, prepared: PreparedTraining, params: readonly Param[], spec: TrainingSpec) {
    this.plan = layout.plan;
    this.backend = backend;
    this.device = prepared.description;
    this.#prepared = prepared;
    // lasagne.memory() counts it until dispose()
    trackDeviceMemory(this, () => (this.#disposed ? 0 : prepared.bytes), backend, 'trainer');
    this.#params = params;
    this.#layout = layout;
    this.#loss = spec.loss;
    this.#versions = params.map(() => -1);
    this.#learningRate = spec.updates.learningRate;
  }

  /** The learning rate the next step uses. */
  get learningRate(): number {
    return this.#learningRate;
  }

  /** Changes the learning rate from the next step on (Lasagne: a shared variable's set_value). */
  setLearningRate(value: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValueError(`setLearningRate needs a finite number, but got ${String(value)}`);
    this.#learningRate = value;
  }

  /** Updates so far. */
  get updates(): number {
    return this.#t;
  }

  #check(): void {
    if (this.#disposed) throw new RuntimeError('this trainer was disposed; compile it again with compileTraining');
  }

  #inputs(x: unknown, targets: unknown): Float32Array[] {
    const a = asNDArray(x, 'input');
    const want = this.#layout.inputShape;
    if (a.shape.length !== want.length || a.shape.some((d, i) => d !== want[i])) {
      throw new ValueError(`input must have the compiled shape ${formatShape(want)}, but got ${formatShape(a.shape)}`);
    }
    return [a.data, targetsData(targets, this.#layout.units, this.#layout.batch, this.#loss)];
  }

  /** Uploads every Param whose value changed since the device last saw it. */
  async #upload(): Promise<void> {
    const writes: Promise<void>[] = [];
    this.#params.forEach((p, i) => {
      if (p.version === this.#versions[i]) return;
      const v = p.getValue();
      writes.push(this.#prepared.write(this.plan.params[i].value, v.data));
      this.#versions[i] = p.version;
    });
    await Promise.all(writes);
  }

  /** One update on a batch; resolves to the batch loss (with the penalties) before the update. */
  async step(x: NDArray, targets: Int32Array | NDArray): Promise<number> {
    this.#check();
    const inputs = this.#inputs(x, targets);
    await this.#upload();
    this.#t++;
    this.#counter = (this.#counter + 1) >>> 0;
    const [loss] = await this.#prepared.run(inputs, { learningRate: this.#learningRate, t: this.#t, counter: this.#counter }, { update: true, read: [this.plan.loss] });
    return loss[0];
  }

  /** The loss and d loss / d param (no update), in getAllParams(net, { trainable: true }) order. */
  async gradients(x: NDArray, targets: Int32Array | NDArray): Promise<GradientsResult> {
    this.#check();
    const inputs = this.#inputs(x, targets);
    await this.#upload();
    this.#counter = (this.#counter + 1) >>> 0;
    const trainable = this.plan.params.filter((_, i) => this.#layout.trainable[i]);
    const read = [this.plan.loss, ...trainable.map((p) => p.grad), ...(this.plan.inputGrad === undefined ? [] : [this.plan.inputGrad])];
    const got = await this.#prepared.run(inputs, { learningRate: this.#learningRate, t: this.#t + 1, counter: this.#counter }, { update: false, read });
    const grads = trainable.map((p, i) => ({ data: got[1 + i], shape: [...p.shape] }));
    const result: GradientsResult = { loss: got[0][0], grads };
    if (this.plan.inputGrad !== undefined) result.inputGrad = { data: got[got.length - 1], shape: [...this.#layout.inputShape] };
    return result;
  }

  /** Copies the device's parameter values into the Params (Param.getValue, saveNpz and networks then see them). */
  async syncParams(): Promise<void> {
    this.#check();
    const values = await this.#prepared.read(this.plan.params.map((p) => p.value));
    this.#params.forEach((p, i) => {
      if (this.#versions[i] !== p.version) return; // set by the user since: theirs wins, uploaded next step
      p.setValue({ data: values[i], shape: [...p.shape] as number[] });
      this.#versions[i] = p.version;
    });
  }

  /** Frees every device resource. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#prepared.dispose();
    releaseDeviceMemory(this);
  }
}

/**
 * Compiles a training function for a network (Lasagne: get_output, an objective, updates and
 * theano.function with updates), on the backend `backend` picks:
 *
 * ```ts
 * const trainer = await compileTraining(net, {
 *   loss: objectives.categoricalCrossentropy,
 *   updates: updates.nesterovMomentum({ learningRate: 0.01, momentum: 0.9 }),
 *   regularization: { l2: 1e-4 }, batchSize: 128,
 * });
 * const loss = await trainer.step(images, labels);   // labels: Int32Array of class indices
 * ```
 */
export async function compileTraining(outputLayer: Layer, options: TrainingOptions): Promise<Trainer> {
  const opts = checkOptions<TrainingOptions>(options, TRAINING_OPTIONS, 'compileTraining');
  if (!(outputLayer instanceof Layer)) throw new TypeError(`compileTraining: expected the network's output Layer, but got ${typeof outputLayer}`);
  const spec = trainingSpec(opts);
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
    throw new ValueError(`compileTraining option 'threads' must be a positive integer, but got ${String(opts.threads)}`);
  }
  const forward = makePlan(outputLayer, { ...(opts.batchSize === undefined ? {} : { batchSize: opts.batchSize }), deterministic: false, training: true });
  const params = getAllParams(outputLayer);
  const inputs = getAllLayers(outputLayer).filter(isInputLayer);
  if (inputs.length !== 1) throw new NotImplementedError(`compileTraining needs a network with one InputLayer, but this one has ${inputs.length}`);
  const backend: Backend = await selectBackend(opts.backend ?? 'auto', opts.device !== undefined);
  const backendOptions: BackendOptions = { device: opts.device, threads: opts.threads };
  const tags = { trainable: getAllParams(outputLayer, { trainable: true }), regularizable: getAllParams(outputLayer, { regularizable: true }) };
  const layout = await buildTrainingPlan(forward, params, tags, spec, (steps) => backend.trainingScratchBytes(steps, backendOptions));
  const prepared = await backend.prepareTraining(layout.plan, backendOptions);
  return new Trainer(layout, backend.name, prepared, params, spec);
}
