/**
 * lasagne.layers.noise: DropoutLayer (alias `dropout`).
 */
import { NotImplementedError, ValueError } from '../errors.js';
import { shapeSize, type Shape } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { Layer } from './base.js';
import type { LowerContext, Rotation } from './lower.js';
import { asBool, batchOf, pyRepr } from './util.js';
import { registerLayer } from './registry.js';

export interface DropoutLayerOptions {
  /** The probability of setting a value to zero, `0 <= p < 1` (default 0.5; p = 1 is allowed with `rescale: false`). */
  p?: number;
  /** Scale the kept values by `1 / (1 - p)` during training (default true: inverted dropout, Lasagne's default). */
  rescale?: boolean;
  /** Axes along which the mask is shared (Lasagne's shared_axes); only `[]` (default) is supported. */
  sharedAxes?: number[];
  name?: string | null;
}

const DROPOUT_OPTIONS = ['p', 'rescale', 'sharedAxes', 'name'] as const;

/** 2^24: a dropout step keeps element i when a 24-bit hash of i is at least round(p 2^24). */
const MASK_LEVELS = 2 ** 24;

/**
 * Dropout (lasagne.layers.DropoutLayer): during training each value is set to zero with
 * probability `p` and the others are scaled by `1 / (1 - p)` (`rescale: true`, inverted dropout),
 * so that nothing changes at inference. With `deterministic` (every `compile`/`network.run`, the
 * default) or `p == 0` the layer is the identity and costs nothing: its output is its input's tensor.
 *
 * ```ts
 * const drop = new DropoutLayer(fc, { p: 0.5 });
 * ```
 *
 * The training mask is a counter-based hash (src/ops/training.ts DropoutStep): element i of the
 * layer's batch-last form (the batch axis moved last: (C, H, W, N) for bc01) is kept iff `hash(i, seed, run counter) >>> 8 >= round(p * 2^24)`, so the kept
 * fraction is p rounded to a multiple of 2^-24, the mask is the same on both backends, and the
 * backward pass recomputes it. The seed is the layer's position in the network.
 *
 * Stricter than Lasagne (which accepts any p and divides by zero at p = 1): `p` must be a number
 * in [0, 1), or exactly 1 with `rescale: false` (ValueError). `sharedAxes` other than `[]` raises
 * NotImplementedError.
 */
export class DropoutLayer extends Layer {
  readonly p: number;
  readonly rescale: boolean;
  readonly sharedAxes: readonly number[];

  constructor(incoming: Layer | Shape, options?: DropoutLayerOptions) {
    const L = 'DropoutLayer';
    const opts = checkOptions<DropoutLayerOptions>(options, DROPOUT_OPTIONS, L);
    super(incoming, opts.name ?? null);
    const p = opts.p ?? 0.5;
    const rescale = asBool(opts.rescale ?? true, 'rescale', L);
    if (typeof p !== 'number' || !Number.isFinite(p)) throw new TypeError(`${L} option 'p' must be a number, but got ${pyRepr(p)}`);
    if (p < 0 || p > 1 || (p === 1 && rescale)) {
      throw new ValueError(
        `${L} requires 0 <= p < 1 (the probability of dropping a value; p = 1 only with rescale=false), but p=${p}` +
          (p === 1 ? '; with rescale=true the kept values would be scaled by 1 / (1 - p) = inf' : ''),
      );
    }
    const shared = opts.sharedAxes ?? [];
    if (!Array.isArray(shared) || !shared.every((a) => Number.isInteger(a))) {
      throw new TypeError(`${L} option 'sharedAxes' must be an array of axis indices, but got ${pyRepr(shared)}`);
    }
    if (shared.length > 0) {
      throw new NotImplementedError(`${L} only supports sharedAxes=[] (an independent mask per value), but sharedAxes=[${shared.join(', ')}]`);
    }
    this.p = p;
    this.rescale = rescale;
    this.sharedAxes = Object.freeze([...shared]);
  }

  /** The integer threshold of the mask: an element is dropped when its 24-bit hash is below it. */
  get threshold(): number {
    return Math.round(this.p * MASK_LEVELS);
  }

  /**
   * Deterministic or p = 0: no step, the output is the input. Training: one `dropout` step on the
   * batch-last form of the input (rotation 1 of bc01 or (N, U): (C, H, W, N), (U, N); c01b as it
   * is), writing that form of the output. Always that form, so that the mask of an element does not depend on the layers around
   * it (the element i of the mask is the i-th value of the batch-last tensor).
   */
  override lower(ctx: LowerContext): void {
    if (ctx.deterministic || this.p === 0) {
      ctx.aliasInput();
      return;
    }
    // the batch-last form: rotation 1 of a batch-first layer (bc01, (N, U)), rotation 0 of c01b
    const n = ctx.outputShape.length;
    const r = ctx.batchAxis >= 0 ? (((ctx.batchAxis + 1) % n) as Rotation) : 1;
    const input = ctx.input(r);
    const output = ctx.output(r);
    const shape = ctx.outputShape;
    ctx.emit({
      op: 'dropout', input: input.id, output: output.id, count: shapeSize(shape), batch: batchOf(ctx),
      p: this.p, threshold: this.threshold, scale: this.rescale ? 1 / (1 - this.p) : 1, seed: ctx.index,
    });
  }

  override config(): Record<string, unknown> {
    return { p: this.p, rescale: this.rescale, sharedAxes: this.sharedAxes };
  }
}

/** The same class object as DropoutLayer (Lasagne's alias). */
export const dropout = DropoutLayer;

registerLayer('DropoutLayer', DropoutLayer, { options: DROPOUT_OPTIONS });
