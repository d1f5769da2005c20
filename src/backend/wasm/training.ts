/**
 * The WASM backend's training executor (src/ops/training.ts TrainingPlan, PreparedTraining): one
 * instance of build/kernels.wasm whose memory holds the plan's arena (exactly plan.arenaBytes,
 * zeroed, so every update rule's state starts at 0) with every tensor at its planned offset. Each
 * step is one C call, in plan order; phase 'update' steps are skipped when a run asks for no update.
 *
 *   - forward steps go through engine.ts forwardCall, the inference engine's own call code; their
 *     `weight` and `bias` fields are tensor ids. filter_acts reads its kernel-form (C, k, k, F)
 *     weight tensor through filter_acts.c's packed form: pack_filters writes it into the step's
 *     scratch, right after the kernel's own scratch (trainingScratchBytes asks for both), just
 *     before the call, so a weight updated in the previous run is packed afresh;
 *   - backward steps go through backward.ts runBackwardStep (conv and NIN weights: the kernel-form
 *     tensors, unpacked);
 *   - weight_form, loss, penalty, update, softmax_grad and global_pool_grad: training.c and
 *     elementwise.c. The run's hyperparameters arrive as call arguments: each update step's
 *     updateScalar, each dropout step's counter.
 *
 * Threads: by default (and with threads: 1) a training plan runs on the calling thread; with
 * options.threads = n > 1 the batch is split over n worker threads (training_threads.ts), the
 * gradients summed across them in worker order on this thread. Reductions (loss, penalty, bias and
 * weight gradients) are computed in one fixed order: the same result every run for a given thread
 * count (a different thread count sums in a different order: results agree up to float rounding).
 * With threads, `read()` of a batch tensor returns what the last run gathered of it (its run's
 * `read` list, the outputs and the input gradient); other batch tensors live in the workers only.
 */
import { RuntimeError, ValueError } from '../../errors.js';
import type { BackwardStep } from '../../ops/backward.js';
import { activationOf } from '../../ops/codes.js';
import type { PlanTensor } from '../../ops/plan.js';
import { filterWeightElements, paramElements, type KernelStep } from '../../ops/steps.js';
import {
  UPDATE_STATE, updateScalar, type LossKind, type LossStep, type PreparedTraining, type TrainingHyper, type TrainingPlan, type TrainingRunOptions, type TrainingStep,
  type UpdateRule,
} from '../../ops/training.js';
import type { BackendOptions } from '../backend.js';
import { backwardScratchBytes, runBackwardStep } from './backward.js';
import { forwardCall, kernelsModule, queryInstance, simdName, stepScratch, type DropoutPlacement } from './engine.js';
import type { KernelsExports } from './kernels_abi.js';
import { checkStep, FORWARD_OPS, placeBatch, sliceBatch } from './layout.js';
import { WorkerPool, workersSupported } from './threads.js';
import { splitTraining, subTrainingPlans, trainingSizes, type TrainingSplit } from './training_threads.js';

/** The loss kinds' codes in training.c. */
export const LOSS_CODES = Object.freeze({
  categorical_crossentropy: 0, binary_crossentropy: 1, squared_error: 2, binary_hinge: 3, multiclass_hinge: 4,
} as const satisfies Record<LossKind, number>);

/** The update rules' codes in training.c. */
export const UPDATE_CODES = Object.freeze({
  sgd: 0, momentum: 1, nesterov_momentum: 2, adagrad: 3, rmsprop: 4, adadelta: 5, adam: 6, adamax: 7,
} as const satisfies Record<UpdateRule, number>);

/**
 * The loss step's weight w (LossStep: loss = w sum l): 1 / (B per example, U B per element) for
 * 'mean', 1 for 'sum'. `batch`: the full batch, also for a thread's slice.
 */
export function lossWeight(s: Pick<LossStep, 'kind' | 'units' | 'aggregate'>, batch: number): number {
  if (s.aggregate === 'sum') return 1;
  const perExample = s.kind === 'categorical_crossentropy' || s.kind === 'multiclass_hinge';
  return 1 / (perExample ? batch : s.units * batch);
}

