/**
 * The WASM backend: runs a plan's kernel steps (src/ops/steps.ts) with the C kernels of src/backend/wasm/c
 * (build/kernels.wasm, WASM SIMD, and build/kernels_relaxed.wasm, the same with relaxed SIMD's
 * f32x4.relaxed_madd, taken where the engine validates it: engine.ts kernelsModule; both embedded as
 * base64 so no fetch or file access is needed).
 *
 * Memory: one module instance per prepared network (per worker with threads), whose memory holds
 * the planner's arena with every tensor at its planned offset, then each parameter in kernel form
 * (conv weights through kernelWeights() and packFilters(), NIN weights and biases as stored), then
 * the convolution scratch. Parameters are uploaded on the first run and again whenever their
 * `version` changes.
 *
 * Threads: `options.threads` (default: the number of logical processors, at most the batch size,
 * at most one per 16 MFLOP of work per run, and 1 when a run does fewer than 2000 FLOP per
 * input and output element: then copying the batch slices in and out costs more than the split
 * saves). With more than one, the batch is split into near-equal parts and each worker runs the
 * whole step list on its part with its own instance and a sub-batch plan (layout.ts
 * subBatchPlan); inputs are scattered and outputs gathered along each tensor's batch axis (first
 * for bc01, last for c01b). Where SharedArrayBuffer is available (Node; cross-origin-isolated
 * pages), the inputs and outputs live in shared buffers and each worker copies its own slices, in
 * parallel; elsewhere slices travel in messages (transferred) and this thread gathers them.
 * `threads: 1` runs on the calling thread. Runs are queued: one runs at a time, each on its inputs as they were when run() was called.
 *
 * Training (src/ops/training.ts): prepareTraining and trainingScratchBytes are training.ts (one
 * instance holding the plan's arena; with threads > 1 the batch split of training_threads.ts).
 */
import { RuntimeError, ValueError } from '../../errors.js';
import type { PreparedTraining, TrainingPlan, TrainingStep } from '../../ops/training.js';
import type { NDArray } from '../../ndarray.js';
import { kernelWeights, ninWeights } from '../../ops/weights.js';
import { filterWeightElements } from '../../ops/steps.js';
import { ParamCapture, type Backend, type BackendOptions, type ParamValue, type PreparedNetwork, type StepTiming } from '../backend.js';
import { Engine, kernelsModule, scratchOf, simdName } from './engine.js';
import { withScratch } from '../../ops/plan.js';
import type { KernelStep } from '../../ops/steps.js';
import {
  batchAxes, execPlan, packFilters, placeBatch, planBatch, planFlops, sliceBatch, splitSizes, subBatchPlan,
  type ExecPlan, type KernelPlan, type ParamSource, type SharedIO, type Slot,
} from './layout.js';
import { WorkerPool, hardwareThreads, sharedMemorySupported, workersSupported } from './threads.js';
import { prepareWasmTraining, trainingScratchBytes } from './training.js';

export { KERNELS_ABI, type KernelsExports } from './kernels_abi.js';
export { KERNELS_WASM_BYTES, KERNELS_RELAXED_WASM_BYTES } from './kernels_bytes.generated.js';
export { kernelsModule, kernelsBuild, relaxedSimdSupported, setWasmSimd, simdName, wasmSimdChoice, type WasmSimd } from './engine.js';
export { prepareWasmTraining, trainingScratchBytes, WasmPreparedTraining, LOSS_CODES, UPDATE_CODES } from './training.js';
export { packFilters, subBatchPlan, batchAxes, planBatch, type KernelPlan, type ParamSource, type ExecPlan } from './layout.js';

/** Work per thread below which splitting the batch costs more in messages than it saves. */
const MIN_FLOPS_PER_THREAD = 16e6;
/** Work per input and output element below which the strided slice copies outweigh the split. */
const MIN_FLOPS_PER_IO_ELEMENT = 2000;

