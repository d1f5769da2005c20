/**
 * What the WebGPU backend knows of one op: the descriptor each file of this folder exports per op
 * (registered in ops/index.ts), in one of three shapes by how its passes bind the arena: a forward
 * op's one launch over an arena range (geometry.ts Launch), a backward op's passes over the whole
 * arena with the weights at binding 1 (the backward kernel files), a training-only op's passes of a
 * forward family over the whole arena; and per wgsl/ kernel file, how it is compiled (its family).
 * Also the helpers the backward and training-only ops share. Offsets are in float32 elements.
 */
import { ValueError } from '../../../errors.js';
import type { BackwardStepBase } from '../../../ops/backward.js';
import type { UpdateRule } from '../../../ops/training.js';
import { workgroupGrid, type ArenaView, type KernelFamily, type KernelLimits, type KernelPlan, type Launch } from '../geometry.js';
import { WGSL, WGSL_CODES } from '../shaders.generated.js';
import type { BackwardFile } from './index.js';

/**
 * Binding shapes: the GEMM kernels bind arena, weights, bias, params; the backward kernels
 * arena, weights, params; the others arena, params.
 */
export type LayoutKind = 'gemm' | 'copy' | 'backward';

/**
 * A forward kernel file as the backend compiles it: its binding shape and its source, whole wgsl/
 * files in order (the kernel file last; pipelines.ts prepends the defines).
 */
export interface ShaderFamily {
  layout: LayoutKind;
  files(arena: ArenaView): string[];
}

/** A backward kernel file's source, whole wgsl/ files in order (binding shape 'backward'). */
export interface BackwardShader {
  files(): string[];
}

/**
 * A GEMM kernel file: its view of the arena (arena_vec4.wgsl or arena_scalar.wgsl), the generated
 * epilogue codes (src/ops/codes.ts), epilogue.wgsl, the kernel's stage layout (stage_rows.wgsl:
 * an array per row of K; stage_flat.wgsl: one flat array; each kernel the one measured faster for it)
 * and the shared GEMM core gemm.wgsl before it; with `units`, also gemm_units.wgsl (the RU-group
 * register tile and inner loop of nin.wgsl and winograd.wgsl's gemm).
 */
export function gemmFamily(kernel: string, stage: 'stage_rows' | 'stage_flat', units = false): ShaderFamily {
  return {
    layout: 'gemm',
    files: (arena) => [WGSL[arena === 'vec4' ? 'arena_vec4' : 'arena_scalar'], WGSL_CODES, WGSL.epilogue, WGSL[stage], WGSL.gemm, ...(units ? [WGSL.gemm_units] : []), kernel],
  };
}

/** A kernel file of binding shape 'copy' compiled alone. */
export function copyFamily(kernel: string): ShaderFamily {
  return { layout: 'copy', files: () => [kernel] };
}

/** dispatchWorkgroups(x, y) for a linear workgroup count (at least 1). */
export type Grid = (count: number) => [number, number];

/** The grid of a device that dispatches at most maxPerDimension workgroups along x and y. */
export function gridOf(maxPerDimension: number): Grid {
  return (count) => workgroupGrid(Math.max(count, 1), maxPerDimension);
}

interface OpBase<S> {
  /** Bytes of scratch (the tensor `step.scratch`) the step takes on a device with these limits; none where absent. */
  scratchBytes?(step: S, limits: KernelLimits): number;
}

/** A forward op (inference and training plans): one launch, and further passes where Launch.then lists them. */
export interface ForwardOp<S> extends OpBase<S> {
  kind: 'forward';
  launch(plan: KernelPlan, step: S, limits: KernelLimits): Launch;
  /** In a training plan, the uniform word the host rewrites before each run. */
  perRun?: PerRun;
}

/** A backward op (src/ops/backward.ts): its passes, in order. */
export interface BackwardOp<S> extends OpBase<S> {
  kind: 'backward';
  launches(step: S, at: BackwardOffsets, grid: Grid): BackwardLaunch[];
  /** The passes read the weight at `at.weight`: in a training plan an arena tensor (override W_ARENA 1). */
  weightInArena?: boolean;
}

/** An op of training plans only: its passes, in order, with their operands' offsets checked by `at`. */
export interface TrainingOp<S> extends OpBase<S> {
  kind: 'training';
  passes(step: S, at: TrainingOffsets, grid: Grid): TrainingPass[];
}

export type OpDescriptor<S> = ForwardOp<S> | BackwardOp<S> | TrainingOp<S>;

/** A uniform field the host rewrites before each training run: an update's learning rate, a dropout counter. */
export type PerRun =
  | { kind: 'lr'; byte: number; rule: UpdateRule; beta1: number; beta2: number }
  | { kind: 'counter'; byte: number };

/** One pass of a training-only op: a forward family's pipeline over the whole arena. */
export interface TrainingPass {
  family: KernelFamily;
  entryPoint: string;
  constants: Record<string, number>;
  uniform: ArrayBuffer;
  workgroups: [number, number];
  perRun?: PerRun;
}

/** The element offset of tensor `id`, checked to hold `count` floats where given (`field` names it in errors). */
export type TrainingOffsets = (field: string, id: number, count?: number) => number;

/**
 * One compute pass of a backward step. The backward kernel files (wgsl/) all share one binding
 * shape: 0 the arena (storage, read_write), 1 the weights (storage, read), 2 the uniform params.
 */
export interface BackwardLaunch {
  file: BackwardFile;
  entry: string;
  constants: Record<string, number>;
  /** The uniform buffer's contents (a multiple of 16 bytes). */
  params: ArrayBuffer;
  workgroups: [number, number];
}

/** Element offsets of a backward step's operands (its scratch is the tensor `step.scratch`). */
export interface BackwardOffsets {
  /** Offset of an arena tensor by id. */
  tensor(id: number): number;
  /** Offset of a parameter in the weights buffer by index (as uploaded for the forward: conv (C, k, k, F), NIN W (U, C)). */
  weight(index: number): number;
}

/** A backward kernel's uniform: u32 fields, with the f32 fields at the given indices; padded to 16 bytes. */
export function backwardParams(values: readonly number[], floatAt: readonly number[] = []): ArrayBuffer {
  const buf = new ArrayBuffer(Math.ceil((values.length * 4) / 16) * 16);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  values.forEach((v, i) => {
    if (floatAt.includes(i)) f[i] = v;
    else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ValueError(`a backward kernel parameter must be a u32, but field ${i} is ${v}`);
      u[i] = v;
    }
  });
  return buf;
}

/** The element offset of a backward step's scratch, which must hold `need` bytes (0: none needed). */
export function scratchOffset(step: BackwardStepBase & { op: string }, at: BackwardOffsets, need: number): number {
  if (need === 0) return 0;
  if (step.scratch === undefined) throw new ValueError(`layer ${step.layer}: the ${step.op} step needs ${need} bytes of scratch, but the plan gave it none`);
  return at.tensor(step.scratch);
}
