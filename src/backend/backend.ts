/**
 * The one small interface between a compiled network and a backend: prepare a plan (allocate the
 * arena and parameter storage, build pipelines), run it, report timings, dispose. Backends never
 * see layers, only the plan's kernel steps and the parameters.
 */
import type { Param } from '../layers/base.js';
import type { NetworkPlan } from '../plan/network.js';
import type { KernelStep } from '../plan/steps.js';
import type { NDArray } from '../ndarray.js';

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
  /** Prepares a plan for running. `params` are plan.params' Param objects, in the same order. */
  prepare(plan: NetworkPlan, params: readonly Param[], options: BackendOptions): Promise<PreparedNetwork>;
}

/** A tensor as the plan lays it out: C-order float32 at `offset` bytes into the arena. */
export interface PlanTensor {
  id: number;
  shape: readonly number[];
  bytes: number;
  offset: number;
}

/** What a backend needs from a plan (src/plan/network.ts NetworkPlan has all of it). */
export interface KernelPlan {
  steps: readonly KernelStep[];
  tensors: readonly PlanTensor[];
  inputs: readonly number[];
  outputs: readonly number[];
  arenaBytes: number;
  alignment?: number;
}

/** A parameter as the backends see it (src/layers/base.ts Param satisfies this). */
export interface ParamSource {
  readonly name: string;
  readonly version: number;
  getValue(): NDArray;
  /** The stored value without a copy, where the parameter offers it. */
  readonly valueRef?: NDArray;
}