const BACKWARD_OPS = ['bias_act_grad', 'img_acts', 'weight_acts', 'weight_grad_layout', 'max_pool_grad', 'nin_grad_input', 'nin_grad_weight'];

const align16 = (n: number) => Math.ceil(n / 16) * 16;
const product = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

/** Where filter_acts' packed filters start in its training scratch: past the kernel's own scratch. */
function packedOffset(k: KernelsExports, s: KernelStep): number {
  return align16(stepScratch(k, s));
}

/**
 * Scratch bytes a training step needs on this backend: filter_acts its kernel's scratch plus its
 * packed filters (4 C k k F bytes, 16-byte aligned); img_acts and weight_acts what backward.ts
 * says; every other step none.
 */
export function trainingStepScratch(k: KernelsExports, s: TrainingStep): number {
  if (s.op === 'filter_acts') return packedOffset(k, s) + 4 * filterWeightElements(s);
  if (BACKWARD_OPS.includes(s.op)) return backwardScratchBytes(k, s as BackwardStep);
  return 0;
}

/** Backend.trainingScratchBytes of the WASM backend. */
export async function trainingScratchBytes(steps: readonly TrainingStep[]): Promise<number[]> {
  const k = await queryInstance(await kernelsModule());
  return steps.map((s) => trainingStepScratch(k, s));
}

function stepName(s: TrainingStep): string {
  return `step ${s.index} (${s.op} of ${s.layer})`;
}

function fail(s: TrainingStep, what: string): never {
  throw new RuntimeError(`wasm backend: training ${stepName(s)} ${what}; the plan does not match its tensors`);
}

const isPositiveInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1;

/**
 * Checks a training step against the plan's tensors: every operand exists and holds the elements
 * the step's geometry says, the sizes are positive integers, the codes are known, the scratch is
 * large enough.
 */
