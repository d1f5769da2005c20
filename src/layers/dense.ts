/**
 * lasagne.layers.dense: DenseLayer, the fully connected layer of a classifier's head.
 */
import { NotImplementedError, ValueError } from '../errors.js';
import { formatShape, shapeSize, type Shape } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { Constant, GlorotUniform } from '../init.js';
import { rectify, type Nonlinearity } from '../nonlinearities.js';
import { Layer, Param, checkParamShape, checkParamSpec, type ParamSpec } from './base.js';
import type { LowerContext } from './lower.js';
import { asInt, checkNonlinearity } from './util.js';
import { registerLayer } from './registry.js';

export interface DenseLayerOptions {
  /** Initial weights `(numInputs, numUnits)`; default `new init.GlorotUniform()`. */
  W?: ParamSpec;
  /** Initial biases `(numUnits,)`; default `new init.Constant({ val: 0 })`; null means no bias. */
  b?: ParamSpec | null;
  /** Default `nonlinearities.rectify`; null means identity; `nonlinearities.softmax` normalises each row. */
  nonlinearity?: Nonlinearity | null;
  /** The number of leading axes kept (Lasagne's num_leading_axes); only 1 (default) is supported. */
  numLeadingAxes?: number;
  /** The layer's name (parameters are then named `<name>.W`, `<name>.b`). */
  name?: string | null;
}

const DENSE_OPTIONS = ['W', 'b', 'nonlinearity', 'numLeadingAxes', 'name'] as const;

/**
 * A fully connected layer (lasagne.layers.DenseLayer): the trailing axes of each example are
 * flattened (C order) into `numInputs` features, then
 *
 *   y[n, u] = nonlinearity(sum_k x[n, k] * W[k, u] + b[u])
 *
 * with `W` of shape `(numInputs, numUnits)` (Lasagne's layout) and `b` of shape `(numUnits,)`.
 * Output shape `(batch, numUnits)`. With `nonlinearity: softmax` each row is normalised.
 *
 * ```ts
 * const fc = new DenseLayer(pool, 256);                                       // W (C*H*W, 256)
 * const out = new DenseLayer(fc, 10, { nonlinearity: nonlinearities.softmax });
 * ```
 *
 * Computed as a `nin` step in batch-last form: the input's rotation 1 `(C, H, W, N)` viewed as
 * `(numInputs, N)`, output `(numUnits, N)`; with softmax, the linear step writes the logits to an
 * intermediate tensor and a `softmax` step writes the output.
 *
 * `numLeadingAxes` other than 1 (or -1 on a 2-D input, the same) raises NotImplementedError, after
 * Lasagne's own range checks.
 */
export class DenseLayer extends Layer {
  readonly numUnits: number;
  readonly numLeadingAxes: number;
  readonly nonlinearity: Nonlinearity;
  readonly W: Param;
  readonly b: Param | null;

  constructor(incoming: Layer | Shape, numUnits: number, options?: DenseLayerOptions) {
    const L = 'DenseLayer';
    const opts = checkOptions<DenseLayerOptions>(options, DENSE_OPTIONS, L);
    super(incoming, opts.name ?? null);
    const input = this.inputShape as Shape;
    const nonlinearity = checkNonlinearity(opts.nonlinearity === undefined ? rectify : opts.nonlinearity, L);
    const units = asInt(numUnits, 'num_units', L);
    const lead = asInt(opts.numLeadingAxes ?? 1, 'num_leading_axes', L);
    // lasagne/layers/dense.py: the range checks, then the fixed trailing shape
    if (lead >= input.length) {
      throw new ValueError(
        `Got num_leading_axes=${lead} for a ${input.length}-dimensional input, leaving no trailing axes for the dot product.`,
      );
    }
    if (lead < -input.length) {
      throw new ValueError(
        `Got num_leading_axes=${lead} for a ${input.length}-dimensional input, requesting more trailing axes than there are input dimensions.`,
      );
    }
    // (a negative count is Python's: -1 for a 2-D input is 1 leading axis)
    if ((lead < 0 ? lead + input.length : lead) !== 1) {
      throw new NotImplementedError(`${L} only supports num_leading_axes=1 (one batch axis, the rest flattened), but num_leading_axes=${lead}`);
    }
    const trailing = input.slice(lead);
    if (trailing.some((d) => d === null)) {
      throw new ValueError(
        `A DenseLayer requires a fixed input shape (except for the leading axes). Got ${formatShape(input)} for num_leading_axes=${lead}.`,
      );
    }
    const numInputs = shapeSize(trailing as number[]);
    this.numUnits = units;
    this.numLeadingAxes = lead;
    this.nonlinearity = nonlinearity;
    const wSpec = opts.W === undefined ? new GlorotUniform() : opts.W;
    const bSpec = opts.b === undefined ? new Constant({ val: 0 }) : opts.b;
    checkParamSpec(wSpec, [numInputs, units], this.name !== null ? `${this.name}.W` : 'W');
    if (bSpec !== null) checkParamSpec(bSpec, [units], this.name !== null ? `${this.name}.b` : 'b');
    this.W = this.addParam(wSpec, [numInputs, units], 'W');
    this.b = bSpec === null ? null : this.addParam(bSpec, [units], 'b', { regularizable: false });
  }

  /** `inputShape[:numLeadingAxes] + (numUnits,)`. */
  override getOutputShapeFor(inputShape: Shape): Shape {
    return [...inputShape.slice(0, this.numLeadingAxes), this.numUnits];
  }

  /** The batch (first) axis stays first. */
  override outputBatchAxis(): number {
    return 0;
  }

  /**
   * One `nin` step on the batch-last forms: input rotation 1 viewed as (K, N), output rotation 1
   * (U, N), weight read as (C, U) ('cu'); with softmax, `nin` into an intermediate tensor and a
   * `softmax` step.
   */
  override lower(ctx: LowerContext): void {
    const name = ctx.label;
    const input = ctx.input(1);
    const batch = input.shape[input.shape.length - 1];
    const channels = shapeSize(input.shape) / batch;
    checkParamShape(name, 'W', this.W, [channels, this.numUnits]);
    const softmax = this.nonlinearity.kind === 'softmax';
    const output = ctx.output(1);
    const logits = softmax ? ctx.temp(1) : output;
    ctx.emit({
      op: 'nin', input: input.id, output: logits.id,
      weight: ctx.param(this.W), weightLayout: 'cu', bias: ctx.param(this.b), biasMode: this.b === null ? 'none' : 'tied',
      nonlinearity: softmax ? { kind: 'linear', params: [] } : { kind: this.nonlinearity.kind, params: [...this.nonlinearity.params] },
      channels, units: this.numUnits, positions: 1, batch,
    });
    if (softmax) ctx.emit({ op: 'softmax', input: logits.id, output: output.id, units: this.numUnits, batch });
  }

  override config(): Record<string, unknown> {
    return {
      numUnits: this.numUnits, numLeadingAxes: this.numLeadingAxes, b: this.b !== null,
      nonlinearity: { kind: this.nonlinearity.kind, params: this.nonlinearity.params },
    };
  }
}

registerLayer('DenseLayer', DenseLayer, { args: ['numUnits'], options: DENSE_OPTIONS });
