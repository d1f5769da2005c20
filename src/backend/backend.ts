/**
 * The one small interface between a compiled network and a backend: prepare a plan (allocate the
 * arena and parameter storage, build pipelines), run it, report timings, dispose. Backends never
 * see layers, only the plan's kernel steps and the parameters.
 */
import type { KernelPlan, ParamSource } from '../ops/plan.js';
import type { KernelStep } from '../ops/steps.js';
export type { KernelPlan, ParamSource, PlanTensor } from '../ops/plan.js';

export type BackendName = 'webgpu' | 'wasm';

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
}

export interface BackendOptions {
  /** WebGPU: an existing GPUDevice to use instead of requesting one. */
  device?: unknown;
  /** WASM: number of worker threads (1 = run on the calling thread). */
  threads?: number;
  /** false: no per-step timing (WebGPU then encodes one compute pass and writes no timestamps). Default true. */
  profile?: boolean;
}

export interface Backend {
  readonly name: BackendName;
  /** Whether this backend can run here (WebGPU: an adapter exists). Never throws. */
  available(): Promise<boolean>;
  /**
   * Working memory each step needs on this backend, in bytes (0: none), in step order: a pure
   * function of the steps, the same on every device of this backend (WebGPU: the split-K partial
   * sums a GPU takes; WASM: the C kernels' padded input copy and tap table). compile() lays it out
   * in the arena with the tensors, so `plan.arenaBytes` counts it.
   */
  scratchBytes(steps: readonly KernelStep[], options: BackendOptions): Promise<number[]>;
  /** Prepares a plan for running. `params` are the parameters plan.params names, in the same order. */
  prepare(plan: KernelPlan, params: readonly ParamSource[], options: BackendOptions): Promise<PreparedNetwork>;
}