function checkTrainingStep(k: KernelsExports, s: TrainingStep, tensors: readonly PlanTensor[]): void {
  const tensor = (id: unknown, elements: number, what: string) => {
    if (!(typeof id === 'number' && Number.isInteger(id) && tensors[id] !== undefined)) fail(s, `names ${what} tensor ${String(id)}, which the plan lacks`);
    const n = product(tensors[id].shape);
    if (n !== elements) fail(s, `needs ${elements} elements of its ${what}, but tensor ${id} has shape [${tensors[id].shape.join(', ')}]`);
  };
  const dims = (...d: unknown[]) => {
    if (!d.every(isPositiveInt)) fail(s, `has sizes [${d.join(', ')}] that are not all positive integers`);
  };
  // weight_form and weight_grad_layout: a conv weight (or its gradient) moved between two layouts
  const relayout = (f: { channels: number; filterSize: number; filters: number; weightLayout: unknown }, from: unknown, fromWhat: string, to: unknown, toWhat: string) => {
    dims(f.channels, f.filterSize, f.filters);
    if (f.weightLayout !== 'fckk' && f.weightLayout !== 'ckkf') fail(s, `has weightLayout ${String(f.weightLayout)}`);
    tensor(from, filterWeightElements(f), fromWhat);
    tensor(to, filterWeightElements(f), toWhat);
  };
  if (!['forward', 'backward', 'update'].includes(s.phase)) fail(s, `has phase ${String(s.phase)}`);
  if (FORWARD_OPS.includes(s.op)) {
    const f = s as KernelStep;
    checkStep(f, tensors, true);
    if (f.op === 'filter_acts' || f.op === 'nin') {
      const n = paramElements(f);
      tensor(f.weight, n.weight, 'weight');
      if (f.biasMode !== 'none') tensor(f.bias, n.bias, 'bias');
    }
  } else {
    switch (s.op) {
      case 'weight_form':
        relayout(s, s.input, 'parameter', s.output, 'kernel-form weight');
        break;
      case 'loss': {
        dims(s.units, s.batch);
        if (!Object.prototype.hasOwnProperty.call(LOSS_CODES, s.kind)) fail(s, `has loss kind ${String(s.kind)}`);
        if (s.fusedSoftmax && s.kind !== 'categorical_crossentropy') fail(s, `fuses the softmax into a ${s.kind} loss; only categorical_crossentropy fuses it`);
        if (s.kind === 'multiclass_hinge' && s.units < 2) fail(s, 'computes a multiclass hinge over 1 unit; it needs at least 2 classes');
        if (s.targetForm !== 'index' && s.targetForm !== 'dense') fail(s, `has targetForm ${String(s.targetForm)}`);
        if (s.aggregate !== 'mean' && s.aggregate !== 'sum') fail(s, `has aggregate ${String(s.aggregate)}`);
        const n = s.units * s.batch;
        tensor(s.prediction, n, 'prediction');
        tensor(s.targets, s.targetForm === 'index' ? s.batch : n, 'targets');
        tensor(s.outputGrad, n, 'output gradient');
        tensor(s.loss, 1, 'loss');
        break;
      }
      case 'penalty':
        dims(s.count);
        if (!(Number.isFinite(s.l1) && Number.isFinite(s.l2))) fail(s, `has l1=${s.l1}, l2=${s.l2}`);
        tensor(s.param, s.count, 'parameter');
        tensor(s.grad, s.count, 'gradient');
        tensor(s.loss, 1, 'loss');
        break;
      case 'update': {
        dims(s.count);
        if (!Object.prototype.hasOwnProperty.call(UPDATE_CODES, s.rule)) fail(s, `has update rule ${String(s.rule)}`);
        if (!Array.isArray(s.state) || s.state.length !== UPDATE_STATE[s.rule]) fail(s, `keeps ${Array.isArray(s.state) ? s.state.length : 'no'} state tensors, but ${s.rule} keeps ${UPDATE_STATE[s.rule]}`);
        for (const h of ['momentum', 'rho', 'beta1', 'beta2', 'epsilon'] as const) if (!Number.isFinite(s[h])) fail(s, `has ${h}=${s[h]}`);
        tensor(s.param, s.count, 'parameter');
        tensor(s.grad, s.count, 'gradient');
        s.state.forEach((id, i) => tensor(id, s.count, `state ${i}`));
        break;
      }
      case 'softmax_grad':
        dims(s.units, s.batch);
        tensor(s.output, s.units * s.batch, 'softmax output');
        tensor(s.outputGrad, s.units * s.batch, 'output gradient');
        tensor(s.inputGrad, s.units * s.batch, 'input gradient');
        break;
      case 'global_pool_grad':
        dims(s.channels, s.positions, s.batch);
        tensor(s.outputGrad, s.channels * s.batch, 'output gradient');
        tensor(s.inputGrad, s.channels * s.positions * s.batch, 'input gradient');
        break;
      case 'bias_act_grad': {
        dims(s.units, s.positions, s.batch);
        activationOf(s.nonlinearity, s.layer);
        const n = s.units * s.positions * s.batch;
        tensor(s.output, n, 'forward output');
        tensor(s.outputGrad, n, 'output gradient');
        tensor(s.preActGrad, n, 'pre-activation gradient');
        if (s.biasMode !== 'none') tensor(s.biasGrad, s.biasMode === 'tied' ? s.units : s.units * s.positions, 'bias gradient');
        break;
      }
      case 'img_acts':
      case 'weight_acts': {
        dims(s.channels, s.rows, s.cols, s.batch, s.filters, s.filterSize, s.stride, s.outRows, s.outCols);
        if (!(Number.isInteger(s.pad) && s.pad >= 0)) fail(s, `has pad ${s.pad}`);
        if ((s.outRows - 1) * s.stride + s.filterSize > s.rows + 2 * s.pad || (s.outCols - 1) * s.stride + s.filterSize > s.cols + 2 * s.pad) {
          fail(s, `asks for a ${s.outRows}x${s.outCols} output, more than a ${s.rows}x${s.cols} input with pad ${s.pad} gives`);
        }
        const image = s.channels * s.rows * s.cols * s.batch;
        const out = s.filters * s.outRows * s.outCols * s.batch;
        tensor(s.preActGrad, out, 'pre-activation gradient');
        if (s.op === 'img_acts') {
          tensor(s.weight, filterWeightElements(s), 'kernel-form weight');
          tensor(s.inputGrad, image, 'input gradient');
        } else {
          dims(s.effectivePartialSum);
          tensor(s.input, image, 'input');
          tensor(s.weightGrad, filterWeightElements(s), 'kernel-form weight gradient');
        }
        break;
      }
      case 'weight_grad_layout':
        relayout(s, s.weightGrad, 'kernel-form weight gradient', s.paramGrad, 'parameter gradient');
        break;
      case 'max_pool_grad': {
        dims(s.channels, s.rows, s.cols, s.batch, s.poolSize, s.stride, s.outRows, s.outCols);
        if ((s.outRows - 1) * s.stride >= s.rows || (s.outCols - 1) * s.stride >= s.cols) fail(s, `has a pooling window starting outside the ${s.rows}x${s.cols} input`);
        const image = s.channels * s.rows * s.cols * s.batch;
        const out = s.channels * s.outRows * s.outCols * s.batch;
        tensor(s.input, image, 'input');
        tensor(s.inputGrad, image, 'input gradient');
        tensor(s.output, out, 'output');
        tensor(s.outputGrad, out, 'output gradient');
        break;
      }
      case 'nin_grad_input':
      case 'nin_grad_weight': {
        dims(s.channels, s.units, s.positions, s.batch);
        const N = s.positions * s.batch;
        tensor(s.preActGrad, s.units * N, 'pre-activation gradient');
        if (s.op === 'nin_grad_input') {
          tensor(s.weight, s.units * s.channels, '(U, C) weight');
          tensor(s.inputGrad, s.channels * N, 'input gradient');
        } else {
          tensor(s.input, s.channels * N, 'input');
          tensor(s.weightGrad, s.units * s.channels, 'weight gradient');
        }
        break;
      }
      default:
        fail(s, 'is not a step the wasm backend knows');
    }
  }
  const need = trainingStepScratch(k, s);
  if (need > 0) {
    const have = s.scratch === undefined ? 0 : (tensors[s.scratch]?.bytes ?? 0);
    if (s.scratch !== undefined && tensors[s.scratch] === undefined) fail(s, `names scratch tensor ${s.scratch}, which the plan lacks`);
    if (have < need) fail(s, `needs ${need} bytes of scratch (Backend.trainingScratchBytes), but the plan gives it ${have}`);
  }
}

