/**
 * lasagne.layers.cuda_convnet: the cuda-convnet layers with Lasagne's signatures, defaults, shapes,
 * parameters and errors. Import them from `lasagne-webgpu/layers/cuda_convnet` (like Lasagne, they
 * are not re-exported flat into `layers`; `layers.cuda_convnet` is this module).
 *
 * Layouts: bc01 = (batch, channels, rows, cols), Lasagne's default; c01b = (channels, rows, cols,
 * batch), cuda-convnet's own. `dimshuffle: true` layers take and give bc01 and compute in c01b.
 *
 * Lasagne quirks that are deliberately NOT reproduced (each would hurt a user and none changes a
 * correct result):
 * - `dimshuffle: false` with `untieBiases: true`: Lasagne first creates `b` with a wrong shape and
 *   rejects a correct `(F, rows, cols)` array (and a null batch size); here `b` is created once, with
 *   the right shape.
 * - list arguments in error messages: Lasagne's `%` formatting turns them into a Python TypeError;
 *   here the intended RuntimeError is raised.
 * - `NINLayer_c01b` with `untieBiases: true` crashes under Python 3; here it works as intended.
 * Stricter than Lasagne (clear errors instead of later failures): pooling and shuffle layers need a
 * 4-D input; filter sizes, strides and pool sizes must be positive; an empty output is an error.
 */
import { RuntimeError, ValueError } from '../errors.js';
import { formatShape, shapeSize, type Shape } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { Constant, GlorotUniform } from '../init.js';
import { rectify, type Nonlinearity } from '../nonlinearities.js';
import {
  checkConv, checkConvEarly, checkConvRun, checkPool, checkPoolRun, convGridLength, convOutputLength, partialSum,
  poolOutputLength, resolvePad, type PadSpec,
} from '../planner/planner.js';
import type { BiasMode } from '../ops/codes.js';
import { Layer, Param, checkParamShape, checkParamSpec, type ParamSpec } from './base.js';
import type { LowerContext, Rotation } from './lower.js';
import { asBool, asInt, asIntTuple, checkNonlinearity } from './util.js';
import { registerLayer } from './registry.js';

function biasMode(b: Param | null, untied: boolean): BiasMode {
  return b === null ? 'none' : untied ? 'untied' : 'tied';
}

/** Lasagne's bc01 layers compute in c01b: they read and write rotation 1 of their declared layout. */
function kernelRotation(dimshuffle: boolean): Rotation {
  return dimshuffle ? 1 : 0; // bc01 -> c01b
}

function requireRank(shape: Shape, rank: number, owner: string, layout: string): void {
  if (shape.length !== rank) {
    throw new ValueError(`${owner} requires a ${rank}-dimensional input (${layout}), but input_shape=${formatShape(shape)}`);
  }
}

export interface Conv2DCCLayerOptions {
  /** Stride (int or [rows, cols]; must be square). Default 1. */
  stride?: number | [number, number];
  /** 0 (default), an int, [int, int] (must be equal), 'valid', 'full' or 'same' (odd filters only). */
  pad?: number | [number, number] | 'valid' | 'full' | 'same';
  /** One bias per filter (false, default) or per filter and output position (true). */
  untieBiases?: boolean;
  /** Initial weights; undefined means GlorotUniform (with `c01b: true` when `dimshuffle` is false). */
  W?: ParamSpec;
  /** Initial biases; default `new init.Constant({ val: 0 })`; null means no bias. */
  b?: ParamSpec | null;
  /** Default `nonlinearities.rectify`; null means identity. */
  nonlinearity?: Nonlinearity | null;
  /** true (default): input, W and output are bc01; false: all three are c01b. */
  dimshuffle?: boolean;
  /** true: true convolution (flip the filters, as Conv2DLayer); false (default): correlation. */
  flipFilters?: boolean;
  /**
   * Weight-gradient partial sums (default 1); 0 or null means all modules. It must divide the number
   * of positions of cuda-convnet's untruncated output grid, checked when a gradient is planned.
   * Trades memory for speed; results are equal up to float rounding.
   */
  partialSum?: number | null;
  /** Lasagne's num_groups, accepted through **kwargs: only 1 is supported. */
  numGroups?: number;
  /** The layer's name (parameters are then named `<name>.W`, `<name>.b`). */
  name?: string | null;
}