/** The default thread count for a plan (see the module comment). */
async function defaultThreads(plan: ExecPlan, batch: number): Promise<number> {
  const flops = planFlops(plan.steps);
  const size = (id: number) => plan.tensors[id].shape.reduce((a, d) => a * d, 1);
  const io = [...plan.inputs, ...plan.outputs].reduce((n, id) => n + size(id), 0);
  if (flops < MIN_FLOPS_PER_IO_ELEMENT * io) return 1;
  return Math.min(await hardwareThreads(), batch, Math.max(1, Math.floor(flops / MIN_FLOPS_PER_THREAD)));
}

/** A slot's data in kernel form, from parameter `p`'s value `v` as a run captured it. */
function slotData(slot: Slot, p: ParamSource, v: NDArray): Float32Array {
  if (v.data.length !== slot.elements) {
    throw new ValueError(`parameter ${p.name} has ${v.data.length} values, but its kernel step needs ${slot.elements}`);
  }
  if (slot.form.kind === 'raw') return Float32Array.from(v.data);
  if (slot.form.kind === 'units') return ninWeights(slot.form.units, slot.form.channels, 'cu', v);
  const f = slot.form;
  return packFilters(kernelWeights(f, v), filterWeightElements(f) / f.filters, f.filters);
}

/** Where a thread count comes from, for the description. */
type ThreadReason = 'option' | 'default';

export class WasmPreparedNetwork implements PreparedNetwork {
  readonly description: string;
  readonly threads: number;
  readonly #plan: ExecPlan;
  readonly #params: readonly ParamSource[];
  readonly #uploaded: number[];
  /** Parameter values as each run() call sees them. */
  readonly #capture: ParamCapture;
  #engine: Engine | null;
  #pool: WorkerPool | null;
  readonly #sizes: number[];
  readonly #axes: ('first' | 'last')[] | null;
  /** Full-batch inputs and outputs shared with the workers (shared-memory runs only). */
  readonly #shared: { inputs: Float32Array[]; outputs: Float32Array[] } | null;
  #times: Float64Array | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  /** Runs called and not settled. */
  #pending = 0;
  #disposed = false;
  #workerArenaBytes = 0;

  private constructor(
    plan: ExecPlan, params: readonly ParamSource[], engine: Engine | null, pool: WorkerPool | null, sizes: number[],
    axes: ('first' | 'last')[] | null, why: ThreadReason, simd: string, shared: { inputs: Float32Array[]; outputs: Float32Array[] } | null = null,
  ) {
    this.#plan = plan;
    this.#params = params;
    this.#uploaded = params.map(() => -1);
    this.#capture = new ParamCapture(params);
    this.#engine = engine;
    this.#pool = pool;
    this.#sizes = sizes;
    this.#axes = axes;
    this.#shared = shared;
    this.threads = pool ? pool.size : 1;
    const how = this.threads === 1 ? 'calling thread' : `${this.threads} worker threads, batch split ${sizes.join('+')}${shared ? ', shared memory' : ''}`;
    this.description = `${simd} (${how}${why === 'option' ? ', threads option' : ''})`;
  }

