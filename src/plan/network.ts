/**
 * The plan of a network: the step list every backend runs, the tensors with their lifetimes, and
 * their byte offsets in one arena, laid out by the planner. Deterministic: the same network gives
 * the same plan and digest on every machine and every run.
 */
import { NotImplementedError, ValueError } from '../errors.js';
import { formatShape, shapeSize, type Shape } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { Layer } from '../layers/base.js';
import { InputLayer } from '../layers/input.js';
import { getAllLayers, getOutputShape } from '../layers/helper.js';
import {
  Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, ShuffleBC01ToC01BLayer, ShuffleC01BToBC01Layer,
} from '../layers/cuda_convnet.js';
import { checkConvRun, checkPoolRun, partialSum, planArena } from './planner.js';
import { fnv1a64 } from './digest.js';

export interface PlanOptions {
  /** Replaces a null batch dimension of every input (axis 0 for bc01 inputs, the last axis for c01b). */
  batchSize?: number;
  /** Concrete input shapes: one shape (single input) or a Map from InputLayer to shape. */
  inputShapes?: Shape | Map<InputLayer, Shape>;
  /** Byte alignment of every offset (a power of two, default 256, WebGPU's usual minStorageBufferOffsetAlignment). */
  alignment?: number;
  /** Also check each conv layer's partialSum (as a gradient would) and report its scratch bytes. */
  training?: boolean;
}

/** The kernel family a step runs (named after the wgsl/ and src/cpu/c/ files). */
export type StepOp = 'filter_acts' | 'max_pool' | 'shuffle_bc01_c01b' | 'shuffle_c01b_bc01' | 'nin';

export interface PlannedTensor {
  id: number;
  /** The layer that produces it (its name, or `<index>:<Class>`). */
  producer: string;
  shape: number[];
  bytes: number;
  /** Byte offset in the arena. */
  offset: number;
  /** First and last step (inclusive) during which it holds live data. */
  first: number;
  last: number;
}

export interface PlannedStep {
  index: number;
  op: StepOp;
  layer: string;
  layerClass: string;
  input: number;
  output: number;
  /** Parameter shapes, in the layer's parameter order. */
  params: { name: string; shape: number[] }[];
  /** The layer's configuration (options that change the computation). */
  config: Record<string, unknown>;
  /** Kernel geometry in c01b terms, for conv: channels, rows, cols, batch, pad, module grid. */
  geometry: Record<string, number | boolean>;
  /** With `training`: the effective partial_sum and its scratch bytes (conv only). */
  partialSum?: { effective: number; scratchBytes: number };
}

export interface NetworkPlan {
  inputs: number[];
  outputs: number[];
  tensors: PlannedTensor[];
  steps: PlannedStep[];
  alignment: number;
  /** Bytes of the one arena buffer. */
  arenaBytes: number;
  /** What one buffer per tensor would take (the sum of aligned sizes), for comparison. */
  naiveBytes: number;
  /** 16 hex digits naming this plan, the same for the same network on every machine and run. */
  digest: string;
}

function opOf(layer: Layer): StepOp {
  if (layer instanceof Conv2DCCLayer) return 'filter_acts';
  if (layer instanceof MaxPool2DCCLayer) return 'max_pool';
  if (layer instanceof ShuffleBC01ToC01BLayer) return 'shuffle_bc01_c01b';
  if (layer instanceof ShuffleC01BToBC01Layer) return 'shuffle_c01b_bc01';
  if (layer instanceof NINLayer_c01b) return 'nin';
  throw new NotImplementedError(`${layer.constructor.name} has no kernel: networks can use InputLayer and the cuda-convnet layers`);
}

/** Whether a layer reads its input with the batch last (c01b) rather than first (bc01). */
function readsBatchLast(layer: Layer): boolean {
  if (layer instanceof Conv2DCCLayer || layer instanceof MaxPool2DCCLayer) return !layer.dimshuffle;
  return layer instanceof ShuffleC01BToBC01Layer || layer instanceof NINLayer_c01b;
}