const CONV_OPTIONS = ['stride', 'pad', 'untieBiases', 'W', 'b', 'nonlinearity', 'dimshuffle', 'flipFilters', 'partialSum', 'numGroups', 'name'] as const;

/**
 * 2D convolution with cuda-convnet's FilterActs semantics (lasagne.layers.cuda_convnet.Conv2DCCLayer):
 *
 *   y[b, f, oy, ox] = nonlinearity(bias + sum_{c,i,j} xpad[b, c, oy*s + i, ox*s + j] * Wk[f, c, i, j])
 *
 * with `Wk = W` (correlation, the default `flipFilters: false`) or `W` flipped in both spatial axes,
 * and `xpad` the input zero-padded by `pad` on all four sides. Output rows `ceil(L / s)` with
 * `L = H + 2p - k + 1` (Lasagne's conv_output_length).
 *
 * ```ts
 * const l_in = new InputLayer([null, 3, 32, 32]);
 * const conv = new Conv2DCCLayer(l_in, 32, 5, { pad: 2 });     // W (32, 3, 5, 5), b (32,)
 * conv.outputShape;                                           // [null, 32, 32, 32]
 * ```
 *
 * Constraints (cuda-convnet's, as Lasagne enforces them): square filters, square strides, square
 * padding, `numFilters % 16 == 0`, input channels 1, 2, 3 or a multiple of 4 (RuntimeError);
 * `'same'` padding needs odd filters (NotImplementedError); stride <= filter size (ValueError when
 * the network is planned, as FilterActs raises it when run). `W` and `b` have at most 2^28 elements
 * each (`MAX_ELEMENTS`; ValueError, checked before anything is allocated).
 */
export class Conv2DCCLayer extends Layer {
  readonly numFilters: number;
  readonly filterSize: [number, number];
  readonly stride: [number, number];
  /** [p, p], or the string 'full' / 'same' as given ('valid' is stored as [0, 0]). */
  readonly pad: [number, number] | 'full' | 'same';
  readonly untieBiases: boolean;
  readonly flipFilters: boolean;
  readonly dimshuffle: boolean;
  readonly partialSum: number | null;
  readonly numGroups: number;
  readonly nonlinearity: Nonlinearity;
  /** Always 2 (the number of spatial dimensions). */
  readonly n = 2;
  readonly W: Param;
  readonly b: Param | null;

