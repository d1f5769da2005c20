/**
 * The backward kernels' sources and how the WebGPU backend runs each backward step
 * (src/ops/backward.ts): the passes to dispatch in order, each with its shader file, entry point,
 * override constants, uniform contents and workgroup grid, come from the op's file in ops/ (looked
 * up in ops/index.ts); this module names them as the tests and benchmarks import them. All backward
 * kernels share one binding shape: 0 the arena (storage, read_write), 1 the weights (storage,
 * read), 2 the uniform params. Offsets are in float32 elements.
 */
import { BACKWARD_SHADERS, type BackwardFile } from './ops/index.js';

export { backwardLaunches, backwardScratchBytes, type BackwardFile } from './ops/index.js';
export type { BackwardLaunch, BackwardOffsets } from './ops/op.js';
export { biasActGradSplit } from './ops/bias_act_grad.js';
export { imgActsTile } from './ops/img_acts.js';
export { ninGradWeightSplit } from './ops/nin_grad.js';
export { weightActsSplit, weightActsTile } from './ops/weight_acts.js';

/** The WGSL source of a backward kernel file: its files (ops/ BACKWARD_SHADERS), the kernel file last. */
export function backwardSource(file: BackwardFile): string {
  return BACKWARD_SHADERS[file].files().join('\n');
}
