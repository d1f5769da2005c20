/**
 * lasagne.layers.pool: GlobalPoolLayer.
 */
import { NotImplementedError, ValueError } from '../errors.js';
import { formatShape, shapeSize, type Shape } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { Layer } from './base.js';
import type { LowerContext } from './lower.js';
import { pyRepr } from './util.js';
import { registerLayer } from './registry.js';

export interface GlobalPoolLayerOptions {
  /** The pooling function over all positions: only `'mean'` (default; Lasagne's `T.mean`). */
  poolFunction?: 'mean';
  name?: string | null;
}

/**
 * Global pooling (lasagne.layers.GlobalPoolLayer): the mean over every position of each channel,
 * `(N, C, ...) -> (N, C)`, `y[n, c] = mean over p of x[n, c, p]` (trailing axes flattened).
 *
 * ```ts
 * const gap = new GlobalPoolLayer(conv);   // (N, 64, 8, 8) -> (N, 64)
 * ```
 *
 * Lowered to a `global_pool` step on the batch-last forms: input rotation 1 `(C, H, W, N)` viewed
 * as `(C, H*W, N)`, output `(C, N)`. Only `poolFunction: 'mean'` is supported (NotImplementedError
 * otherwise); the input needs at least 3 dimensions (ValueError; Lasagne's fails when evaluated).
 */
export class GlobalPoolLayer extends Layer {
  readonly poolFunction: 'mean';

  constructor(incoming: Layer | Shape, options?: GlobalPoolLayerOptions) {
    const L = 'GlobalPoolLayer';
    const opts = checkOptions<GlobalPoolLayerOptions>(options, ['poolFunction', 'name'], L);
    super(incoming, opts.name ?? null);
    const fn = opts.poolFunction ?? 'mean';
    if (typeof fn !== 'string') throw new TypeError(`${L} option 'poolFunction' must be the name of a pooling function ('mean'), but got ${pyRepr(fn)}`);
    if (fn !== 'mean') throw new NotImplementedError(`${L} only supports poolFunction='mean', but poolFunction=${pyRepr(fn)}`);
    const input = this.inputShape as Shape;
    if (input.length < 3) {
      throw new ValueError(`${L} requires an input of at least 3 dimensions (batch, channels, positions...), but input_shape=${formatShape(input)}`);
    }
    this.poolFunction = fn;
  }

  /** `inputShape[:2]`. */
  override getOutputShapeFor(inputShape: Shape): Shape {
    return inputShape.slice(0, 2);
  }

  override outputBatchAxis(inputBatchAxis: number): number {
    return inputBatchAxis >= 0 && inputBatchAxis < 2 ? inputBatchAxis : 0;
  }

  override lower(ctx: LowerContext): void {
    const input = ctx.input(1);
    const output = ctx.output(1);
    const [channels] = input.shape;
    const batch = input.shape[input.shape.length - 1];
    ctx.emit({ op: 'global_pool', input: input.id, output: output.id, channels, positions: shapeSize(input.shape) / channels / batch, batch });
  }

  override config(): Record<string, unknown> {
    return { poolFunction: this.poolFunction };
  }
}

registerLayer('GlobalPoolLayer', GlobalPoolLayer, { options: ['poolFunction', 'name'] });