  constructor(incoming: Layer | Shape, numFilters: number, filterSize: number | [number, number], options?: Conv2DCCLayerOptions) {
    const L = 'Conv2DCCLayer';
    const opts = checkOptions<Conv2DCCLayerOptions>(options, CONV_OPTIONS, L);
    super(incoming, opts.name ?? null);
    const input = this.inputShape as Shape;
    // Lasagne's order of effects: BaseConvLayer (nonlinearity, rank, as_tuple, 'same' check, pad
    // normalisation, num_groups, W, b), then the cuda-convnet checks. Parameter specs are validated
    // in W/b's place and sampled only after every check has passed.
    const dimshuffle = asBool(opts.dimshuffle ?? true, 'dimshuffle', L);
    const nonlinearity = checkNonlinearity(opts.nonlinearity === undefined ? rectify : opts.nonlinearity, L);
    if (input.length !== 4) {
      throw new ValueError(
        `Tried to create a 2D convolution layer with input shape ${formatShape(input)}. Expected 4 input dimensions (batchsize, channels, 2 spatial dimensions).`,
      );
    }
    const nf = asInt(numFilters, 'num_filters', L);
    const fs = asIntTuple(filterSize, 2) as [number, number];
    const st = asIntTuple(opts.stride ?? 1, 2) as [number, number];
    const rawPad = opts.pad ?? 0;
    checkConvEarly(L, { filterSize: fs, stride: st, pad: rawPad === 'same' ? ['same', 'same'] : [0, 0] });
    const pad: [number, number] | 'full' | 'same' =
      rawPad === 'valid' ? [0, 0] : rawPad === 'full' || rawPad === 'same' ? rawPad : (asIntTuple(rawPad, 2) as [number, number]);
    const numGroups = asInt(opts.numGroups ?? 1, 'num_groups', L);
    const channels = dimshuffle ? input[1] : input[0];
    if (numGroups <= 0 || nf % numGroups !== 0 || (channels !== null && channels % numGroups !== 0)) {
      throw new ValueError(
        `num_groups (here: ${numGroups}) must be positive and evenly divide the number of input and output channels (here: ${channels ?? 'None'} and ${nf})`,
      );
    }
    if (numGroups > 1) throw new RuntimeError(`${L} does not support num_groups > 1 (cuda-convnet's FilterActs here has no groups), but num_groups=${numGroups}`);
    const untieBiases = asBool(opts.untieBiases ?? false, 'untieBiases', L);
    const flipFilters = asBool(opts.flipFilters ?? false, 'flipFilters', L);
    const partialSum = opts.partialSum === null ? null : asInt(opts.partialSum ?? 1, 'partial_sum', L);

    this.numFilters = nf;
    this.filterSize = fs;
    this.stride = st;
    this.pad = pad;
    this.untieBiases = untieBiases;
    this.flipFilters = flipFilters;
    this.dimshuffle = dimshuffle;
    this.partialSum = partialSum;
    this.numGroups = numGroups;
    this.nonlinearity = nonlinearity;

    const wShape = Conv2DCCLayer.#weightShape(dimshuffle, nf, channels, fs);
    const wSpec: ParamSpec = opts.W === undefined ? new GlorotUniform(dimshuffle ? {} : { c01b: true }) : opts.W;
    checkParamSpec(wSpec, wShape, this.paramName('W'));
    const bSpec = opts.b === undefined ? new Constant({ val: 0 }) : opts.b;
    const bShape = bSpec !== null && untieBiases ? this.#untiedBiasShape(this.outputShape) : [nf];
    if (bSpec !== null) checkParamSpec(bSpec, bShape, this.paramName('b'));

    checkConv(L, {
      numFilters: nf, channels, filterSize: fs, stride: st, inputShape: input,
      pad: pad === 'full' || pad === 'same' ? [pad, pad] : pad,
    });
    // The output shape must exist (non-empty) for the input this layer is built on.
    void this.outputShape;

    this.W = this.addParam(wSpec, wShape as number[], 'W');
    this.b = bSpec === null ? null : this.addParam(bSpec, bShape as number[], 'b', { regularizable: false });
  }

  private paramName(name: string): string {
    return this.name !== null ? `${this.name}.${name}` : name;
  }

