/**
 * A plan for a hand-written step list, for kernel tests and benchmarks that run single ops without
 * building layers: each tensor gets its own aligned slot in the arena (no reuse), in id order.
 */
import type { KernelStep } from '../../ops/steps.js';
import type { KernelPlan, PlanTensor } from '../backend.js';

export interface StepPlanOptions {
  /** Byte alignment of every tensor offset (default 256). */
  alignment?: number;
}

/**
 * `shapes[i]` is tensor i's shape; `steps` refer to tensors by index; `inputs`/`outputs` name the
 * tensors a run writes and reads back.
 */
export function stepPlan(
  shapes: readonly (readonly number[])[],
  steps: readonly KernelStep[],
  inputs: readonly number[],
  outputs: readonly number[],
  options: StepPlanOptions = {},
): KernelPlan {
  const alignment = options.alignment ?? 256;
  let offset = 0;
  const tensors: PlanTensor[] = shapes.map((shape, id) => {
    const bytes = 4 * shape.reduce((n, d) => n * d, 1);
    const t = { id, shape: [...shape], bytes, offset };
    offset += Math.ceil(bytes / alignment) * alignment;
    return t;
  });
  return { steps, tensors, inputs, outputs, arenaBytes: offset };
}
