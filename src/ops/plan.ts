/**
 * What a backend receives: the tensors of a plan laid out in one arena, its kernel steps, and the
 * parameters the steps read. Plain data (structured-cloneable), produced by src/compile/plan.ts.
 */
import type { NDArray } from '../ndarray.js';
import type { KernelStep } from './steps.js';

/** A tensor as the plan lays it out: C-order float32 at `offset` bytes into the arena. */
export interface PlanTensor {
  id: number;
  shape: readonly number[];
  bytes: number;
  offset: number;
}

/** What a backend needs from a plan (src/compile/plan.ts NetworkPlan has all of it). */
export interface KernelPlan {
  steps: readonly KernelStep[];
  tensors: readonly PlanTensor[];
  inputs: readonly number[];
  outputs: readonly number[];
  arenaBytes: number;
  alignment?: number;
}

/** A parameter as the backends and the step list see it (src/layers/base.ts Param satisfies this). */
export interface ParamSource {
  readonly name: string;
  readonly version: number;
  getValue(): NDArray;
  /** The stored value without a copy, where the parameter offers it. */
  readonly valueRef?: NDArray;
}