  /** Prepares `plan` with `params` (plan.params order). */
  static async create(plan: KernelPlan, params: readonly ParamSource[], options: BackendOptions = {}): Promise<WasmPreparedNetwork> {
    const requested = options.threads;
    if (requested !== undefined && (!Number.isInteger(requested) || requested < 1)) {
      throw new ValueError(`the wasm backend requires threads to be a positive integer, but threads=${String(requested)}`);
    }
    const module = await kernelsModule();
    const scratch = await scratchOf(module);
    // a step plan without the kernels' scratch gets it (compiled plans hold it already)
    const exec = execPlan(withScratch(plan, plan.steps.map(scratch)), params.length);
    const batch = planBatch(exec.steps);
    const axes = batch === null ? null : batchAxes(exec);
    let threads = 1;
    if (batch !== null && axes !== null && workersSupported()) {
      threads = Math.min(requested ?? (await defaultThreads(exec, batch)), batch);
    }
    const why: ThreadReason = requested === undefined ? 'default' : 'option';
    if (threads === 1) return new WasmPreparedNetwork(exec, params, await Engine.create(module, exec), null, [], axes, why, simdName(module));
    const sizes = splitSizes(batch as number, threads);
    const ax = axes as ('first' | 'last')[];
    const plans = sizes.map((b) => subBatchPlan(exec, ax, batch as number, b, scratch));
    const workerArena = plans.reduce((n, p) => n + p.arenaBytes, 0);
    if (!sharedMemorySupported()) {
      const net = new WasmPreparedNetwork(exec, params, null, await WorkerPool.create(module, plans), sizes, axes, why, simdName(module));
      net.#workerArenaBytes = workerArena;
      return net;
    }
    const sharedTensor = (id: number) => ({
      buffer: new SharedArrayBuffer(4 * exec.tensors[id].shape.reduce((a, d) => a * d, 1)),
      batch: batch as number,
      axis: ax[id],
    });
    const inputs = exec.inputs.map(sharedTensor);
    const outputs = exec.outputs.map(sharedTensor);
    let b0 = 0;
    const io: SharedIO[] = sizes.map((n) => {
      const r = { inputs, outputs, b0 };
      b0 += n;
      return r;
    });
    const pool = await WorkerPool.create(module, plans, io);
    const views = { inputs: inputs.map((t) => new Float32Array(t.buffer)), outputs: outputs.map((t) => new Float32Array(t.buffer)) };
    const net = new WasmPreparedNetwork(exec, params, null, pool, sizes, axes, why, simdName(module), views);
    net.#workerArenaBytes = workerArena;
    return net;
  }

  /** Writes the slots of every parameter whose uploaded version differs from `values` (one run() call's). */
  #uploadChanged(values: readonly ParamValue[]): void {
    const changed = new Set<number>();
    values.forEach((v, i) => {
      if (v.version !== this.#uploaded[i]) changed.add(i);
    });
    if (changed.size === 0) return;
    this.#plan.slots.forEach((slot, i) => {
      if (!changed.has(slot.param)) return;
      const data = slotData(slot, this.#params[slot.param], values[slot.param].value);
      if (this.#engine) this.#engine.writeSlot(i, data);
      else (this.#pool as WorkerPool).writeSlot(i, data);
    });
    for (const i of changed) this.#uploaded[i] = values[i].version;
  }

  #checkInputs(inputs: readonly Float32Array[]): void {
    const plan = this.#plan;
    if (!Array.isArray(inputs) || inputs.length !== plan.inputs.length) {
      throw new ValueError(`run needs ${plan.inputs.length} input arrays, but got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`);
    }
    inputs.forEach((x, i) => {
      const n = plan.tensors[plan.inputs[i]].shape.reduce((a, d) => a * d, 1);
      if (!(x instanceof Float32Array) || x.length !== n) {
        throw new ValueError(`run input ${i} must be a Float32Array of ${n} values, but got ${x instanceof Float32Array ? `${x.length} values` : typeof x}`);
      }
    });
  }

