/**
 * The plan of a network: the step list every backend runs, the tensors with their lifetimes, and
 * their byte offsets in one arena, laid out by the planner. Deterministic: the same network gives
 * the same plan and digest on every machine and every run.
 */
import { NotImplementedError, ValueError } from '../errors.js';
import { checkElements, formatShape, shapeSize, type Shape } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { Layer } from '../layers/base.js';
import { InputLayer } from '../layers/input.js';
import { getAllLayers, getOutputShape } from '../layers/helper.js';
import {
  Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, ShuffleBC01ToC01BLayer, ShuffleC01BToBC01Layer,
} from '../layers/cuda_convnet.js';
import { getAllParams } from '../layers/helper.js';
import { checkConvRun, checkPoolRun, partialSum, planArena } from './planner.js';
import { fnv1a64 } from './digest.js';
import type { BiasMode, KernelStep } from './steps.js';

export interface PlanOptions {
  /** Replaces a null batch dimension of every input (axis 0 for bc01 inputs, the last axis for c01b). */
  batchSize?: number;
  /** Concrete input shapes: one shape (single input) or a Map from InputLayer to shape. */
  inputShapes?: Shape | Map<InputLayer, Shape>;
  /** Byte alignment of every offset (a power of two from 4 to 2^16, default 256, WebGPU's usual minStorageBufferOffsetAlignment). */
  alignment?: number;
  /** Also check each conv layer's partialSum (as a gradient would) and report its scratch bytes. */
  training?: boolean;
  /**
   * Elide inverse transposes (default true). false gives every `dimshuffle: true` layer its own
   * transposes in and out and every shuffle layer its own copy: the same results, for tests.
   */
  elide?: boolean;
}

export interface PlannedTensor {
  id: number;
  /** The layer whose output this is (its name, or `<index>:<Class>`), with `@c01b`/`@bc01` for a transposed copy. */
  producer: string;
  shape: number[];
  bytes: number;
  /** Byte offset in the arena. */
  offset: number;
  /** First and last step (inclusive) during which it holds live data. */
  first: number;
  last: number;
}

export interface PlannedLayer {
  name: string;
  layerClass: string;
  outputShape: number[];
  /** The options that change the computation. */
  config: Record<string, unknown>;
}

export interface WeightGradientPlan {
  layer: string;
  /** cuda-convnet's untruncated module grid. */
  rowsCC: number;
  colsCC: number;
  /** The effective partial_sum (0 resolved to all modules) and its float32 scratch bytes. */
  effective: number;
  scratchBytes: number;
}

export interface NetworkPlan {
  /** Tensor ids of the inputs (InputLayers, in topological order) and the requested outputs. */
  inputs: number[];
  outputs: number[];
  tensors: PlannedTensor[];
  /** The kernel steps every backend runs, in order (see src/plan/steps.ts). */
  steps: KernelStep[];
  /** Parameters the steps read, in getAllParams order (what getAllParamValues returns). */
  params: { name: string; shape: number[] }[];
  /** Every layer in topological order, with its concrete output shape. */
  layers: PlannedLayer[];
  /** With `training`: each conv layer's weight-gradient partial sums. */
  weightGradients?: WeightGradientPlan[];
  alignment: number;
  /** Bytes of the one arena buffer. */
  arenaBytes: number;
  /** What one buffer per tensor would take (the sum of aligned sizes), for comparison. */
  naiveBytes: number;
  /** 16 hex digits naming this plan, the same for the same network on every machine and run. */
  digest: string;
}

/** Largest `alignment` (WebGPU's minStorageBufferOffsetAlignment is at most 256). */
const MAX_ALIGNMENT = 2 ** 16;

/** A rotation of a 4-D tensor's axes: form r of x is x.transpose([(i + r) % 4 for i]). bc01 -> c01b is r = 1. */
type Rotation = 0 | 1 | 2 | 3;
const rotate = (shape: readonly number[], r: Rotation): number[] => (r === 0 ? [...shape] : shape.map((_, i) => shape[(i + r) % 4]));
const LAYOUT_SUFFIX = ['', '@r1', '@r2', '@r3'] as const;

