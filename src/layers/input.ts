import { ValueError } from '../errors.js';
import { formatShape, type Shape } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { Layer, checkShapeArgument } from './base.js';
import type { LowerContext } from './lower.js';
import { pyRepr } from './util.js';

export interface InputLayerOptions {
  /** The layer's name. */
  name?: string | null;
}

/**
 * The network's input (lasagne.layers.InputLayer). `shape` is an array of positive integers and
 * nulls (Lasagne's None: unknown until run time, usually the batch size).
 *
 * ```ts
 * const l_in = new InputLayer([null, 3, 32, 32]);
 * ```
 */
export class InputLayer extends Layer {
  /** The declared shape (also the output shape). */
  readonly shape: Shape;

  constructor(shape: Shape, options?: InputLayerOptions) {
    const opts = checkOptions<InputLayerOptions>(options, ['name'], 'InputLayer');
    const dims = checkShapeArgument(shape, 'InputLayer shape');
    const name = opts.name ?? null;
    if (dims.some((d) => d !== null && d <= 0)) {
      throw new ValueError(`Cannot create InputLayer with a non-positive shape dimension. shape=${formatShape(dims)}, self.name=${pyRepr(name)}`);
    }
    // Layer's constructor validates the name; InputLayer has no incoming layer.
    super(dims, name);
    (this as { inputShape: Shape | null }).inputShape = null;
    this.shape = dims;
  }

  override get outputShape(): Shape {
    return [...this.shape];
  }

  /** The input's tensor: the run writes it, no step computes it. */
  override lower(ctx: LowerContext): void {
    ctx.output(0);
  }

  override config(): Record<string, unknown> {
    return { shape: this.shape };
  }
}
