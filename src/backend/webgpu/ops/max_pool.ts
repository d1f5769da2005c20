/** max_pool (wgsl/max_pool.wgsl): cuda-convnet's max pool over c01b, one output (or vec4 of examples) per thread. */
import type { MaxPoolStep } from '../../../ops/steps.js';
import { arenaRange, ceilDiv, words, workgroupGrid, type KernelLimits, type KernelPlan, type Launch } from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import { copyFamily, type ForwardOp } from './op.js';

export const MAX_POOL_SHADER = copyFamily(WGSL.max_pool);

/** Invocations per workgroup (the shader's WG). */
const POOL_WORKGROUP = 256;

function maxPoolLaunch(plan: KernelPlan, step: MaxPoolStep, limits: KernelLimits): Launch {
  const range = arenaRange(plan, step, limits);
  const { channels: C, rows: H, cols: W, batch: B, poolSize: P, stride: s, outRows: OH, outCols: OW } = step;
  const vec4 = B % 4 === 0 && range.inOff % 4 === 0 && range.outOff % 4 === 0;
  const items = (C * OH * OW * B) / (vec4 ? 4 : 1);
  const u = words(11);
  u.u32.set([range.inOff, range.outOff, C, H, W, B, P, s, OH, OW, items]);
  return {
    family: 'max_pool',
    entryPoint: vec4 ? 'main_vec4' : 'main_scalar',
    constants: { POOL: P },
    uniform: u.buffer,
    workgroups: workgroupGrid(ceilDiv(items, POOL_WORKGROUP), limits.maxComputeWorkgroupsPerDimension),
    arenaRange: { offset: range.offset, size: range.size },
  };
}

export const MAX_POOL: ForwardOp<MaxPoolStep> = { kind: 'forward', launch: maxPoolLaunch };