function concreteInputShapes(layers: Layer[], opts: PlanOptions): Map<Layer, Shape> {
  const inputs = layers.filter((l): l is InputLayer => l instanceof InputLayer);
  const given = new Map<Layer, Shape>();
  if (opts.inputShapes instanceof Map) for (const [k, v] of opts.inputShapes) given.set(k, v);
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
 * Plans a network for inference (and, with `training`, checks what its gradient needs): the step
 * list, tensor lifetimes, arena offsets and digest. Raises the run-time errors of the cuda-convnet
 * ops here, before anything runs: stride > filter size, a pooling region larger than the image,
 * unknown shapes.
 *
 * ```ts
 * const p = plan(net, { batchSize: 128 });
 * console.log(p.arenaBytes, p.naiveBytes, p.digest);
 * ```
 */
export function plan(outputLayer: Layer | readonly Layer[], options?: PlanOptions): NetworkPlan {
  const opts = checkOptions<PlanOptions>(options, ['batchSize', 'inputShapes', 'alignment', 'training'], 'plan');
  if (opts.batchSize !== undefined && (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)) {
    throw new ValueError(`plan option 'batchSize' must be a positive integer, but got ${String(opts.batchSize)}`);
  }
  const alignment = opts.alignment ?? 256;
  if (!Number.isInteger(alignment) || alignment < 4 || (alignment & (alignment - 1)) !== 0) {
    throw new ValueError(`plan option 'alignment' must be a power of two >= 4, but got ${String(alignment)}`);
  }
  const outputs = Array.isArray(outputLayer) ? [...outputLayer] : [outputLayer as Layer];
  const layers = getAllLayers(outputs);
  const inputShapes = concreteInputShapes(layers, opts);
  const shapes = getOutputShape(layers, inputShapes as Map<Layer, Shape>) as Shape[];
  const shapeOf = new Map<Layer, number[]>(layers.map((l, i) => [l, shapes[i] as number[]]));

  const computeLayers = layers.filter((l) => !(l instanceof InputLayer));
  const stepOf = new Map<Layer, number>(computeLayers.map((l, i) => [l, i]));
  const lastStep = Math.max(computeLayers.length - 1, 0);
  const label = (l: Layer) => l.name ?? `${layers.indexOf(l)}:${l.constructor.name}`;

  const tensorOf = new Map<Layer, number>(layers.map((l, i) => [l, i]));
  const tensors: Omit<PlannedTensor, 'offset'>[] = layers.map((l, i) => {
    const shape = shapeOf.get(l) as number[];
    if (shape.some((d) => d === null)) throw new ValueError(`plan: ${label(l)} has an unknown output shape ${formatShape(shape)}`);
    return { id: i, producer: label(l), shape, bytes: 4 * shapeSize(shape), first: stepOf.get(l) ?? 0, last: stepOf.get(l) ?? 0 };
  });
  for (const l of computeLayers) {
    if (l.inputLayer === null) throw new ValueError(`plan: ${label(l)} was built on a shape, not a layer; build it on an InputLayer to run it`);
    const t = tensors[tensorOf.get(l.inputLayer) as number];
    t.last = Math.max(t.last, stepOf.get(l) as number);
  }
  for (const o of outputs) tensors[tensorOf.get(o) as number].last = lastStep;

  const steps: PlannedStep[] = computeLayers.map((l, index) => {
    const inShape = shapeOf.get(l.inputLayer as Layer) as number[];
    const outShape = shapeOf.get(l) as number[];
    const step: PlannedStep = {
      index, op: opOf(l), layer: label(l), layerClass: l.constructor.name,
      input: tensorOf.get(l.inputLayer as Layer) as number, output: tensorOf.get(l) as number,
      params: [...l.params.keys()].map((p) => ({ name: p.name, shape: [...p.shape] })),
      config: l.config(), geometry: {},
    };
    if (l instanceof Conv2DCCLayer) {
      // c01b view of the input: (C, rows, cols, B)
      const [c, rows, cols, batch] = l.dimshuffle ? [inShape[1], inShape[2], inShape[3], inShape[0]] : inShape;
      const k = l.filterSize[0];
      const s = l.stride[0];
      checkConvRun(label(l), k, s);
      const [rowsCC, colsCC] = l.moduleGrid(rows, cols);
      const [outRows, outCols] = l.dimshuffle ? [outShape[2], outShape[3]] : [outShape[1], outShape[2]];
      step.geometry = { channels: c, rows, cols, batch, filters: l.numFilters, filterSize: k, stride: s, pad: l.resolvedPad, outRows, outCols, rowsCC, colsCC };
      checkParamShapes(l, label(l), l.dimshuffle ? [l.numFilters, c, k, k] : [c, k, k, l.numFilters], [l.numFilters, outRows, outCols]);
      if (opts.training) step.partialSum = partialSum(label(l), rowsCC, colsCC, l.partialSum ?? 0, c, k, l.numFilters);
    } else if (l instanceof MaxPool2DCCLayer) {
      const [c, rows, cols, batch] = l.dimshuffle ? [inShape[1], inShape[2], inShape[3], inShape[0]] : inShape;
      checkPoolRun(label(l), l.poolSize, rows, cols);
      step.geometry = { channels: c, rows, cols, batch, poolSize: l.poolSize, stride: l.stride };
    } else if (l instanceof NINLayer_c01b) {
      checkParamShapes(l, label(l), [l.numUnits, inShape[0]], [l.numUnits, ...outShape.slice(1, -1)]);
    }
    return step;
  });

  const { offsets, totalBytes } = planArena(tensors, alignment);
  const planned: PlannedTensor[] = tensors.map((t, i) => ({ ...t, offset: offsets[i] }));
  const naiveBytes = tensors.reduce((n, t) => n + Math.ceil(t.bytes / alignment) * alignment, 0);
  const result = {
    inputs: layers.filter((l) => l instanceof InputLayer).map((l) => tensorOf.get(l) as number),
    outputs: outputs.map((o) => tensorOf.get(o) as number),
    tensors: planned, steps, alignment, arenaBytes: totalBytes, naiveBytes,
  };
  return { ...result, digest: fnv1a64(JSON.stringify(result)) };
}
