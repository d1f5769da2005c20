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
  /** Which axis is the batch (-1: none, as for scratch); absent in hand-written step plans. */
  batchAxis?: number;
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

/**
 * The plan with scratch for each step that needs more than it has: `needs[i]` bytes for step i
 * (0: none), appended as new tensors past the arena's end at `alignment` (default the plan's, at
 * least 16). Plans made by compile() already hold their backend's scratch and come back unchanged;
 * hand-written step plans (kernel tests, benchmarks) get theirs here, so a backend allocates
 * exactly the returned plan's arenaBytes.
 */
export function withScratch<P extends KernelPlan>(plan: P, needs: readonly number[], alignment = Math.max(16, plan.alignment ?? 16)): P {
  const tensors = [...plan.tensors];
  let end = plan.arenaBytes;
  let changed = false;
  const steps = plan.steps.map((s, i) => {
    const need = needs[i] ?? 0;
    const have = s.scratch === undefined ? 0 : (tensors[s.scratch]?.bytes ?? 0);
    if (need <= have) return s;
    changed = true;
    const offset = Math.ceil(end / alignment) * alignment;
    const bytes = 4 * Math.ceil(need / 4);
    end = offset + bytes;
    tensors.push({ id: tensors.length, shape: [bytes / 4], bytes, offset, batchAxis: -1 });
    return { ...s, scratch: tensors.length - 1 };
  });
  return changed ? { ...plan, steps, tensors, arenaBytes: end } : plan;
}