/** Checks a training plan's tensors, steps and inputs; returns the arena bytes and alignment. */
function checkPlan(k: KernelsExports, plan: TrainingPlan): { arenaBytes: number; alignment: number } {
  if (plan === null || typeof plan !== 'object' || !Array.isArray(plan.tensors) || !Array.isArray(plan.steps)) {
    throw new ValueError('prepareTraining requires a training plan (src/ops/training.ts TrainingPlan) with tensors and steps');
  }
  if (!(Number.isInteger(plan.arenaBytes) && plan.arenaBytes >= 0)) throw new RuntimeError(`wasm backend: the training plan has arenaBytes ${plan.arenaBytes}`);
  const alignment = Math.max(16, plan.alignment ?? 16);
  if ((alignment & (alignment - 1)) !== 0) throw new RuntimeError(`wasm backend: the training plan has alignment ${plan.alignment}, not a power of two`);
  plan.tensors.forEach((t, i) => {
    if (t.id !== i) throw new RuntimeError(`wasm backend: training plan tensor ${i} has id ${t.id}; ids must be positions`);
    if (!(Number.isInteger(t.offset) && t.offset >= 0 && t.offset % 4 === 0)) throw new RuntimeError(`wasm backend: tensor ${i} has offset ${t.offset}, not a multiple of 4 bytes`);
    if (!t.shape.every((d: number) => Number.isInteger(d) && d >= 0)) throw new RuntimeError(`wasm backend: tensor ${i} has shape [${t.shape.join(', ')}]`);
    const end = t.offset + Math.max(t.bytes, 4 * product(t.shape));
    if (end > plan.arenaBytes) throw new RuntimeError(`wasm backend: tensor ${i} ends at byte ${end}, past the arena's ${plan.arenaBytes} bytes`);
  });
  plan.steps.forEach((s) => checkTrainingStep(k, s, plan.tensors));
  const batches = new Set(plan.steps.flatMap((s) => (typeof (s as { batch?: unknown }).batch === 'number' ? [(s as { batch: number }).batch] : [])));
  if (batches.size > 1) throw new RuntimeError(`wasm backend: the training plan's steps have different batch sizes (${[...batches].join(', ')}); one network trains on one batch`);
  const ids = [...plan.inputs, plan.targets, plan.loss, ...plan.outputs, ...plan.params.flatMap((p) => [p.value, p.grad, ...p.state])];
  if (plan.inputGrad !== undefined) ids.push(plan.inputGrad);
  for (const id of ids) if (plan.tensors[id] === undefined) throw new RuntimeError(`wasm backend: the training plan names tensor ${id}, which it lacks`);
  return { arenaBytes: plan.arenaBytes, alignment };
}

