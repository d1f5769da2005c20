/**
 * The plan of a network: the step list every backend runs, the tensors with their lifetimes, and
 * their byte offsets in one arena, laid out by the planner. Deterministic: the same network gives
 * the same plan and digest on every machine and every run.
 */
import { ValueError } from '../errors.js';
import { checkElements, formatShape, shapeSize, type Shape } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { isInputLayer, type Layer } from '../layers/base.js';
import type { InputLayer } from '../layers/input.js';
import { getAllLayers, getAllParams, getOutputShape } from '../layers/helper.js';
import type { LowerContext, Rotation } from '../layers/lower.js';
import { planArena } from '../planner/planner.js';
import type { KernelStep, StepSpec, WeightGradientPlan } from '../ops/steps.js';
import { fnv1a64 } from './digest.js';

export interface PlanOptions {
  /** Replaces a null batch dimension of every input (axis 0 for bc01 inputs, the last axis for c01b). */
  batchSize?: number;
  /** Concrete input shapes: one shape (single input) or a Map from InputLayer to shape. */
  inputShapes?: Shape | Map<InputLayer, Shape>;
  /** Byte alignment of every offset (a power of two from 4 to 2^16, default 256, WebGPU's usual minStorageBufferOffsetAlignment). */
  alignment?: number;
  /** Also check each conv layer's partialSum (as a gradient would) and report its scratch bytes. */
  training?: boolean;
  /** false: layers that differ in training (DropoutLayer) lower their training form. Default true. */
  deterministic?: boolean;
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
  /** Which axis is the batch (backends split the batch over threads along it); -1 for scratch. */
  batchAxis: number;
}

export interface PlannedLayer {
  name: string;
  layerClass: string;
  outputShape: number[];
  /** The options that change the computation. */
  config: Record<string, unknown>;
}

export type { WeightGradientPlan };

export interface NetworkPlan {
  /** Tensor ids of the inputs (InputLayers, in topological order) and the requested outputs. */
  inputs: number[];
  outputs: number[];
  tensors: PlannedTensor[];
  /** The kernel steps every backend runs, in order (see src/ops/steps.ts). */
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

/** Rotation r of a shape: axis i of the result is axis (i + r) mod n (n-D: r taken mod n). */
const rotate = (shape: readonly number[], r: Rotation): number[] => shape.map((_, i) => shape[(i + r) % shape.length]);
/** A rotation of an n-D tensor as the one rotation it is (mod n). */
const normal = (r: number, n: number): Rotation => ((((r % n) + n) % n) as Rotation);
const LAYOUT_SUFFIX = ['', '@r1', '@r2', '@r3'] as const;
/** The transpose step that rotates a tensor by 1 or by 3. */
const PERM_OF = { 1: [1, 2, 3, 0], 3: [3, 0, 1, 2] } as const;

/** Who asked for the plan: its errors name the options that caller takes (compile has no inputShapes). */
export type PlanCaller = 'plan' | 'compile';

function concreteInputShapes(layers: Layer[], opts: PlanOptions, batchAxes: Map<Layer, number>, caller: PlanCaller): Map<Layer, Shape> {
  const inputs = layers.filter(isInputLayer) as InputLayer[];
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
    const batchAxis = consumers.some((l) => l.readsBatchLast()) ? shape.length - 1 : 0;
    if (shape[batchAxis] === null && opts.batchSize !== undefined) shape[batchAxis] = opts.batchSize;
    batchAxes.set(input, batchAxis);
    const open = shape.flatMap((d, i) => (d === null ? [i] : []));
    if (open.length > 0) {
      const which = `input ${input.name !== null ? `'${input.name}'` : 'InputLayer'} has shape ${formatShape(shape)}`;
      const others = open.filter((i) => i !== batchAxis);
      let fix: string;
      if (others.length === 0) {
        fix = `pass the option batchSize for its batch dimension (axis ${batchAxis}), e.g. ${caller}(net, { batchSize: 32 })`;
      } else {
        const axes = `ax${others.length > 1 ? 'e' : 'i'}s ${others.join(', ')}`;
        fix = caller === 'compile'
          ? `compile fixes only the batch dimension (axis ${batchAxis}, option batchSize); give the InputLayer a concrete size for ${axes}`
          : `batchSize fixes only the batch dimension (axis ${batchAxis}); give ${axes} a size with the option inputShapes or in the InputLayer's shape`;
      }
      throw new ValueError(`${caller} needs concrete shapes, but ${which}; ${fix}`);
    }
    shapes.set(input, shape);
  }
  return shapes;
}

/**
 * Plans a network for inference (and, with `training`, checks what its gradient needs): the kernel
 * step list, tensor lifetimes, arena offsets and digest. The plan is deeply frozen (read-only). Raises the run-time errors of the
 * cuda-convnet ops here, before anything runs: stride > filter size, a pooling region larger than the
 * image, unknown shapes.
 *
 * Lowering: each layer emits its own steps (`Layer.lower`, given a LowerContext); this function owns
 * the tensors, rotations, lifetimes and the arena. Kernels work in c01b. Each layer's output exists in the arena in one or more axis
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
  return buildPlan(outputLayer, options, []);
}

/**
 * The plan with a backend's scratch: `scratch[i]` bytes of working memory for step i (0: none;
 * `Backend.scratchBytes` of the same network's steps), each a tensor live during its step only, so
 * the arena and `arenaBytes` hold every byte the backend uses. compile() plans with this.
 */
