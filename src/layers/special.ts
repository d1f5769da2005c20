/**
 * lasagne.layers.special: NonlinearityLayer.
 */
import { ValueError } from '../errors.js';
import { formatShape, shapeSize, type Shape } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { rectify, type Nonlinearity } from '../nonlinearities.js';
import { Layer } from './base.js';
import type { LowerContext } from './lower.js';
import { batchOf, checkNonlinearity, existingRotation } from './util.js';
import { registerLayer } from './registry.js';

export interface NonlinearityLayerOptions {
  /** Default `nonlinearities.rectify`; null means identity; softmax needs a 2-D input. */
  nonlinearity?: Nonlinearity | null;
  name?: string | null;
}

const NONLINEARITY_OPTIONS = ['nonlinearity', 'name'] as const;

/**
 * Applies a nonlinearity to its input (lasagne.layers.NonlinearityLayer): elementwise for every
 * nonlinearity but softmax, which normalises each row of a 2-D input `(batch, classes)` as
 * Lasagne's (`T.nnet.softmax`). The output shape is the input shape.
 *
 * ```ts
 * const probs = new NonlinearityLayer(logits, { nonlinearity: nonlinearities.softmax });
 * ```
 *
 * Lowered to an `activation` step in a rotation of the input that exists already (no transpose),
 * a `softmax` step on the batch-last form `(classes, batch)`, or nothing for identity (the output
 * is the input). Softmax on an input that is not 2-D is a ValueError at construction (Lasagne's
 * fails when the graph is evaluated).
 */
export class NonlinearityLayer extends Layer {
  readonly nonlinearity: Nonlinearity;

  constructor(incoming: Layer | Shape, options?: NonlinearityLayerOptions) {
    const L = 'NonlinearityLayer';
    const opts = checkOptions<NonlinearityLayerOptions>(options, NONLINEARITY_OPTIONS, L);
    super(incoming, opts.name ?? null);
    const nonlinearity = checkNonlinearity(opts.nonlinearity === undefined ? rectify : opts.nonlinearity, L);
    const input = this.inputShape as Shape;
    if (nonlinearity.kind === 'softmax' && input.length !== 2) {
      throw new ValueError(
        `${L} with softmax requires a 2-D input (batch, classes), but input_shape=${formatShape(input)}; add a FlattenLayer first`,
      );
    }
    this.nonlinearity = nonlinearity;
  }

  override lower(ctx: LowerContext): void {
    const { kind, params } = this.nonlinearity;
    const shape = ctx.outputShape;
    if (kind === 'linear') {
      ctx.aliasInput();
    } else if (kind === 'softmax') {
      const input = ctx.input(1);
      const output = ctx.output(1);
      ctx.emit({ op: 'softmax', input: input.id, output: output.id, units: shape[1], batch: shape[0] });
    } else {
      const r = existingRotation(ctx);
      const input = ctx.input(r);
      const output = ctx.output(r);
      ctx.emit({ op: 'activation', input: input.id, output: output.id, nonlinearity: { kind, params: [...params] }, count: shapeSize(shape), batch: batchOf(ctx) });
    }
  }

  override config(): Record<string, unknown> {
    return { nonlinearity: { kind: this.nonlinearity.kind, params: this.nonlinearity.params } };
  }
}

registerLayer('NonlinearityLayer', NonlinearityLayer, { options: NONLINEARITY_OPTIONS });
