/**
 * lasagne.regularization: penalties on parameters, computed on the host in float64 (for users' own
 * checks; `compileTraining`'s `regularization: { l2, l1 }` computes the same penalty on the device).
 *
 * ```ts
 * const penalty = regularization.regularizeNetworkParams(net, regularization.l2) * 1e-4;
 * ```
 *
 * The penalties carry a read-only `penaltyKind` ('l1' or 'l2') that names them for the trainer.
 */
import { asNDArray, type NDArray } from './ndarray.js';
import { Layer, Param, type Tags } from './layers/base.js';
import { getAllParams } from './layers/helper.js';
import { checkOptions } from './options.js';

/** What a penalty takes: an NDArray or a parameter (its current value). */
export type PenaltyInput = NDArray | Param;

/** A penalty function with its name for the trainer. */
export interface Penalty {
  (x: PenaltyInput): number;
  readonly penaltyKind: 'l1' | 'l2';
}

function valuesOf(x: PenaltyInput, fn: string): Float32Array {
  if (x instanceof Param) return x.valueRef.data;
  return asNDArray(x, `${fn}: x`).data;
}

function penalty(kind: 'l1' | 'l2', f: (v: number) => number): Penalty {
  const fn = (x: PenaltyInput): number => {
    let s = 0;
    for (const v of valuesOf(x, kind)) s += f(v);
    return s;
  };
  Object.defineProperty(fn, 'name', { value: kind });
  Object.defineProperty(fn, 'penaltyKind', { value: kind, enumerable: true, writable: false, configurable: false });
  return fn as Penalty;
}

/** The l1 penalty `sum |x|` (lasagne.regularization.l1). */
export const l1: Penalty = penalty('l1', Math.abs);

/** The l2 penalty `sum x^2` (lasagne.regularization.l2; no factor 1/2, as Lasagne). */
export const l2: Penalty = penalty('l2', (v) => v * v);

function checkPenalty(p: unknown, fn: string): (x: PenaltyInput) => number {
  if (typeof p !== 'function') throw new TypeError(`${fn} requires a penalty function (regularization.l2, regularization.l1), but got ${String(p)}`);
  return p as (x: PenaltyInput) => number;
}

/** The penalty summed over one array/parameter or a list of them (lasagne.regularization.apply_penalty). */
export function applyPenalty(tensorOrTensors: PenaltyInput | readonly PenaltyInput[], penaltyFn: (x: PenaltyInput) => number): number {
  const p = checkPenalty(penaltyFn, 'applyPenalty');
  if (Array.isArray(tensorOrTensors)) return tensorOrTensors.reduce((s: number, x: PenaltyInput) => s + p(x), 0);
  return p(tensorOrTensors as PenaltyInput);
}

export interface RegularizeOptions {
  /** Which parameters (Lasagne's tags; default `{ regularizable: true }`: the weights, not the biases). */
  tags?: Tags;
}

/** The penalty over the parameters of one layer or a list of layers (lasagne.regularization.regularize_layer_params). */
export function regularizeLayerParams(layer: Layer | readonly Layer[], penaltyFn: (x: PenaltyInput) => number, options?: RegularizeOptions): number {
  const o = checkOptions<RegularizeOptions>(options, ['tags'], 'regularizeLayerParams');
  const layers = Array.isArray(layer) ? layer : [layer];
  layers.forEach((l, i) => {
    if (!(l instanceof Layer)) throw new TypeError(`regularizeLayerParams: expected a Layer or an array of Layers, but item ${i} is ${String(l)}`);
  });
  const params = (layers as Layer[]).flatMap((l) => l.getParams(o.tags ?? { regularizable: true }));
  return applyPenalty(params, penaltyFn);
}

/**
 * The weighted sum of per-layer penalties (lasagne.regularization.regularize_layer_params_weighted):
 * `layers` maps each layer to its coefficient.
 */
export function regularizeLayerParamsWeighted(layers: Map<Layer, number>, penaltyFn: (x: PenaltyInput) => number, options?: RegularizeOptions): number {
  const o = checkOptions<RegularizeOptions>(options, ['tags'], 'regularizeLayerParamsWeighted');
  if (!(layers instanceof Map)) throw new TypeError('regularizeLayerParamsWeighted requires a Map from Layer to coefficient');
  let s = 0;
  for (const [layer, coeff] of layers) {
    if (!(layer instanceof Layer)) throw new TypeError(`regularizeLayerParamsWeighted: every key must be a Layer, but got ${String(layer)}`);
    if (typeof coeff !== 'number' || !Number.isFinite(coeff)) throw new TypeError(`regularizeLayerParamsWeighted: the coefficient of ${layer.name ?? layer.constructor.name} must be a finite number, but got ${String(coeff)}`);
    s += coeff * applyPenalty(layer.getParams(o.tags ?? { regularizable: true }), penaltyFn);
  }
  return s;
}

/**
 * The penalty over every parameter of the network below `layer` with the tags (default
 * `{ regularizable: true }`; lasagne.regularization.regularize_network_params).
 */
export function regularizeNetworkParams(layer: Layer | readonly Layer[], penaltyFn: (x: PenaltyInput) => number, options?: RegularizeOptions): number {
  const o = checkOptions<RegularizeOptions>(options, ['tags'], 'regularizeNetworkParams');
  checkPenalty(penaltyFn, 'regularizeNetworkParams');
  return applyPenalty(getAllParams(layer, o.tags ?? { regularizable: true }), penaltyFn);
}