export function planWithScratch(outputLayer: Layer | readonly Layer[], options: PlanOptions | undefined, scratch: readonly number[], caller: PlanCaller = 'plan'): NetworkPlan {
  return buildPlan(outputLayer, options, scratch, caller);
}

function buildPlan(outputLayer: Layer | readonly Layer[], options: PlanOptions | undefined, scratch: readonly number[], caller: PlanCaller = 'plan'): NetworkPlan {
  const opts = checkOptions<PlanOptions>(options, ['batchSize', 'inputShapes', 'alignment', 'training', 'elide', 'deterministic'], 'plan');
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
  // the batch axis of each layer's declared output: the input layers' from their consumers, then down the graph
  const batchAxisOf = new Map<Layer, number>();
  const inputShapes = concreteInputShapes(layers, opts, batchAxisOf, caller);
  for (const l of layers) {
    if (!batchAxisOf.has(l)) batchAxisOf.set(l, l.inputLayer === null ? -1 : l.outputBatchAxis(batchAxisOf.get(l.inputLayer) as number));
  }
  const shapes = getOutputShape(layers, inputShapes as Map<Layer, Shape>) as Shape[];
  const label = (l: Layer) => l.name ?? `${layers.indexOf(l)}:${l.constructor.name}`;
  const shapeOf = new Map<Layer, number[]>();
  layers.forEach((l, i) => {
    if (shapes[i].some((d) => d === null)) throw new ValueError(`plan: ${label(l)} has an unknown output shape ${formatShape(shapes[i])}`);
    shapeOf.set(l, shapes[i] as number[]);
  });
  const params = getAllParams(outputs);
  const paramIndex = (p: object | null) => (p === null ? -1 : params.indexOf(p as (typeof params)[number]));

  const tensors: Omit<PlannedTensor, 'offset' | 'first' | 'last'>[] = [];
  const steps: KernelStep[] = [];
  const forms = new Map<Layer, Map<Rotation, number>>();
  /** A tensor of layer l's output in rotation r (axis a of the declared layout is axis (a - r) mod 4), or scratch (l null). */
  const newTensor = (producer: string, shape: number[], l: Layer | null, r: Rotation = 0) => {
    checkElements(shape, `plan: the output of ${producer}`);
    const declared = l === null ? -1 : (batchAxisOf.get(l) as number);
    const batchAxis = declared < 0 || r === 0 ? declared : (declared - r + 4 * shape.length) % shape.length;
    tensors.push({ id: tensors.length, producer, shape, bytes: 4 * shapeSize(shape), batchAxis });
    return tensors.length - 1;
  };
  const setForm = (l: Layer, r: Rotation, id: number) => {
    if (!forms.has(l)) forms.set(l, new Map());
    (forms.get(l) as Map<Rotation, number>).set(r, id);
  };
  /** Layers whose output is a rotation of their input's (shuffle layers, when elided). */
  const aliases = new Map<Layer, Rotation>();
  const transpose = (layer: string, src: number, out: number, by: 1 | 3) => {
    steps.push({ op: 'transpose', index: steps.length, layer, input: src, output: out, perm: [...PERM_OF[by]], inShape: tensors[src].shape as [number, number, number, number] });
  };

  /** The tensor holding rotation r of layer l's output, emitting transposes when needed. */
  const tensorFor = (l: Layer, r0: Rotation): number => {
    const alias = aliases.get(l);
    if (alias !== undefined) return tensorFor(l.inputLayer as Layer, ((r0 + alias) % 4) as Rotation);
    const have = forms.get(l) as Map<Rotation, number>;
    const n = (shapeOf.get(l) as number[]).length;
    const r = normal(r0, n);
    const found = have.get(r);
    if (found !== undefined) return found;
    if (n !== 4) {
      // any rotation of an n-D tensor is one 2-D transpose: (first d axes, the rest) -> (the rest, first d axes)
      const [srcRotation, src] = [...have.entries()][0];
      const d = normal(r - srcRotation, n);
      const srcShape = tensors[src].shape;
      const lead = srcShape.slice(0, d).reduce((a, b) => a * b, 1);
      const rest = srcShape.slice(d).reduce((a, b) => a * b, 1);
      const out = newTensor(`${label(l)}${LAYOUT_SUFFIX[r]}`, rotate(shapeOf.get(l) as number[], r), l, r);
      // written as the 4-D transpose whose batch is where the backends look for it: the first axis of
      // a [1, 2, 3, 0] transpose's input, the last of a [3, 0, 1, 2] one's (moving the last axis first)
      const step = d === n - 1 && tensors[src].batchAxis === n - 1
        ? { perm: [3, 0, 1, 2] as [3, 0, 1, 2], inShape: [1, 1, lead, rest] as [number, number, number, number] }
        : { perm: [1, 2, 3, 0] as [1, 2, 3, 0], inShape: [lead, rest, 1, 1] as [number, number, number, number] };
      steps.push({ op: 'transpose', index: steps.length, layer: label(l), input: src, output: out, ...step });
      have.set(r, out);
      return out;
    }
    // A kernel transpose rotates by 1 ([1, 2, 3, 0]) or by 3 ([3, 0, 1, 2]); a rotation by 2 takes two.
    const near = () => ([0, 1, 2, 3] as Rotation[]).find((x) => have.has(x) && (r - x + 4) % 4 !== 2);
    let srcRotation = near();
    if (srcRotation === undefined) {
      tensorFor(l, ((r + 1) % 4) as Rotation);
      srcRotation = near() as Rotation;
    }
    const src = have.get(srcRotation) as number;
    const out = newTensor(`${label(l)}${LAYOUT_SUFFIX[r]}`, rotate(shapeOf.get(l) as number[], r), l, r);
    transpose(label(l), src, out, (r - srcRotation + 4) % 4 === 1 ? 1 : 3);
    have.set(r, out);
    return out;
  };

  /** The rotations of layer l's output that exist already (through aliases: those of the layer below, rotated back). */
  const rotationsOf = (l: Layer): Rotation[] => {
    const n = (shapeOf.get(l) as number[]).length;
    const alias = aliases.get(l);
    if (alias !== undefined) return rotationsOf(l.inputLayer as Layer).map((r) => normal(r - alias, n));
    if (!forms.has(l)) return [0];
    return [...(forms.get(l) as Map<Rotation, number>).keys()].map((r) => normal(r, n));
  };

  const elide = opts.elide ?? true;
  const weightGradients: WeightGradientPlan[] = [];
  for (const l of layers) {
    const name = label(l);
    const outShape = shapeOf.get(l) as number[];
    const input = l.inputLayer;
    const below = (): Layer => {
      if (input === null) throw new ValueError(`plan: ${name} was built on a shape, not a layer; build it on an InputLayer to run it`);
      return input;
    };
    const ref = (id: number) => ({ id, shape: [...tensors[id].shape] });
    const ctx: LowerContext = {
      label: name,
      inputShape: input === null ? null : (shapeOf.get(input) as number[]),
      outputShape: outShape,
      training: opts.training === true,
      deterministic: opts.deterministic !== false,
      batchAxis: batchAxisOf.get(l) as number,
      index: layers.indexOf(l),
      input: (r: Rotation = 0) => ref(tensorFor(below(), r)),
      inputRotations: () => rotationsOf(below()),
      output: (r0: Rotation = 0) => {
        const r = normal(r0, outShape.length);
        const id = newTensor(`${name}${LAYOUT_SUFFIX[r]}`, rotate(outShape, r), l, r);
        setForm(l, r, id);
        return ref(id);
      },
      rotationOfInput: (r: Rotation) => {
        if (r !== 1 && r !== 3) throw new ValueError(`plan: ${name} asks for rotation ${String(r)} of its input, but a layer can rotate by 1 or 3`);
        const src = below();
        if (elide) {
          aliases.set(l, r);
          return;
        }
        const from = tensorFor(src, 0);
        const out = newTensor(name, outShape, l);
        transpose(name, from, out, r);
        setForm(l, 0, out);
      },
      aliasInput: () => {
        below();
        aliases.set(l, 0);
      },
      temp: (r0: Rotation = 0) => {
        const r = normal(r0, outShape.length);
        return ref(newTensor(`${name}#pre`, rotate(outShape, r), l, r));
      },
      param: paramIndex,
      emit: (step: StepSpec) => {
        steps.push({ ...step, index: steps.length, layer: name } as KernelStep);
      },
      weightGradient: (g) => {
        weightGradients.push({ layer: name, ...g });
      },
    };
    l.lower(ctx);
    // Without elision a layer keeps only its declared layout, so every consumer transposes again.
    if (!elide && !isInputLayer(l) && forms.has(l)) forms.set(l, new Map([[0 as Rotation, tensorFor(l, 0)]]));
  }
  const inputIds = layers.filter(isInputLayer).map((l) => tensorFor(l, 0));
  const outputIds = outputs.map((o) => tensorFor(o, 0));
  for (const st of steps) {
    const need = scratch[st.index] ?? 0;
    if (!(Number.isInteger(need) && need >= 0)) throw new ValueError(`plan: scratch for step ${st.index} must be a non-negative integer of bytes, but got ${String(need)}`);
    if (need > 0) st.scratch = newTensor(`${st.layer}#scratch`, [Math.ceil(need / 4)], null);
  }

  // Lifetimes over the kernel steps: from the producing step (inputs: 0) to the last reader; outputs to the end.
  const lastStep = Math.max(steps.length - 1, 0);
  const live = tensors.map(() => ({ first: 0, last: 0 }));
  for (const st of steps) {
    live[st.output] = { first: st.index, last: st.index };
    if (st.scratch !== undefined) live[st.scratch] = { first: st.index, last: st.index };
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