  /** W's shape: (F, C, k, k) for dimshuffle true, (C, k, k, F) for false. */
  static #weightShape(dimshuffle: boolean, F: number, C: number | null, fs: readonly [number, number]): (number | null)[] {
    return dimshuffle ? [F, C, fs[0], fs[1]] : [C, fs[0], fs[1], F];
  }

  /** The untied b's shape for an output shape: (F, rows, cols) of the output's spatial axes. */
  #untiedBiasShape(outputShape: Shape): (number | null)[] {
    const r = kernelRotation(this.dimshuffle);
    return [this.numFilters, outputShape[(1 + r) % 4], outputShape[(2 + r) % 4]];
  }

  override readsBatchLast(): boolean {
    return !this.dimshuffle;
  }

  /**
   * One filter_acts step in c01b (with transposes around it for dimshuffle true, elided between
   * neighbours); raises FilterActs' run-time errors and, with training, checks partialSum.
   */
  override lower(ctx: LowerContext): void {
    const name = ctx.label;
    const r = kernelRotation(this.dimshuffle);
    const input = ctx.input(r);
    const [c, rows, cols, batch] = input.shape;
    const output = ctx.output(r);
    const [, outRows, outCols] = output.shape;
    const k = this.filterSize[0];
    const s = this.stride[0];
    checkConvRun(name, k, s);
    checkParamShape(name, 'W', this.W, Conv2DCCLayer.#weightShape(this.dimshuffle, this.numFilters, c, this.filterSize) as number[]);
    if (this.b !== null && this.untieBiases) checkParamShape(name, 'b', this.b, this.#untiedBiasShape(ctx.outputShape) as number[]);
    if (this.nonlinearity.kind === 'softmax') throw new ValueError(`plan: ${name} uses softmax, which needs a 2-D input; Conv2DCCLayer outputs are 4-D`);
    ctx.emit({
      op: 'filter_acts', input: input.id, output: output.id,
      weight: ctx.param(this.W), weightLayout: this.dimshuffle ? 'fckk' : 'ckkf', flipFilters: this.flipFilters,
      bias: ctx.param(this.b), biasMode: biasMode(this.b, this.untieBiases),
      nonlinearity: { kind: this.nonlinearity.kind, params: [...this.nonlinearity.params] },
      channels: c, rows, cols, batch, filters: this.numFilters, filterSize: k, stride: s, pad: this.resolvedPad, outRows, outCols,
    });
    if (ctx.training) {
      const [rowsCC, colsCC] = this.moduleGrid(rows, cols);
      ctx.weightGradient({ rowsCC, colsCC, ...partialSum(name, rowsCC, colsCC, this.partialSum ?? 0, c, k, this.numFilters) });
    }
  }

  /** The number of input channels (`inputShape[1]` for bc01, `inputShape[0]` for c01b). */
  get numInputChannels(): number | null {
    const s = this.inputShape as Shape;
    return this.dimshuffle ? s[1] : s[0];
  }

  /** The integer pad cuda-convnet applies on every side: p, `k // 2` for 'same', `k - 1` for 'full'. */
  get resolvedPad(): number {
    return resolvePad(this.filterSize[0], this.pad === 'full' || this.pad === 'same' ? this.pad : this.pad[0]);
  }

  override getOutputShapeFor(inputShape: Shape): Shape {
    const padAt = (axis: 0 | 1): PadSpec => (typeof this.pad === 'string' ? this.pad : this.pad[axis]);
    const len = (i: number | null, axis: 0 | 1) => convOutputLength(i, this.filterSize[axis], this.stride[axis], padAt(axis), 'Conv2DCCLayer');
    if (this.dimshuffle) {
      // bc01 -> (B, F, rows', cols')
      return [inputShape[0], this.numFilters, len(inputShape[2], 0), len(inputShape[3], 1)];
    }
    // c01b -> (F, rows', cols', B)
    return [this.numFilters, len(inputShape[1], 0), len(inputShape[2], 1), inputShape[3]];
  }

  /**
   * cuda-convnet's untruncated output grid [rows_cc, cols_cc] for an input of `rows` x `cols`:
   * `ceil((I + 2p - k) / s) + 1` per axis, >= the Lasagne output size (the op's extra bottom and
   * right modules read zeros; Lasagne slices them off).
   */
  moduleGrid(rows: number, cols: number): [number, number] {
    const p = this.resolvedPad;
    return [
      convGridLength(rows, this.filterSize[0], this.stride[0], p) as number,
      convGridLength(cols, this.filterSize[1], this.stride[1], p) as number,
    ];
  }

  override config(): Record<string, unknown> {
    return {
      numFilters: this.numFilters, filterSize: this.filterSize, stride: this.stride, pad: this.pad,
      untieBiases: this.untieBiases, dimshuffle: this.dimshuffle, flipFilters: this.flipFilters,
      partialSum: this.partialSum, nonlinearity: { kind: this.nonlinearity.kind, params: this.nonlinearity.params },
      b: this.b !== null,
    };
  }
}

export interface MaxPool2DCCLayerOptions {
  /** Stride (int or [rows, cols], equal); null (default) means `poolSize`. Must be <= poolSize. */
  stride?: number | [number, number] | null;
  /** Only false is supported (cuda-convnet keeps partial windows at the border). */
  ignoreBorder?: boolean;
  /** true (default): bc01 in and out; false: c01b. */
  dimshuffle?: boolean;
  /** Only 0 is supported (Lasagne accepts `pad` through **kwargs to refuse it clearly). */
  pad?: number | [number, number];
  name?: string | null;
}

const POOL_OPTIONS = ['stride', 'ignoreBorder', 'dimshuffle', 'pad', 'name'] as const;

/**
 * Max-pooling with cuda-convnet's MaxPool semantics (lasagne.layers.cuda_convnet.MaxPool2DCCLayer):
 * window `o` covers `[o*s, o*s + P)` clipped to the image; positions outside are excluded (partial
 * windows at the bottom/right border are kept). Output length `max(0, floor((I - P + s - 1) / s)) + 1`.
 *
 * Special values follow cuda-convnet's kernel, on every backend: its running maximum starts at
 * -2e38 and takes `fmaxf` of each element, so `out = max(-2e38, max of the window's non-NaN
 * values)` with -0 < +0. A NaN never wins (`{NaN, 1, 4, 5}` gives 5); a window of only NaN, -Infinity
 * or values below -2e38 gives float32(-2e38).
 *
 * ```ts
 * const pool = new MaxPool2DCCLayer(conv, 3, { stride: 2 });   // overlapping 3x3 pooling
 * ```
 *
 * Constraints (NotImplementedError, as Lasagne): square regions, equal strides, stride <= poolSize,
 * no padding, no ignoreBorder. Non-square images are supported here (a lifted limit of the CUDA op).
 */
export class MaxPool2DCCLayer extends Layer {
  /** An int, as in Lasagne. */
  readonly poolSize: number;
  /** An int, as in Lasagne. */
  readonly stride: number;
  readonly ignoreBorder = false;
  readonly dimshuffle: boolean;

  constructor(incoming: Layer | Shape, poolSize: number | [number, number], options?: MaxPool2DCCLayerOptions) {
    const L = 'MaxPool2DCCLayer';
    const opts = checkOptions<MaxPool2DCCLayerOptions>(options, POOL_OPTIONS, L);
    const pad = asIntTuple(opts.pad ?? 0, 2) as [number, number];
    if (pad[0] !== 0 || pad[1] !== 0) checkPool(L, pad, [1, 1], [1, 1], false);
    super(incoming, opts.name ?? null);
    const ps = asIntTuple(poolSize, 2) as [number, number];
    const st = opts.stride === null || opts.stride === undefined ? ps : (asIntTuple(opts.stride, 2) as [number, number]);
    const ignoreBorder = asBool(opts.ignoreBorder ?? false, 'ignoreBorder', L);
    checkPool(L, pad, ps, st, ignoreBorder);
    const dimshuffle = asBool(opts.dimshuffle ?? true, 'dimshuffle', L);
    requireRank(this.inputShape as Shape, 4, L, dimshuffle ? 'bc01' : 'c01b');
    this.poolSize = ps[0];
    this.stride = st[0];
    this.dimshuffle = dimshuffle;
    void this.outputShape;
  }

  override readsBatchLast(): boolean {
    return !this.dimshuffle;
  }

  /** One max_pool step in c01b; raises MaxPool's run-time error (a region larger than the image). */
  override lower(ctx: LowerContext): void {
    const name = ctx.label;
    const r = kernelRotation(this.dimshuffle);
    const input = ctx.input(r);
    const [c, rows, cols, batch] = input.shape;
    const output = ctx.output(r);
    const [, outRows, outCols] = output.shape;
    checkPoolRun(name, this.poolSize, rows, cols);
    ctx.emit({ op: 'max_pool', input: input.id, output: output.id, channels: c, rows, cols, batch, poolSize: this.poolSize, stride: this.stride, outRows, outCols });
  }

  override getOutputShapeFor(inputShape: Shape): Shape {
    const len = (i: number | null) => poolOutputLength(i, this.poolSize, this.stride, 0, false, 'MaxPool2DCCLayer');
    if (this.dimshuffle) return [inputShape[0], inputShape[1], len(inputShape[2]), len(inputShape[3])];
    return [inputShape[0], len(inputShape[1]), len(inputShape[2]), inputShape[3]];
  }

  override config(): Record<string, unknown> {
    return { poolSize: this.poolSize, stride: this.stride, dimshuffle: this.dimshuffle };
  }
}

export interface ShuffleOptions {
  name?: string | null;
}

/** bc01 -> c01b (`x.transpose(1, 2, 3, 0)`); alias `bc01_to_c01b`. */
export class ShuffleBC01ToC01BLayer extends Layer {
  constructor(incoming: Layer | Shape, options?: ShuffleOptions) {
    const opts = checkOptions<ShuffleOptions>(options, ['name'], 'ShuffleBC01ToC01BLayer');
    super(incoming, opts.name ?? null);
    requireRank(this.inputShape as Shape, 4, 'ShuffleBC01ToC01BLayer', 'bc01');
  }

  override getOutputShapeFor(s: Shape): Shape {
    return [s[1], s[2], s[3], s[0]];
  }

  /** No kernel of its own: its output is rotation 1 of its input (bc01 -> c01b). */
  override lower(ctx: LowerContext): void {
    ctx.rotationOfInput(1);
  }

  /** Axis a of the input is axis (a + 3) % 4 of the output: the batch, first in bc01, is last in c01b. */
  override outputBatchAxis(inputBatchAxis: number): number {
    return (inputBatchAxis + 3) % 4;
  }
}

/** c01b -> bc01 (`x.transpose(3, 0, 1, 2)`); alias `c01b_to_bc01`. */
export class ShuffleC01BToBC01Layer extends Layer {
  constructor(incoming: Layer | Shape, options?: ShuffleOptions) {
    const opts = checkOptions<ShuffleOptions>(options, ['name'], 'ShuffleC01BToBC01Layer');
    super(incoming, opts.name ?? null);
    requireRank(this.inputShape as Shape, 4, 'ShuffleC01BToBC01Layer', 'c01b');
  }

  override getOutputShapeFor(s: Shape): Shape {
    return [s[3], s[0], s[1], s[2]];
  }

  override readsBatchLast(): boolean {
    return true;
  }

  /** No kernel of its own: its output is rotation 3 of its input (c01b -> bc01). */
  override lower(ctx: LowerContext): void {
    ctx.rotationOfInput(3);
  }

  /** Axis a of the input is axis (a + 1) % 4 of the output: the batch, last in c01b, is first in bc01. */
  override outputBatchAxis(inputBatchAxis: number): number {
    return (inputBatchAxis + 1) % 4;
  }
}

/** The same class object as ShuffleBC01ToC01BLayer (Lasagne's alias). */
export const bc01_to_c01b = ShuffleBC01ToC01BLayer;
/** The same class object as ShuffleC01BToBC01Layer (Lasagne's alias). */
export const c01b_to_bc01 = ShuffleC01BToBC01Layer;

export interface NINLayerC01bOptions {
  /** One bias per unit (false, default) or per unit and position (true): `(U, rows, cols)`. */
  untieBiases?: boolean;
  /** Initial weights `(numUnits, C)` (the transpose of NINLayer's); default GlorotUniform. */
  W?: ParamSpec;
  /** Initial biases; default Constant 0; null means no bias. */
  b?: ParamSpec | null;
  /** Default rectify; null means identity. */
  nonlinearity?: Nonlinearity | null;
  name?: string | null;
}

const NIN_OPTIONS = ['untieBiases', 'W', 'b', 'nonlinearity', 'name'] as const;

/**
 * Network-in-network layer on c01b input (lasagne.layers.cuda_convnet.NINLayer_c01b): a 1x1
 * convolution, `out[u, r, c, b] = nonlinearity(sum_k W[u, k] * x[k, r, c, b] + bias)`.
 * W is `(numUnits, C)`; note that He initializers therefore use fan_in = numUnits (Lasagne's quirk).
 * `W` and `b` have at most 2^28 elements each (`MAX_ELEMENTS`; ValueError, checked before anything
 * is allocated: `new NINLayer_c01b(input, 2 ** 28)` allocates nothing).
 */
export class NINLayer_c01b extends Layer {
  readonly numUnits: number;
  readonly untieBiases: boolean;
  readonly nonlinearity: Nonlinearity;
  readonly W: Param;
  readonly b: Param | null;

  constructor(incoming: Layer | Shape, numUnits: number, options?: NINLayerC01bOptions) {
    const L = 'NINLayer_c01b';
    const opts = checkOptions<NINLayerC01bOptions>(options, NIN_OPTIONS, L);
    super(incoming, opts.name ?? null);
    const input = this.inputShape as Shape;
    const nonlinearity = checkNonlinearity(opts.nonlinearity === undefined ? rectify : opts.nonlinearity, L);
    if (input.length < 2) {
      throw new ValueError(`${L} requires an input of at least 2 dimensions (channels first, batch last), but input_shape=${formatShape(input)}`);
    }
    const units = asInt(numUnits, 'num_units', L);
    const untieBiases = asBool(opts.untieBiases ?? false, 'untieBiases', L);
    this.numUnits = units;
    this.untieBiases = untieBiases;
    this.nonlinearity = nonlinearity;
    const wSpec = opts.W === undefined ? new GlorotUniform() : opts.W;
    const wShape = [units, input[0]];
    checkParamSpec(wSpec, wShape, this.name !== null ? `${this.name}.W` : 'W');
    const bSpec = opts.b === undefined ? new Constant({ val: 0 }) : opts.b;
    const bShape = untieBiases ? this.#untiedBiasShape(this.outputShape) : [units];
    if (bSpec !== null) checkParamSpec(bSpec, bShape, this.name !== null ? `${this.name}.b` : 'b');
    this.W = this.addParam(wSpec, wShape as number[], 'W');
    this.b = bSpec === null ? null : this.addParam(bSpec, bShape as number[], 'b', { regularizable: false });
  }

  override getOutputShapeFor(s: Shape): Shape {
    return [this.numUnits, ...s.slice(1)];
  }

  /** The untied b's shape for an output shape: (U,) + output_shape[1:-1]. */
  #untiedBiasShape(outputShape: Shape): (number | null)[] {
    return [this.numUnits, ...outputShape.slice(1, -1)];
  }

  override readsBatchLast(): boolean {
    return true;
  }

  /** One nin step: (C, ...positions, B) -> (U, ...positions, B), a GEMM over the leading axis. */
  override lower(ctx: LowerContext): void {
    const name = ctx.label;
    const input = ctx.input(0);
    const inShape = input.shape;
    const outShape = ctx.outputShape;
    checkParamShape(name, 'W', this.W, [this.numUnits, inShape[0]]);
    if (this.b !== null && this.untieBiases) checkParamShape(name, 'b', this.b, this.#untiedBiasShape(outShape) as number[]);
    if (this.nonlinearity.kind === 'softmax') throw new ValueError(`plan: ${name} uses softmax, which needs a 2-D input; NINLayer_c01b outputs are ${outShape.length}-D`);
    const output = ctx.output(0);
    const batch = inShape[inShape.length - 1];
    ctx.emit({
      op: 'nin', input: input.id, output: output.id,
      weight: ctx.param(this.W), bias: ctx.param(this.b), biasMode: biasMode(this.b, this.untieBiases),
      nonlinearity: { kind: this.nonlinearity.kind, params: [...this.nonlinearity.params] },
      channels: inShape[0], units: this.numUnits, positions: shapeSize(inShape) / inShape[0] / batch, batch,
    });
  }

  override config(): Record<string, unknown> {
    return {
      numUnits: this.numUnits, untieBiases: this.untieBiases, b: this.b !== null,
      nonlinearity: { kind: this.nonlinearity.kind, params: this.nonlinearity.params },
    };
  }
}


// Model files (layers.toJSON): each class with the attributes that rebuild it.
registerLayer('Conv2DCCLayer', Conv2DCCLayer, { args: ['numFilters', 'filterSize'], options: CONV_OPTIONS });
registerLayer('MaxPool2DCCLayer', MaxPool2DCCLayer, { args: ['poolSize'], options: ['stride', 'ignoreBorder', 'dimshuffle', 'name'] });
registerLayer('ShuffleBC01ToC01BLayer', ShuffleBC01ToC01BLayer, { options: ['name'] });
registerLayer('ShuffleC01BToBC01Layer', ShuffleC01BToBC01Layer, { options: ['name'] });
registerLayer('NINLayer_c01b', NINLayer_c01b, { args: ['numUnits'], options: NIN_OPTIONS });
