/** transpose (wgsl/transpose.wgsl): the axis rotations [1,2,3,0] and [3,0,1,2] of a 4-d tensor, as a 2-d transpose through workgroup memory. */
import { ValueError } from '../../../errors.js';
import type { TransposeStep } from '../../../ops/steps.js';
import { arenaRange, ceilDiv, words, workgroupGrid, type KernelLimits, type KernelPlan, type Launch } from '../geometry.js';
import { WGSL } from '../shaders.generated.js';
import { copyFamily, type ForwardOp } from './op.js';

export const TRANSPOSE_SHADER = copyFamily(WGSL.transpose);

/** Side of the square tile wgsl/transpose.wgsl moves through workgroup memory. */
const TRANSPOSE_TILE = 16;

function transposeLaunch(plan: KernelPlan, step: TransposeStep, limits: KernelLimits): Launch {
  if (!(step.perm.join() === '1,2,3,0' || step.perm.join() === '3,0,1,2')) {
    throw new ValueError(`layer ${step.layer}: transpose supports perm [1,2,3,0] and [3,0,1,2], but perm=[${step.perm.join(',')}]`);
  }
  const range = arenaRange(plan, step, limits);
  const [d0, d1, d2, d3] = step.inShape;
  // perm [1,2,3,0]: (d0, d1*d2*d3) -> its transpose; perm [3,0,1,2]: (d0*d1*d2, d3) -> its transpose
  const [rows, cols] = step.perm[0] === 1 ? [d0, d1 * d2 * d3] : [d0 * d1 * d2, d3];
  const colTiles = ceilDiv(cols, TRANSPOSE_TILE);
  const tiles = ceilDiv(rows, TRANSPOSE_TILE) * colTiles;
  const u = words(6);
  u.u32.set([range.inOff, range.outOff, rows, cols, colTiles, tiles]);
  return {
    family: 'transpose',
    entryPoint: 'transpose',
    constants: {},
    uniform: u.buffer,
    workgroups: workgroupGrid(tiles, limits.maxComputeWorkgroupsPerDimension),
    arenaRange: { offset: range.offset, size: range.size },
  };
}

export const TRANSPOSE: ForwardOp<TransposeStep> = { kind: 'forward', launch: transposeLaunch };