/** The plan's batch: that of its steps with a `batch` field (checkPlan made them agree), 1 with none. */
function planBatch(plan: TrainingPlan): number {
  for (const s of plan.steps) {
    const b = (s as { batch?: unknown }).batch;
    if (typeof b === 'number') return b;
  }
  return 1;
}

/** The workers of a threaded training plan. */
interface Threads {
  pool: WorkerPool;
  split: TrainingSplit;
  sizes: number[];
  bounds: [number, number][];
  workerBytes: number;
}

/** One step's call: the kernel's code for this run's hyperparameters. */
type TrainingCall = (hyper: TrainingHyper) => number;

/**
 * The one call of a training step: a function of the run's hyperparameters returning the kernel's
 * code. `addr`: byte address of a tensor by id; `batch`: the FULL batch (the loss weighs with it,
 * also on a thread's slice); `placement`: where a dropout step's elements sit in the full tensor.
 */
export function trainingCall(k: KernelsExports, s: TrainingStep, addr: (id: number) => number, batch: number, placement?: DropoutPlacement): TrainingCall {
  const t = addr;
  const scratch = s.scratch === undefined ? 0 : t(s.scratch);
  if (FORWARD_OPS.includes(s.op)) {
    const f = s as KernelStep;
    if (f.op === 'filter_acts') {
      const packed = scratch + packedOffset(k, f);
      const K = filterWeightElements(f) / f.filters;
      const call = forwardCall(k, f, { tensor: t, weight: packed, bias: f.biasMode === 'none' ? 0 : t(f.bias), scratch });
      const w = t(f.weight);
      return (h) => k.pack_filters(w, packed, K, f.filters) || call(h.counter);
    }
    const at = { tensor: t, weight: f.op === 'nin' ? t(f.weight) : 0, bias: f.op === 'nin' && f.biasMode !== 'none' ? t(f.bias) : 0, scratch };
    const call = forwardCall(k, f, at, placement);
    return (h) => call(h.counter);
  }
  switch (s.op) {
    case 'weight_form':
      return () => k.weight_form(t(s.input), t(s.output), s.channels, s.filterSize, s.filters, s.weightLayout === 'fckk' ? 0 : 1, s.flipFilters ? 1 : 0);
    case 'loss': {
      const code = LOSS_CODES[s.kind];
      const w = lossWeight(s, batch);
      return () => k.loss(t(s.prediction), t(s.targets), t(s.outputGrad), t(s.loss), s.units, s.batch, code, s.fusedSoftmax ? 1 : 0, s.targetForm === 'index' ? 1 : 0, w);
    }
    case 'penalty':
      return () => k.penalty(t(s.param), t(s.grad), t(s.loss), s.count, s.l1, s.l2);
    case 'update': {
      const code = UPDATE_CODES[s.rule];
      const s0 = s.state.length > 0 ? t(s.state[0]) : 0;
      const s1 = s.state.length > 1 ? t(s.state[1]) : 0;
      return (h) =>
        k.update_param(t(s.param), t(s.grad), s0, s1, s.count, code, updateScalar(s, h), s.momentum, s.rho, s.beta1, s.beta2, s.epsilon, 1 - s.rho, 1 - s.beta1, 1 - s.beta2);
    }
    case 'softmax_grad':
      return () => k.softmax_grad(t(s.output), t(s.outputGrad), t(s.inputGrad), s.units, s.batch);
    case 'global_pool_grad':
      return () => k.global_pool_grad(t(s.outputGrad), t(s.inputGrad), s.channels, s.positions, s.batch);
    default: {
      const b = s as BackwardStep;
      const at = { tensor: t, weight: t };
      return () => {
        runBackwardStep(k, b, at);
        return 0;
      };
    }
  }
}

