/**
 * The one small interface between a compiled network and a backend: prepare a plan (allocate the
 * arena and parameter storage, build pipelines), run it, report timings, dispose. Backends never
 * see layers, only the plan's kernel steps and the parameters.
 */
import { RuntimeError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import type { KernelPlan, ParamSource } from '../ops/plan.js';
import type { KernelStep } from '../ops/steps.js';
import type { PreparedTraining, TrainingPlan, TrainingStep } from '../ops/training.js';
export type { KernelPlan, ParamSource, PlanTensor } from '../ops/plan.js';
export type { PreparedTraining, TrainingPlan, TrainingStep } from '../ops/training.js';

export type BackendName = 'webgpu' | 'wasm';

/** What backend selection needs to know about a WebGPU adapter. */
export interface AdapterFacts {
  /** One line naming it, e.g. 'WebGPU: google swiftshader ... SwiftShader driver 5.0.0'. */
  readonly description: string;
  /** Whether it runs on the CPU (src/backend/adapter.ts isSoftwareAdapter). */
  readonly software: boolean;
}

export interface StepTiming {
  step: number;
  layer: string;
  op: string;
  /** Milliseconds of device (or CPU) time for the last run. */
  ms: number;
}

export interface PreparedNetwork {
  /**
   * Runs every step once. `inputs` are in plan.inputs order, each a Float32Array of exactly its
   * tensor's element count (the caller has checked them). Parameters whose `version` changed since
   * the last run are uploaded first. Returns the outputs in plan.outputs order, as new arrays.
   */
  run(inputs: Float32Array[]): Promise<Float32Array[]>;
  /**
   * Per-step times of the latest timed run (WASM: every run; WebGPU: the first run and every 16th
   * after it), or null where the backend cannot measure them or nothing was timed yet.
   */
  profile(): StepTiming[] | null;
  /** Frees every resource. Idempotent. */
  dispose(): void;
  /** A short description of the device (adapter name, thread count, ...). */
  readonly description: string;
  /**
   * Device bytes this network holds now (0 once disposed), for `lasagne.memory()`: WebGPU the sizes
   * of its buffers; WASM the linear memory of its kernels instance (with worker threads: the
   * workers' arenas).
   */
  readonly deviceBytes?: number;
}

/**
 * A WebGPU `GPUDevice`, as far as the package's types need to name one: every GPUDevice (the DOM
 * lib's, `@webgpu/types`', the `webgpu` package's) fits it, and the declarations need neither the DOM
 * lib nor `@webgpu/types` in the user's project. A GPUAdapter or another object does not fit.
 */
export interface WebGpuDevice {
  readonly queue: object;
  readonly features: { has(feature: string): boolean };
  readonly limits: object;
  readonly lost: Promise<unknown>;
  createBuffer(descriptor: never): unknown;
  createComputePipelineAsync(descriptor: never): Promise<unknown>;
  createBindGroup(descriptor: never): unknown;
  createCommandEncoder(descriptor?: never): unknown;
  destroy(): void;
}

export interface BackendOptions {
  /** WebGPU: an existing GPUDevice to use instead of requesting one. */
  device?: WebGpuDevice;
  /** WASM: number of worker threads (1 = run on the calling thread). */
  threads?: number;
  /** false: no per-step timing (WebGPU then encodes one compute pass and writes no timestamps). Default true. */
  profile?: boolean;
  /** WebGPU: false keeps 3x3 convolutions on the direct kernel (no Winograd, no transform scratch). Default true. */
  winograd?: boolean;
}

export interface Backend {
  readonly name: BackendName;
  /** Whether this backend can run here (WebGPU: an adapter exists). Never throws. */
  available(): Promise<boolean>;
  /**
   * WebGPU: the default adapter's name and whether it is a software one (SwiftShader, llvmpipe,
   * WARP...), or null when there is none. Never throws. Absent on WASM.
   */
  adapter?(): Promise<AdapterFacts | null>;
  /**
   * Working memory each step needs on this backend, in bytes (0: none), in step order (WebGPU: the
   * split-K partial sums and Winograd's transformed operands, for the device `options` names or the
   * default one, whose limits decide them; WASM: the C kernels' padded input copy and tap table, the
   * same everywhere). compile() lays it out in the arena with the tensors, so `plan.arenaBytes`
   * counts it and prepare() allocates exactly that.
   */
  scratchBytes(steps: readonly KernelStep[], options: BackendOptions): Promise<number[]>;
  /** Prepares a plan for running. `params` are the parameters plan.params names, in the same order. */
  prepare(plan: KernelPlan, params: readonly ParamSource[], options: BackendOptions): Promise<PreparedNetwork>;
  /**
   * Working memory each step of a training plan needs on this backend, in bytes (0: none), in step
   * order (as scratchBytes; src/compile/training.ts lays it out in the arena as each step's `scratch`).
   */
  trainingScratchBytes(steps: readonly TrainingStep[], options: BackendOptions): Promise<number[]>;
  /** Prepares a training plan (src/ops/training.ts): allocates exactly plan.arenaBytes of arena, zeroed. */
  prepareTraining(plan: TrainingPlan, options: BackendOptions): Promise<PreparedTraining>;
}

/** A parameter's value as one run uses it, and the version it had. */
export interface ParamValue {
  readonly version: number;
  readonly value: NDArray;
}

/**
 * Captures parameter values when `run()` is called, so that a run queued behind others uses the
 * values current at its call (as it uses its input), not those current when it starts. A value is
 * read only when its version changed since the last capture. Values are held, not copied:
 * `Param.setValue` stores a new array and never writes into the one it replaced.
 */
export class ParamCapture {
  readonly #params: readonly ParamSource[];
  readonly #latest: (ParamValue | null)[];

  constructor(params: readonly ParamSource[]) {
    this.#params = params;
    this.#latest = params.map(() => null);
  }

  /** Every parameter's current value and version, in the order of the parameters given. */
  capture(): ParamValue[] {
    return this.#params.map((p, i) => {
      const last = this.#latest[i];
      const version = p.version;
      if (last !== null && last.version === version) return last;
      const now: ParamValue = { version, value: p.valueRef ?? p.getValue() };
      this.#latest[i] = now;
      return now;
    });
  }
}

/**
 * Whether typed-array data can be handed to a device as it is: its buffer is a plain (not shared,
 * not resizable) ArrayBuffer of this realm. Anything else is copied first (Dawn's writeBuffer
 * crashes on views of a SharedArrayBuffer, and a resizable buffer could shrink during a run).
 */
export function isPlainData(x: Float32Array): boolean {
  const b = x.buffer as ArrayBuffer & { resizable?: boolean };
  return b instanceof ArrayBuffer && b.resizable !== true;
}

/** What a lost GPUDevice reported. */
export interface DeviceLoss {
  reason: string;
  message: string;
}

/**
 * The RuntimeError for a lost device, naming the reason; `isDeviceLost` recognises it (compile()
 * then picks a device or backend again).
 */
export function deviceLostError(loss: DeviceLoss, when: string): RuntimeError {
  const e = new RuntimeError(
    `the WebGPU device was lost ${when} (reason '${loss.reason}'${loss.message ? `: ${loss.message}` : ''}); compile the network again: ` +
      "compile() then gets a new device, or with backend 'auto' falls back to WASM; parameter values are kept",
  );
  Object.defineProperty(e, 'deviceLost', { value: { ...loss } });
  return e;
}

export function isDeviceLost(e: unknown): e is RuntimeError & { deviceLost: DeviceLoss } {
  return e instanceof RuntimeError && (e as { deviceLost?: unknown }).deviceLost !== undefined;
}
