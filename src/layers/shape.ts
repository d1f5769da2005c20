/**
 * lasagne.layers.shape: FlattenLayer (alias `flatten`) and ReshapeLayer (alias `reshape`). Both
 * reinterpret C-order data, so each is one `copy` step.
 */
import { ValueError } from '../errors.js';
import { formatShape, shapeSize, type Shape } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { Layer } from './base.js';
import type { LowerContext } from './lower.js';
import { asInt, batchOf, pyRepr } from './util.js';
import { registerLayer } from './registry.js';

/**
 * A reshape of C-order data as one copy. When the output keeps the input's first axis (the
 * batch: same length), every example's values keep their order, so the batch-last forms (rotation
 * 1: the batch moved last) are reshapes of each other too and the copy uses them when the input
 * has one (no transpose). Otherwise it copies the declared (rotation 0) forms.
 */
function lowerReshape(ctx: LowerContext): void {
  const inShape = ctx.inputShape as number[];
  const outShape = ctx.outputShape;
  const keepsBatch = inShape[0] === outShape[0];
  const r = keepsBatch && ctx.inputRotations().includes(1) ? 1 : 0;
  const input = ctx.input(r);
  const output = ctx.output(r);
  ctx.emit({ op: 'copy', input: input.id, output: output.id, count: shapeSize(outShape), batch: batchOf(ctx) });
}

export interface FlattenLayerOptions {
  /** The number of dimensions of the output (default 2: the batch axis and everything else flattened). */
  outdim?: number;
  name?: string | null;
}

/**
 * Flattens the trailing axes (lasagne.layers.FlattenLayer): the output keeps the first
 * `outdim - 1` axes and flattens the rest (C order) into one, so the default `outdim: 2` turns
 * `(N, C, H, W)` into `(N, C*H*W)`. An unknown (null) flattened axis gives null.
 *
 * ```ts
 * const flat = new FlattenLayer(pool);   // (N, 32, 8, 8) -> (N, 2048)
 * ```
 *
 * Errors: `outdim < 1` is Lasagne's ValueError `Dim must be >0, was 0`; `outdim` larger than the
 * input's number of dimensions is a ValueError here (Theano's flatten refuses it when run).
 */
export class FlattenLayer extends Layer {
  readonly outdim: number;

  constructor(incoming: Layer | Shape, options?: FlattenLayerOptions) {
    const L = 'FlattenLayer';
    const opts = checkOptions<FlattenLayerOptions>(options, ['outdim', 'name'], L);
    super(incoming, opts.name ?? null);
    const outdim = asInt(opts.outdim ?? 2, 'outdim', L);
    if (outdim < 1) throw new ValueError(`Dim must be >0, was ${outdim}`);
    const n = (this.inputShape as Shape).length;
    if (outdim > n) {
      throw new ValueError(`${L} requires outdim <= the input's number of dimensions (${n}), but outdim=${outdim} for input_shape=${formatShape(this.inputShape as Shape)}`);
    }
    this.outdim = outdim;
  }

  /** `inputShape[:outdim - 1] + (product of the rest,)`; null when one of the rest is null. */
  override getOutputShapeFor(inputShape: Shape): Shape {
    const rest = inputShape.slice(this.outdim - 1);
    const flattened = rest.some((d) => d === null) ? null : shapeSize(rest as number[]);
    return [...inputShape.slice(0, this.outdim - 1), flattened];
  }

  /** The batch axis stays where it is when it is not flattened; otherwise the first axis leads (as Lasagne's rows). */
  override outputBatchAxis(inputBatchAxis: number): number {
    return inputBatchAxis >= 0 && inputBatchAxis < this.outdim - 1 ? inputBatchAxis : 0;
  }

  /** One `copy` step (see lowerReshape). */
  override lower(ctx: LowerContext): void {
    lowerReshape(ctx);
  }

  override config(): Record<string, unknown> {
    return { outdim: this.outdim };
  }
}

/** The same class object as FlattenLayer (Lasagne's alias). */
export const flatten = FlattenLayer;

/** One entry of a ReshapeLayer shape: a size, -1 (inferred), or `[i]` (the input's dimension i). */
export type ReshapeSpecEntry = number | [number];

/** Python's repr of a reshape specification: `([0], -1)`. */
function specRepr(spec: readonly unknown[]): string {
  const item = (s: unknown) => (Array.isArray(s) ? `[${s.map(pyRepr).join(', ')}]` : pyRepr(s));
  return spec.length === 1 ? `(${item(spec[0])},)` : `(${spec.map(item).join(', ')})`;
}