export class WasmPreparedTraining implements PreparedTraining {
  readonly description: string;
  readonly bytes: number;
  readonly #plan: TrainingPlan;
  #k: KernelsExports | null;
  readonly #addr: number[];
  readonly #calls: TrainingCall[];
  #queue: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #threads: Threads | null;
  /** Milliseconds per step of the last run (0 for skipped steps). */
  readonly times: Float64Array;

  private constructor(plan: TrainingPlan, k: KernelsExports, arena: number, arenaBytes: number, threads: Threads | null, note: string, simd: string) {
    this.#plan = plan;
    this.#k = k;
    this.#threads = threads;
    this.bytes = arenaBytes + (threads?.workerBytes ?? 0);
    this.#addr = plan.tensors.map((t) => arena + t.offset);
    const addr = (id: number) => this.#addr[id];
    const batch = planBatch(plan);
    this.#calls = plan.steps.map((s) => trainingCall(k, s, addr, batch));
    this.times = new Float64Array(plan.steps.length);
    const how = threads === null ? 'calling thread' : `${threads.sizes.length} worker threads, batch split ${threads.sizes.join('+')}`;
    this.description = `${simd} training (${how}${note})`;
  }

  static async create(plan: TrainingPlan, options: BackendOptions = {}): Promise<WasmPreparedTraining> {
    const requested = options?.threads;
    if (requested !== undefined && (!Number.isInteger(requested) || requested < 1)) {
      throw new ValueError(`the wasm backend requires threads to be a positive integer, but threads=${String(requested)}`);
    }
    const module = await kernelsModule();
    const query = await queryInstance(module);
    const { arenaBytes, alignment } = checkPlan(query, plan);
    let threads: Threads | null = null;
    let note = '';
    if (requested !== undefined && requested > 1) {
      const split = workersSupported() ? splitTraining(plan) : 'this environment has no worker threads';
      if (typeof split === 'string') note = `; threads=${requested} asked, but ${split}`;
      else {
        const sizes = trainingSizes(split.batch, requested);
        if (sizes.length > 1) {
          const plans = subTrainingPlans(plan, split, sizes, (s) => trainingStepScratch(query, s));
          const pool = await WorkerPool.create(module, plans);
          const bounds: [number, number][] = plans.map((p) => [p.b0, p.b0 + p.sub]);
          threads = { pool, split, sizes, bounds, workerBytes: plans.reduce((n, p) => n + p.arenaBytes, 0) };
        }
      }
    }
    const instance = new WebAssembly.Instance(module, {});
    const k = instance.exports as unknown as KernelsExports;
    const arena = arenaBytes > 0xffff0000 ? 0 : k.kernels_reserve(Math.max(arenaBytes, 16), alignment) >>> 0;
    if (arena === 0) {
      threads?.pool.terminate();
      throw new RuntimeError(`wasm backend: cannot grow the module's memory for the training arena (${arenaBytes} bytes; WebAssembly memory is limited to 4 GiB)`);
    }
    return new WasmPreparedTraining(plan, k, arena, arenaBytes, threads, note, simdName(module));
  }

  #view(id: number): Float32Array {
    const k = this.#k;
    if (k === null) throw new RuntimeError('this training plan was disposed; prepare it again to use it');
    return new Float32Array(k.memory.buffer, this.#addr[id], product(this.#plan.tensors[id].shape));
  }

  #checkTensor(id: unknown, what: string): number {
    if (!(typeof id === 'number' && Number.isInteger(id) && this.#plan.tensors[id] !== undefined)) {
      throw new ValueError(`${what} must be a tensor id of the training plan (0..${this.#plan.tensors.length - 1}), but got ${String(id)}`);
    }
    return id;
  }