  run(inputs: Float32Array[]): Promise<Float32Array[]> {
    // Idle: the run starts now and reads the inputs during this call. Else it waits for the runs
    // before it, on a copy (the caller may refill its arrays meanwhile).
    // Both use the parameter values of this call.
    let result: Promise<Float32Array[]>;
    const values = this.#capture.capture();
    if (this.#pending === 0) {
      result = this.#run(inputs, values);
    } else {
      const copies = inputs.map((x) => (x instanceof Float32Array ? x.slice() : x));
      result = this.#queue.then(() => this.#run(copies, values));
    }
    this.#pending++;
    this.#queue = result.then(
      () => void this.#pending--,
      () => void this.#pending--,
    );
    return result;
  }

  async #run(inputs: Float32Array[], values: readonly ParamValue[]): Promise<Float32Array[]> {
    if (this.#disposed) throw new RuntimeError('this network was disposed; compile it again to run it');
    this.#checkInputs(inputs);
    this.#uploadChanged(values);
    if (this.#shared) {
      const shared = this.#shared;
      inputs.forEach((x, i) => shared.inputs[i].set(x));
      const { times } = await (this.#pool as WorkerPool).run(null);
      this.#times = Float64Array.from(this.#plan.steps, (_, i) => Math.max(...times.map((t) => t[i])));
      // fresh, unshared copies
      return shared.outputs.map((o) => o.slice());
    }
    if (this.#engine) {
      const outputs = this.#engine.run(inputs);
      this.#times = this.#engine.times;
      return outputs;
    }
    const plan = this.#plan;
    const axes = this.#axes as ('first' | 'last')[];
    const bounds: [number, number][] = [];
    let b = 0;
    for (const n of this.#sizes) {
      bounds.push([b, b + n]);
      b += n;
    }
    const parts = bounds.map(([b0, b1]) => plan.inputs.map((id, i) => sliceBatch(inputs[i], plan.tensors[id].shape, axes[id], b0, b1)));
    const { outputs, times } = await (this.#pool as WorkerPool).run(parts);
    const full = plan.outputs.map((id) => new Float32Array(plan.tensors[id].shape.reduce((a, d) => a * d, 1)));
    plan.outputs.forEach((id, o) => {
      bounds.forEach(([b0, b1], w) => placeBatch(full[o], plan.tensors[id].shape, axes[id], b0, b1, outputs[w][o]));
    });
    // the slowest worker's time per step: what the step cost the run
    this.#times = Float64Array.from(plan.steps, (_, i) => Math.max(...times.map((t) => t[i])));
    return full;
  }

  /**
   * Bytes of arena this network reserved: on the calling thread exactly the plan's arenaBytes (its
   * scratch included); with worker threads the sum of the workers' sub-batch arenas.
   */
  get arenaBytes(): number {
    return this.#engine !== null ? this.#engine.arenaBytes : this.#workerArenaBytes;
  }

  /** Linear memory held: the kernels instance's on the calling thread, else the workers' arenas; 0 once disposed. */
  get deviceBytes(): number {
    if (this.#disposed) return 0;
    return this.#engine !== null ? this.#engine.memoryBytes : this.#workerArenaBytes;
  }

  profile(): StepTiming[] | null {
    const times = this.#times;
    if (times === null) return null;
    return this.#plan.steps.map((s, i) => ({ step: i, layer: s.layer, op: s.op, ms: times[i] }));
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#engine = null;
    this.#pool?.terminate();
    this.#pool = null;
  }
}

/**
 * Prepares a plan with its parameters (in plan.params order) on the WASM backend: the entry point
 * the backend and the kernel tests share.
 */
export function prepareWasm(plan: KernelPlan, params: readonly ParamSource[], options: BackendOptions = {}): Promise<WasmPreparedNetwork> {
  return WasmPreparedNetwork.create(plan, params, options);
}

export const wasmBackend: Backend = Object.freeze({
  name: 'wasm' as const,
  async available(): Promise<boolean> {
    try {
      await kernelsModule();
      return true;
    } catch {
      return false;
    }
  },
  async scratchBytes(steps: readonly KernelStep[]): Promise<number[]> {
    const scratch = await scratchOf(await kernelsModule());
    return steps.map(scratch);
  },
  prepare(plan: KernelPlan, params: readonly ParamSource[], options: BackendOptions): Promise<PreparedNetwork> {
    return prepareWasm(plan, params, options ?? {});
  },
  trainingScratchBytes(steps: readonly TrainingStep[]): Promise<number[]> {
    return trainingScratchBytes(steps);
  },
  prepareTraining(plan: TrainingPlan, options: BackendOptions): Promise<PreparedTraining> {
    return prepareWasmTraining(plan, options ?? {});
  },
});
