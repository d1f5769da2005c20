/**
 * How the WASM backend runs each backward step (src/ops/backward.ts) with the C kernels of
 * build/kernels.wasm, each op's call being its descriptor's (ops/act_grad.ts, img_acts.ts,
 * weight_acts.ts, max_pool_grad.ts, nin_grad.ts): the scratch bytes a step needs, and one call per
 * step. Addresses are byte addresses in the kernels module's memory; every tensor is float32 in C order.
 */
import { RuntimeError } from '../../errors.js';
import type { BackwardStep } from '../../ops/backward.js';
import type { KernelsExports } from './kernels_abi.js';
import { opOf } from './ops/index.js';
import type { BackwardOp, WasmBackwardAddresses } from './ops/op.js';

function backwardOp(step: BackwardStep): BackwardOp<BackwardStep> {
  const d = opOf(step.op);
  if (d?.kind !== 'backward') throw new RuntimeError(`wasm backend: ${step.op} steps are not backward steps`);
  return d;
}

/** Scratch bytes a backward step needs on this backend (0 for most). */
export function backwardScratchBytes(k: KernelsExports, step: BackwardStep): number {
  return backwardOp(step).scratch?.(k, step) ?? 0;
}

/** Runs one backward step; a kernel that refuses its arguments is a RuntimeError (the glue's bug). */
export function runBackwardStep(k: KernelsExports, step: BackwardStep, at: WasmBackwardAddresses): void {
  const need = backwardScratchBytes(k, step);
  if (need > 0 && step.scratch === undefined) throw new RuntimeError(`layer ${step.layer}: the ${step.op} step needs ${need} bytes of scratch, but the plan gave it none`);
  const scratch = need > 0 ? at.tensor(step.scratch as number) : 0;
  const rc = backwardOp(step).run(k, step, at, scratch);
  if (rc !== 0) throw new RuntimeError(`layer ${step.layer}: the ${step.op} kernel refused its arguments (code ${rc})`);
}