  #checkRun(inputs: readonly Float32Array[], hyper: TrainingHyper, options: TrainingRunOptions): void {
    const plan = this.#plan;
    if (!Array.isArray(inputs) || inputs.length !== plan.inputs.length) {
      throw new ValueError(`run needs ${plan.inputs.length} input arrays (the network inputs, then the targets), but got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`);
    }
    inputs.forEach((x, i) => {
      const n = product(plan.tensors[plan.inputs[i]].shape);
      if (!(x instanceof Float32Array) || x.length !== n) {
        throw new ValueError(`run input ${i} must be a Float32Array of ${n} values, but got ${x instanceof Float32Array ? `${x.length} values` : typeof x}`);
      }
    });
    if (hyper === null || typeof hyper !== 'object') throw new ValueError(`run requires hyper { learningRate, t, counter }, but got ${String(hyper)}`);
    if (!Number.isFinite(hyper.learningRate)) throw new ValueError(`run requires hyper.learningRate to be a finite number, but learningRate=${String(hyper.learningRate)}`);
    if (!(Number.isInteger(hyper.t) && hyper.t >= 1)) throw new ValueError(`run requires hyper.t to be a positive integer (the update's step number), but t=${String(hyper.t)}`);
    if (!(Number.isInteger(hyper.counter) && hyper.counter >= 0 && hyper.counter < 2 ** 32)) {
      throw new ValueError(`run requires hyper.counter to be a u32 integer (the dropout counter), but counter=${String(hyper.counter)}`);
    }
    if (options === null || typeof options !== 'object' || !Array.isArray(options.read)) throw new ValueError('run requires options { update, read: tensor ids }');
    options.read.forEach((id, i) => this.#checkTensor(id, `options.read[${i}]`));
  }