/** Whether a layer reads its input with the batch last (c01b) rather than first (bc01). */
function readsBatchLast(layer: Layer): boolean {
  if (layer instanceof Conv2DCCLayer || layer instanceof MaxPool2DCCLayer) return !layer.dimshuffle;
  return layer instanceof ShuffleC01BToBC01Layer || layer instanceof NINLayer_c01b;
}

function concreteInputShapes(layers: Layer[], opts: PlanOptions): Map<Layer, Shape> {
  const inputs = layers.filter((l): l is InputLayer => l instanceof InputLayer);
  const given = new Map<Layer, Shape>();
  if (opts.inputShapes instanceof Map) {
    for (const [k, v] of opts.inputShapes) {
      if (!inputs.includes(k as InputLayer)) throw new ValueError('plan: inputShapes has a key that is not an InputLayer of this network');
      given.set(k, v);
    }
  }
  else if (opts.inputShapes !== undefined) {
    if (inputs.length !== 1) throw new ValueError(`plan: inputShapes is a single shape but the network has ${inputs.length} input layers; pass a Map`);
    given.set(inputs[0], opts.inputShapes);
  }
  const shapes = new Map<Layer, Shape>();
  for (const input of inputs) {
    const shape = [...(given.get(input) ?? input.shape)];
    const consumers = layers.filter((l) => l.inputLayer === input);
    const batchAxis = consumers.some(readsBatchLast) ? shape.length - 1 : 0;
    if (shape[batchAxis] === null && opts.batchSize !== undefined) shape[batchAxis] = opts.batchSize;
    if (shape.some((d) => d === null)) {
      throw new ValueError(
        `plan needs concrete shapes, but input ${input.name !== null ? `'${input.name}'` : 'InputLayer'} has shape ${formatShape(shape)}; ` +
          `pass batchSize for the batch dimension or inputShapes for the others`,
      );
    }
    shapes.set(input, shape);
  }
  return shapes;
}

/**
 * Parameters are shaped for the input a layer was built on; planning it for other input shapes must
 * not silently read a weight tensor with the wrong shape.
 */
function checkParamShapes(layer: Conv2DCCLayer | NINLayer_c01b, name: string, wShape: number[], untiedBShape: number[]): void {
  const expected: [string, number[], readonly number[] | undefined][] = [['W', wShape, layer.W.shape]];
  if (layer.b !== null && layer.untieBiases) expected.push(['b', untiedBShape, layer.b.shape]);
  for (const [what, want, have] of expected) {
    if (have !== undefined && (have.length !== want.length || have.some((d, i) => d !== want[i]))) {
      throw new ValueError(
        `plan: ${name}.${what} has shape ${formatShape(have)} but these input shapes need ${formatShape(want)}; ` +
          `build the layer on an input of the shape you plan for`,
      );
    }
  }
}

/**
 * Plans a network for inference (and, with `training`, checks what its gradient needs): the kernel
 * step list, tensor lifetimes, arena offsets and digest. The plan is deeply frozen (read-only). Raises the run-time errors of the
 * cuda-convnet ops here, before anything runs: stride > filter size, a pooling region larger than the
 * image, unknown shapes.
 *
 * Lowering: kernels work in c01b. Each layer's output exists in the arena in one or more axis
 * rotations of its declared layout (bc01 and c01b are rotations of each other); a consumer asks for
 * the rotation it reads and a transpose step is emitted only when that rotation does not exist yet.
 * Shuffle layers emit nothing themselves: they only rename rotations. So a stack of
 * `dimshuffle: true` layers transposes once at the input and once at the output.
 *
 * ```ts
 * const p = plan(net, { batchSize: 128 });
 * console.log(p.arenaBytes, p.naiveBytes, p.digest);
 * ```
 */
