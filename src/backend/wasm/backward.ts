/**
 * How the WASM backend runs each backward step (src/ops/backward.ts) with the C kernels of
 * build/kernels.wasm (src/backend/wasm/c: act_grad.c, img_acts.c, weight_acts.c, max_pool_grad.c, nin_grad.c): the
 * scratch bytes a step needs, and one call per step. Addresses are byte addresses in the kernels
 * module's memory; every tensor is float32 in C order.
 */
import { RuntimeError } from '../../errors.js';
import type { BackwardStep } from '../../ops/backward.js';
import { activationOf, BIAS_CODES } from '../../ops/codes.js';
import type { KernelsExports } from './kernels_abi.js';

/** Byte addresses of a backward step's operands (its scratch is the tensor `step.scratch`, 16-byte aligned). */
export interface WasmBackwardAddresses {
  /** Address of an arena tensor by id. */
  tensor(id: number): number;
  /**
   * Address of a parameter's kernel form by index: conv W in kernel layout (C, k, k, F) (flipped as
   * the forward uses it, not packed), NIN W (U, C) as stored.
   */
  weight(index: number): number;
}

/** Scratch bytes a backward step needs on this backend (0 for most). */
export function backwardScratchBytes(k: KernelsExports, step: BackwardStep): number {
  switch (step.op) {
    case 'img_acts':
      return k.img_acts_scratch_bytes(step.filters, step.outRows, step.outCols, step.batch, step.filterSize);
    case 'weight_acts':
      return step.scratchBytes;
    default:
      return 0;
  }
}

/** Runs one backward step; a kernel that refuses its arguments is a RuntimeError (the glue's bug). */
export function runBackwardStep(k: KernelsExports, step: BackwardStep, at: WasmBackwardAddresses): void {
  const need = backwardScratchBytes(k, step);
  if (need > 0 && step.scratch === undefined) throw new RuntimeError(`layer ${step.layer}: the ${step.op} step needs ${need} bytes of scratch, but the plan gave it none`);
  const scratch = need > 0 ? at.tensor(step.scratch as number) : 0;
  let rc: number;
  switch (step.op) {
    case 'bias_act_grad': {
      const act = activationOf(step.nonlinearity, step.layer);
      rc = k.bias_act_grad(
        at.tensor(step.output), at.tensor(step.outputGrad), at.tensor(step.preActGrad), step.biasGrad >= 0 ? at.tensor(step.biasGrad) : 0,
        step.units, step.positions, step.batch, BIAS_CODES[step.biasMode], act.code, act.params[0], act.params[1],
      );
      break;
    }
    case 'img_acts':
      rc = k.img_acts(
        at.tensor(step.preActGrad), at.weight(step.weight), at.tensor(step.inputGrad), scratch, step.channels, step.rows, step.cols, step.batch,
        step.filters, step.filterSize, step.stride, step.pad, step.outRows, step.outCols,
      );
      break;
    case 'weight_acts':
      rc = k.weight_acts(
        at.tensor(step.input), at.tensor(step.preActGrad), at.tensor(step.weightGrad), scratch, step.channels, step.rows,
        step.cols, step.batch, step.filters, step.filterSize, step.stride, step.pad, step.outRows, step.outCols, step.effectivePartialSum,
      );
      break;
    case 'weight_grad_layout':
      rc = k.weight_grad_layout(at.tensor(step.weightGrad), at.tensor(step.paramGrad), step.channels, step.filterSize, step.filters,
        step.weightLayout === 'fckk' ? 0 : 1, step.flipFilters ? 1 : 0);
      break;
    case 'max_pool_grad':
      rc = k.max_pool_grad(at.tensor(step.input), at.tensor(step.output), at.tensor(step.outputGrad), at.tensor(step.inputGrad), step.channels,
        step.rows, step.cols, step.batch, step.poolSize, step.stride, step.outRows, step.outCols);
      break;
    case 'nin_grad_input':
      rc = k.nin_grad_input(at.tensor(step.preActGrad), at.weight(step.weight), at.tensor(step.inputGrad), step.channels, step.units, step.positions * step.batch);
      break;
    case 'nin_grad_weight':
      rc = k.nin_grad_weight(at.tensor(step.input), at.tensor(step.preActGrad), at.tensor(step.weightGrad), step.channels, step.units, step.positions * step.batch);
      break;
  }
  if (rc !== 0) throw new RuntimeError(`layer ${step.layer}: the ${step.op} kernel refused its arguments (code ${rc})`);
}
