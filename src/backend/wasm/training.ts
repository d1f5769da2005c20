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
 * What each op checks, needs of scratch and calls is its descriptor's (ops/, looked up in
 * ops/index.ts); this file holds what all steps share.
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
import { shapeSize } from '../../ndarray.js';
import type { BackwardStep } from '../../ops/backward.js';
import type { PlanTensor } from '../../ops/plan.js';
import type { KernelStep } from '../../ops/steps.js';
import type { LossStep, PreparedTraining, TrainingHyper, TrainingPlan, TrainingRunOptions, TrainingStep } from '../../ops/training.js';
import type { BackendOptions } from '../backend.js';
import { backwardScratchBytes, runBackwardStep } from './backward.js';
import { forwardCall, kernelsModule, queryInstance, simdName } from './engine.js';
import type { KernelsExports } from './kernels_abi.js';
import { checkStep, placeBatch, sliceBatch } from './layout.js';
import { opOf } from './ops/index.js';
import type { DropoutPlacement, TrainingCall, TrainingChecks, TrainingOnlyStep } from './ops/op.js';
import { WorkerPool, workersSupported } from './threads.js';
import { splitTraining, subTrainingPlans, trainingSizes, type TrainingSplit } from './training_threads.js';
export { LOSS_CODES, UPDATE_CODES, lossWeight } from './ops/training.js';


/**
 * Scratch bytes a training step needs on this backend: filter_acts its kernel's scratch plus its
 * packed filters (4 C k k F bytes, 16-byte aligned); img_acts and weight_acts what backward.ts
 * says; every other step none.
 */
export function trainingStepScratch(k: KernelsExports, s: TrainingStep): number {
  const d = opOf(s.op);
  if (d?.kind === 'forward') return d.training?.scratch(k, s as KernelStep) ?? 0;
  if (d?.kind === 'backward') return backwardScratchBytes(k, s as BackwardStep);
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
  const c: TrainingChecks = {
    fail: (what) => fail(s, what),
    tensor(id, elements, what) {
      if (!(typeof id === 'number' && Number.isInteger(id) && tensors[id] !== undefined)) fail(s, `names ${what} tensor ${String(id)}, which the plan lacks`);
      const n = shapeSize(tensors[id].shape);
      if (n !== elements) fail(s, `needs ${elements} elements of its ${what}, but tensor ${id} has shape [${tensors[id].shape.join(', ')}]`);
    },
    dims(...d) {
      if (!d.every(isPositiveInt)) fail(s, `has sizes [${d.join(', ')}] that are not all positive integers`);
    },
  };
  if (!['forward', 'backward', 'update'].includes(s.phase)) fail(s, `has phase ${String(s.phase)}`);
  const d = opOf(s.op);
  if (d === undefined) fail(s, 'is not a step the wasm backend knows');
  if (d.kind === 'forward') {
    const f = s as KernelStep;
    checkStep(f, tensors, true);
    const p = d.params?.(f);
    if (p !== undefined) {
      c.tensor(p.weight, p.elements.weight, 'weight');
      if (p.bias !== null) c.tensor(p.bias, p.elements.bias, 'bias');
    }
  } else if (d.kind === 'backward') d.check(s as BackwardStep, c);
  else d.check(s as TrainingOnlyStep, c);
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
    const end = t.offset + Math.max(t.bytes, 4 * shapeSize(t.shape));
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

/**
 * The one call of a training step: a function of the run's hyperparameters returning the kernel's
 * code. `addr`: byte address of a tensor by id; `batch`: the FULL batch (the loss weighs with it,
 * also on a thread's slice); `placement`: where a dropout step's elements sit in the full tensor.
 * Forward steps read their parameters from tensors (filter_acts packs its filters first: its
 * descriptor's `training` call); backward steps run through backward.ts runBackwardStep.
 */
export function trainingCall(k: KernelsExports, s: TrainingStep, addr: (id: number) => number, batch: number, placement?: DropoutPlacement): TrainingCall {
  const t = addr;
  const d = opOf(s.op);
  if (d === undefined) throw new RuntimeError(`wasm backend: ${s.op} steps are not steps the wasm backend knows`);
  if (d.kind === 'training') return d.call(k, s as TrainingOnlyStep, t, batch);
  if (d.kind === 'backward') {
    const b = s as BackwardStep;
    const at = { tensor: t, weight: t };
    return () => {
      runBackwardStep(k, b, at);
      return 0;
    };
  }
  const f = s as KernelStep;
  const scratch = f.scratch === undefined ? 0 : t(f.scratch);
  if (d.training) return d.training.call(k, f, t, scratch);
  const p = d.params?.(f);
  const call = forwardCall(k, f, { tensor: t, weight: p ? t(p.weight) : 0, bias: p && p.bias !== null ? t(p.bias) : 0, scratch }, placement);
  return (h) => call(h.counter);
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
    return new Float32Array(k.memory.buffer, this.#addr[id], shapeSize(this.#plan.tensors[id].shape));
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
      const n = shapeSize(plan.tensors[plan.inputs[i]].shape);
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
      const n = shapeSize(this.#plan.tensors[id].shape);
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