  /** Queues `work`: it runs after every earlier call settled, at once when none is pending. */
  #enqueue<T>(work: () => T | Promise<T>): Promise<T> {
    let result: Promise<T>;
    if (this.#pending === 0) {
      try {
        result = Promise.resolve(work());
      } catch (e) {
        result = Promise.reject(e);
      }
    } else result = this.#queue.then(work);
    this.#pending++;
    this.#queue = result.then(
      () => void this.#pending--,
      () => void this.#pending--,
    );
    return result;
  }

  run(inputs: readonly Float32Array[], hyper: TrainingHyper, options: TrainingRunOptions): Promise<Float32Array[]> {
    try {
      this.#checkRun(inputs, hyper, options);
    } catch (e) {
      return Promise.reject(e);
    }
    // a run that waits behind others uses its inputs as they were when run() was called
    const data = this.#pending === 0 ? inputs : inputs.map((x) => x.slice());
    const h = { learningRate: hyper.learningRate, t: hyper.t, counter: hyper.counter >>> 0 };
    const read = [...options.read];
    const update = options.update !== false;
    return this.#enqueue(() => (this.#threads === null ? this.#run(data, h, update, read) : this.#runThreads(this.#threads, data, h, update, read)));
  }

  /** Runs step i on this thread; a loss refusing its targets is a ValueError naming them. */
  #step(i: number, hyper: TrainingHyper): void {
    const s = this.#plan.steps[i];
    const t0 = performance.now();
    const rc = this.#calls[i](hyper);
    this.times[i] = performance.now() - t0;
    if (rc === -2 && s.op === 'loss') this.#badTargets(s);
    if (rc !== 0) throw new RuntimeError(`wasm backend: the ${s.op} kernel rejected the sizes of training ${stepName(s)}, code ${rc}`);
  }

  #badTargets(s: LossStep): never {
    const n = this.#plan.tensors[s.targets];
    throw new ValueError(
      `the targets of layer ${s.layer}'s loss must be class indices, integers in [0, ${s.units}), but tensor ${s.targets} (shape [${n.shape.join(', ')}]) holds ` +
        `${Array.from(this.#view(s.targets)).find((v) => !(Number.isInteger(v) && v >= 0 && v < s.units))}`,
    );
  }

  /** A run split over the workers (training_threads.ts): pre steps here, batch steps there, partial sums, post steps here. */
  async #runThreads(th: Threads, inputs: readonly Float32Array[], hyper: TrainingHyper, update: boolean, read: readonly number[]): Promise<Float32Array[]> {
    const plan = this.#plan;
    const { split, bounds, pool } = th;
    inputs.forEach((x, i) => this.#view(plan.inputs[i]).set(x));
    // index targets checked here, where the error can name them (a worker's would be a RuntimeError)
    for (const s of plan.steps) {
      if (s.op === 'loss' && s.targetForm === 'index' && this.#view(s.targets).some((v) => !(Number.isInteger(v) && v >= 0 && v < s.units))) this.#badTargets(s);
    }
    this.times.fill(0);
    for (const i of split.pre) this.#step(i, hyper);
    const globals = split.globalsIn.map((id) => this.#view(id).slice());
    const shape = (id: number) => plan.tensors[id].shape;
    const axis = (id: number) => split.axes[id] as 'first' | 'last';
    const wanted = [...new Set([...read, ...plan.outputs, ...(plan.inputGrad === undefined ? [] : [plan.inputGrad])])].filter((id) => split.axes[id] !== null);
    const parts = bounds.map(([b0, b1]) => plan.inputs.map((id, i) => sliceBatch(inputs[i], shape(id), axis(id), b0, b1)));
    const messages = parts.map((p) => ({ inputs: p, globals, counter: hyper.counter, read: wanted }));
    const { outputs, times } = await pool.runEach(messages, parts.map((p) => p.map((x) => x.buffer as ArrayBuffer)));
    split.batchSteps.forEach((step, j) => (this.times[step] = Math.max(...times.map((t) => t[j]))));
    // the partial sums, in worker order
    split.reduce.forEach((id, r) => {
      const sum = this.#view(id);
      sum.set(outputs[0][r]);
      for (let w = 1; w < outputs.length; w++) {
        const part = outputs[w][r];
        for (let i = 0; i < sum.length; i++) sum[i] += part[i];
      }
    });
    const R = split.reduce.length;
    wanted.forEach((id, j) => bounds.forEach(([b0, b1], w) => placeBatch(this.#view(id), shape(id), axis(id), b0, b1, outputs[w][R + j])));
    for (const i of split.post) if (update || plan.steps[i].phase !== 'update') this.#step(i, hyper);
    return read.map((id) => this.#view(id).slice());
  }

  #run(inputs: readonly Float32Array[], hyper: TrainingHyper, update: boolean, read: readonly number[]): Float32Array[] {
    const plan = this.#plan;
    inputs.forEach((x, i) => this.#view(plan.inputs[i]).set(x));
    for (let i = 0; i < this.#calls.length; i++) {
      if (!update && plan.steps[i].phase === 'update') {
        this.times[i] = 0;
        continue;
      }
      this.#step(i, hyper);
    }
    return read.map((id) => this.#view(id).slice());
  }

  write(tensor: number, data: Float32Array): Promise<void> {
    try {
      const id = this.#checkTensor(tensor, 'write: tensor');
      const n = product(this.#plan.tensors[id].shape);
      if (!(data instanceof Float32Array) || data.length !== n) {
        throw new ValueError(`write to tensor ${id} requires a Float32Array of ${n} values, but got ${data instanceof Float32Array ? `${data.length} values` : typeof data}`);
      }
      const copy = this.#pending === 0 ? data : data.slice();
      return this.#enqueue(() => void this.#view(id).set(copy));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  read(tensors: readonly number[]): Promise<Float32Array[]> {
    try {
      if (!Array.isArray(tensors)) throw new ValueError(`read requires an array of tensor ids, but got ${typeof tensors}`);
      tensors.forEach((id, i) => this.#checkTensor(id, `read: tensors[${i}]`));
      const ids = [...tensors];
      return this.#enqueue(() => ids.map((id) => this.#view(id).slice()));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  dispose(): void {
    this.#k = null;
    this.#threads?.pool.terminate();
    this.#threads = null;
  }
}

/** Backend.prepareTraining of the WASM backend. */
export function prepareWasmTraining(plan: TrainingPlan, options: BackendOptions = {}): Promise<WasmPreparedTraining> {
  return WasmPreparedTraining.create(plan, options);
}