export function plan(outputLayer: Layer | readonly Layer[], options?: PlanOptions): NetworkPlan {
  const opts = checkOptions<PlanOptions>(options, ['batchSize', 'inputShapes', 'alignment', 'training', 'elide'], 'plan');
  if (opts.batchSize !== undefined && (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)) {
    throw new ValueError(`plan option 'batchSize' must be a positive integer, but got ${String(opts.batchSize)}`);
  }
  const alignment = opts.alignment ?? 256;
  // (2^40 & (2^40 - 1) is 0 in int32 arithmetic: the range is checked before the bit test)
  if (typeof alignment !== 'number' || !Number.isInteger(alignment) || alignment < 4 || alignment > MAX_ALIGNMENT || (alignment & (alignment - 1)) !== 0) {
    throw new ValueError(`plan option 'alignment' must be a power of two from 4 to 2^16 = ${MAX_ALIGNMENT}, but got ${String(alignment)}`);
  }
  const outputs = Array.isArray(outputLayer) ? [...outputLayer] : [outputLayer as Layer];
  const layers = getAllLayers(outputs);
  const inputShapes = concreteInputShapes(layers, opts);
  const shapes = getOutputShape(layers, inputShapes as Map<Layer, Shape>) as Shape[];
  const label = (l: Layer) => l.name ?? `${layers.indexOf(l)}:${l.constructor.name}`;
  const shapeOf = new Map<Layer, number[]>();
  layers.forEach((l, i) => {
    if (shapes[i].some((d) => d === null)) throw new ValueError(`plan: ${label(l)} has an unknown output shape ${formatShape(shapes[i])}`);
    shapeOf.set(l, shapes[i] as number[]);
  });
  const params = getAllParams(outputs);
  const paramIndex = (p: { name: string } | null) => (p === null ? -1 : params.indexOf(p as (typeof params)[number]));

  const tensors: Omit<PlannedTensor, 'offset' | 'first' | 'last'>[] = [];
  const steps: KernelStep[] = [];
  const forms = new Map<Layer, Map<Rotation, number>>();
  const newTensor = (producer: string, shape: number[]) => {
    checkElements(shape, `plan: the output of ${producer}`);
    tensors.push({ id: tensors.length, producer, shape, bytes: 4 * shapeSize(shape) });
    return tensors.length - 1;
  };
  const setForm = (l: Layer, r: Rotation, id: number) => {
    if (!forms.has(l)) forms.set(l, new Map());
    (forms.get(l) as Map<Rotation, number>).set(r, id);
  };
  const shuffleRotation = (l: Layer): Rotation | null =>
    l instanceof ShuffleBC01ToC01BLayer ? 1 : l instanceof ShuffleC01BToBC01Layer ? 3 : null;

  /** The tensor holding rotation r of layer l's output, emitting transposes when needed. */
  const tensorFor = (l: Layer, r: Rotation): number => {
    const shuffle = shuffleRotation(l);
    if (shuffle !== null && elide) return tensorFor(l.inputLayer as Layer, ((r + shuffle) % 4) as Rotation);
    const have = forms.get(l) as Map<Rotation, number>;
    const found = have.get(r);
    if (found !== undefined) return found;
    // A kernel transpose rotates by 1 ([1, 2, 3, 0]) or by 3 ([3, 0, 1, 2]); a rotation by 2 takes two.
    const near = () => ([0, 1, 2, 3] as Rotation[]).find((x) => have.has(x) && (r - x + 4) % 4 !== 2);
    let srcRotation = near();
    if (srcRotation === undefined) {
      tensorFor(l, ((r + 1) % 4) as Rotation);
      srcRotation = near() as Rotation;
    }
    const src = have.get(srcRotation) as number;
    const step = (r - srcRotation + 4) % 4 === 1 ? ([1, 2, 3, 0] as [1, 2, 3, 0]) : ([3, 0, 1, 2] as [3, 0, 1, 2]);
    const out = newTensor(`${label(l)}${LAYOUT_SUFFIX[r]}`, rotate(shapeOf.get(l) as number[], r));
    steps.push({ op: 'transpose', index: steps.length, layer: label(l), input: src, output: out, perm: step, inShape: tensors[src].shape as [number, number, number, number] });
    have.set(r, out);
    return out;
  };

  const elide = opts.elide ?? true;
  /** Without elision a layer keeps only its declared layout, so every consumer transposes again. */
  const settle = (l: Layer) => {
    if (elide) return;
    const declared = tensorFor(l, 0);
    forms.set(l, new Map([[0 as Rotation, declared]]));
  };
  const weightGradients: WeightGradientPlan[] = [];
  for (const l of layers) {
    const name = label(l);
    const outShape = shapeOf.get(l) as number[];
    if (l instanceof InputLayer) {
      setForm(l, 0, newTensor(name, outShape));
      continue;
    }
    const shuffle = shuffleRotation(l);
    if (shuffle !== null) {
      if (l.inputLayer === null) throw new ValueError(`plan: ${name} was built on a shape, not a layer; build it on an InputLayer to run it`);
      if (!elide) {
        const src = tensorFor(l.inputLayer, 0);
        const out = newTensor(name, outShape);
        steps.push({ op: 'transpose', index: steps.length, layer: name, input: src, output: out, perm: shuffle === 1 ? [1, 2, 3, 0] : [3, 0, 1, 2], inShape: tensors[src].shape as [number, number, number, number] });
        setForm(l, 0, out);
      }
      continue;
    }
    if (!(l instanceof Conv2DCCLayer || l instanceof MaxPool2DCCLayer || l instanceof NINLayer_c01b)) {
      throw new NotImplementedError(`${l.constructor.name} has no kernel: networks can use InputLayer and the cuda-convnet layers`);
    }
    if (l.inputLayer === null) throw new ValueError(`plan: ${name} was built on a shape, not a layer; build it on an InputLayer to run it`);
    const inShape = shapeOf.get(l.inputLayer) as number[];
    if (l instanceof Conv2DCCLayer || l instanceof MaxPool2DCCLayer) {
      const r: Rotation = l.dimshuffle ? 1 : 0; // bc01 -> c01b is rotation 1
      const [c, rows, cols, batch] = rotate(inShape, r);
      const [, outRows, outCols] = rotate(outShape, r);
      const input = tensorFor(l.inputLayer, r);
      const output = newTensor(`${name}${LAYOUT_SUFFIX[r]}`, rotate(outShape, r));
      setForm(l, r, output);
      if (l instanceof Conv2DCCLayer) {
        const k = l.filterSize[0];
        const s = l.stride[0];
        checkConvRun(name, k, s);
        checkParamShapes(l, name, l.dimshuffle ? [l.numFilters, c, k, k] : [c, k, k, l.numFilters], [l.numFilters, outRows, outCols]);
        if (l.nonlinearity.kind === 'softmax') throw new ValueError(`plan: ${name} uses softmax, which needs a 2-D input; Conv2DCCLayer outputs are 4-D`);
        steps.push({
          op: 'filter_acts', index: steps.length, layer: name, input, output,
          weight: paramIndex(l.W), weightLayout: l.dimshuffle ? 'fckk' : 'ckkf', flipFilters: l.flipFilters,
          bias: paramIndex(l.b), biasMode: biasMode(l.b, l.untieBiases),
          nonlinearity: { kind: l.nonlinearity.kind, params: [...l.nonlinearity.params] },
          channels: c, rows, cols, batch, filters: l.numFilters, filterSize: k, stride: s, pad: l.resolvedPad, outRows, outCols,
        });
        if (opts.training) {
          const [rowsCC, colsCC] = l.moduleGrid(rows, cols);
          weightGradients.push({ layer: name, rowsCC, colsCC, ...partialSum(name, rowsCC, colsCC, l.partialSum ?? 0, c, k, l.numFilters) });
        }
      } else {
        checkPoolRun(name, l.poolSize, rows, cols);
        steps.push({ op: 'max_pool', index: steps.length, layer: name, input, output, channels: c, rows, cols, batch, poolSize: l.poolSize, stride: l.stride, outRows, outCols });
      }
      settle(l);
      continue;
    }
    // NINLayer_c01b: (C, ...positions, B) -> (U, ...positions, B)
    checkParamShapes(l, name, [l.numUnits, inShape[0]], [l.numUnits, ...outShape.slice(1, -1)]);
    if (l.nonlinearity.kind === 'softmax') throw new ValueError(`plan: ${name} uses softmax, which needs a 2-D input; NINLayer_c01b outputs are ${outShape.length}-D`);
    const input = tensorFor(l.inputLayer, 0);
    const output = newTensor(name, outShape);
    setForm(l, 0, output);
    const batch = inShape[inShape.length - 1];
    steps.push({
      op: 'nin', index: steps.length, layer: name, input, output,
      weight: paramIndex(l.W), bias: paramIndex(l.b), biasMode: biasMode(l.b, l.untieBiases),
      nonlinearity: { kind: l.nonlinearity.kind, params: [...l.nonlinearity.params] },
      channels: inShape[0], units: l.numUnits, positions: shapeSize(inShape) / inShape[0] / batch, batch,
    });
  }
  const inputIds = layers.filter((l) => l instanceof InputLayer).map((l) => tensorFor(l, 0));
  const outputIds = outputs.map((o) => tensorFor(o, 0));

  // Lifetimes over the kernel steps: from the producing step (inputs: 0) to the last reader; outputs to the end.
  const lastStep = Math.max(steps.length - 1, 0);
  const live = tensors.map(() => ({ first: 0, last: 0 }));
  for (const st of steps) {
    live[st.output] = { first: st.index, last: st.index };
  }
  for (const st of steps) live[st.input].last = Math.max(live[st.input].last, st.index);
  for (const id of outputIds) live[id].last = lastStep;
  const lived = tensors.map((t, i) => ({ ...t, ...live[i] }));
  const { offsets, totalBytes } = planArena(lived, alignment);
  const planned: PlannedTensor[] = lived.map((t, i) => ({ ...t, offset: offsets[i] }));
  const naiveBytes = tensors.reduce((n, t) => n + Math.ceil(t.bytes / alignment) * alignment, 0);
  const result: Omit<NetworkPlan, 'digest'> = {
    inputs: inputIds, outputs: outputIds, tensors: planned, steps,
    params: params.map((p) => ({ name: p.name, shape: [...p.shape] })),
    layers: layers.map((l) => ({ name: label(l), layerClass: l.constructor.name, outputShape: shapeOf.get(l) as number[], config: l.config() })),
    ...(opts.training ? { weightGradients } : {}),
    alignment, arenaBytes: totalBytes, naiveBytes,
  };
  return frozenCopy({ ...result, digest: fnv1a64(JSON.stringify(result)) });
}

/**
 * A deep copy with every object and array frozen: a plan is read by the backends while it runs,
 * so nothing reachable from it may change (a shape edited after compile would make WebGPU compute
 * the wrong batch). Copied first, so that freezing never reaches a layer's own arrays (`config()`
 * returns them).
 */
function frozenCopy<T>(x: T): T {
  if (x === null || typeof x !== 'object') return x;
  if (Array.isArray(x)) return Object.freeze(x.map(frozenCopy)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) out[k] = frozenCopy(v);
  return Object.freeze(out) as T;
}

function biasMode(b: unknown, untied: boolean): BiasMode {
  return b === null ? 'none' : untied ? 'untied' : 'tied';
}