/**
 * Reshapes its input (lasagne.layers.ReshapeLayer) to `shape`, whose entries are positive sizes,
 * at most one -1 (inferred from the total size) and `[i]` (the size of the input's dimension i, so
 * `[[0], -1]` keeps the batch and flattens the rest). C order, as numpy's reshape.
 *
 * ```ts
 * const r = new ReshapeLayer(l_in, [[0], 1, 28, 28]);   // (N, 784) -> (N, 1, 28, 28)
 * ```
 *
 * Errors as Lasagne's (ValueError): "`shape` integers must be positive or -1", "`shape` input
 * references must be single-element lists of int >= 0", "`shape` must be a tuple of int and/or
 * [int]", "`shape` cannot contain multiple -1", "specification contains [i], but input shape has n
 * dimensions only", "... cannot be reshaped to specification .... The total size mismatches."
 */
export class ReshapeLayer extends Layer {
  readonly shape: readonly ReshapeSpecEntry[];

  constructor(incoming: Layer | Shape, shape: readonly ReshapeSpecEntry[], options?: { name?: string | null }) {
    const L = 'ReshapeLayer';
    const opts = checkOptions<{ name?: string | null }>(options, ['name'], L);
    super(incoming, opts.name ?? null);
    if (!Array.isArray(shape)) throw new TypeError(`${L} argument 'shape' must be an array of ints and [int], but got ${pyRepr(shape)}`);
    const spec: ReshapeSpecEntry[] = [];
    for (const s of shape as unknown[]) {
      if (typeof s === 'number' && Number.isInteger(s)) {
        if (s === 0 || s < -1) throw new ValueError('`shape` integers must be positive or -1');
        spec.push(s);
      } else if (Array.isArray(s)) {
        if (s.length !== 1 || typeof s[0] !== 'number' || !Number.isInteger(s[0]) || s[0] < 0) {
          throw new ValueError('`shape` input references must be single-element lists of int >= 0');
        }
        spec.push([s[0]]);
      } else {
        throw new ValueError('`shape` must be a tuple of int and/or [int]');
      }
    }
    if (spec.filter((s) => s === -1).length > 1) throw new ValueError('`shape` cannot contain multiple -1');
    this.shape = Object.freeze(spec.map((s) => (Array.isArray(s) ? (Object.freeze([s[0]]) as unknown as [number]) : s)));
    // a sanity check of the output shape, as Lasagne's constructor does
    void this.outputShape;
  }

  /** Lasagne's get_output_shape_for: `[i]` copied, -1 inferred (null when a size is unknown). */
  override getOutputShapeFor(inputShape: Shape): Shape {
    const out: (number | null)[] = [];
    const maskedIn: (number | null)[] = [...inputShape];
    const maskedOut: (number | null)[] = [];
    for (const o of this.shape) {
      if (Array.isArray(o)) {
        const i = o[0];
        if (i >= inputShape.length) throw new ValueError(`specification contains [${i}], but input shape has ${inputShape.length} dimensions only`);
        out.push(inputShape[i]);
        maskedOut.push(inputShape[i]);
        // a first copy of an unknown input size is a 1:1 correspondence: irrelevant for -1
        if (inputShape[i] === null && maskedIn[i] === null) {
          maskedIn[i] = 1;
          maskedOut[maskedOut.length - 1] = 1;
        }
      } else {
        out.push(o as number);
        maskedOut.push(o as number);
      }
    }
    const inputSize = maskedIn.some((d) => d === null) ? null : shapeSize(maskedIn as number[]);
    let outputSize = maskedOut.some((d) => d === null) ? null : shapeSize(maskedOut as number[]);
    const inferred = out.indexOf(-1);
    if (inferred >= 0) {
      if (inputSize === null || outputSize === null) {
        out[inferred] = null;
        outputSize = null;
      } else {
        const known = -outputSize;
        out[inferred] = Math.floor(inputSize / known);
        outputSize = known * (out[inferred] as number);
      }
    }
    if (inputSize !== null && outputSize !== null && inputSize !== outputSize) {
      throw new ValueError(`${formatShape(inputShape)} cannot be reshaped to specification ${specRepr(this.shape)}. The total size mismatches.`);
    }
    return out;
  }

  /** The first axis leads (the batch when `shape[0]` is `[0]`). */
  override outputBatchAxis(): number {
    return 0;
  }

  /** One `copy` step (see lowerReshape). */
  override lower(ctx: LowerContext): void {
    lowerReshape(ctx);
  }

  override config(): Record<string, unknown> {
    return { shape: this.shape };
  }
}

/** The same class object as ReshapeLayer (Lasagne's alias). */
export const reshape = ReshapeLayer;

registerLayer('FlattenLayer', FlattenLayer, { options: ['outdim', 'name'] });
registerLayer('ReshapeLayer', ReshapeLayer, { args: ['shape'], options: ['name'] });
