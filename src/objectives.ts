/**
 * lasagne.objectives: loss functions and metrics on the host, with Lasagne's formulas, argument
 * rules and errors. Each takes NDArrays (predictions as a network returns them, batch first) and
 * targets: an `Int32Array` of class indices (one per row) or an NDArray; each returns the
 * elementwise (or per-row) values as a float32 NDArray, computed in float64, to be reduced with
 * `aggregate` (Lasagne's `loss.mean()`).
 *
 * ```ts
 * const probs = await network.run(x);                                     // (N, 10) softmax output
 * const loss = objectives.aggregate(objectives.categoricalCrossentropy(probs, labels));
 * const acc = objectives.aggregate(objectives.categoricalAccuracy(probs, labels));
 * ```
 *
 * The loss functions also name the device loss `compileTraining` computes for them: their
 * read-only `lossKind` (`categoricalCrossentropy.lossKind === 'categorical_crossentropy'`; see
 * `lossKindOf`). On the device the hinge losses use their defaults (delta 1, logOdds true,
 * binary targets); the host functions take every option.
 */
import { ValueError } from './errors.js';
import { asNDArray, formatShape, shapeSize, type NDArray } from './ndarray.js';
import { checkOptions } from './options.js';
import { lossKindOf as lossKindFrom, type LossKind } from './ops/training.js';

export type { LossKind };

/** Targets: class indices (one per row of the predictions) or an array like the predictions. */
export type Targets = Int32Array | NDArray;

/** A loss function with the device loss it stands for. */
export interface LossFunction<O extends object = Record<string, never>> {
  (predictions: NDArray, targets: Targets, options?: O): NDArray;
  /** Which device loss `compileTraining` computes for this objective. */
  readonly lossKind: LossKind;
}

function tagged<O extends object>(fn: (p: NDArray, t: Targets, o?: O) => NDArray, kind: LossKind): LossFunction<O> {
  Object.defineProperty(fn, 'lossKind', { value: kind, enumerable: true, writable: false, configurable: false });
  return fn as LossFunction<O>;
}

/** The device loss of an objective function (`compileTraining`'s `loss` option), or a TypeError naming the value. */
export function lossKindOf(loss: unknown): LossKind {
  return lossKindFrom(loss);
}

function predictionsOf(x: unknown, fn: string): NDArray {
  return asNDArray(x, `${fn}: predictions`);
}

/** Targets as float64 values with their shape (an Int32Array is a 1-D array of values). */
function valuesOf(t: unknown, fn: string): { data: Float64Array; shape: number[]; ints: boolean } {
  if (t instanceof Int32Array) return { data: Float64Array.from(t), shape: [t.length], ints: true };
  const a = asNDArray(t, `${fn}: targets`);
  return { data: Float64Array.from(a.data), shape: a.shape, ints: false };
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Lasagne's align_targets, then an exact shape match: predictions of shape (N, 1) with 1-D targets
 * (N) are compared row by row; otherwise the shapes must be equal (ValueError naming both).
 */
function aligned(p: NDArray, t: { shape: number[] }, fn: string): void {
  const column = p.shape.length === 2 && p.shape[1] === 1 && t.shape.length === 1 && t.shape[0] === p.shape[0];
  if (!column && !sameShape(p.shape, t.shape)) {
    throw new ValueError(`${fn} requires targets of the predictions' shape ${formatShape(p.shape)}, but targets have shape ${formatShape(t.shape)}`);
  }
}

function result(values: Float64Array, shape: number[]): NDArray {
  return { data: Float32Array.from(values), shape };
}

/**
 * Class indices of the rows of 2-D (N, U) predictions from index targets (an Int32Array or a 1-D
 * NDArray of integers, each in [0, U)) or from one-hot rows (N, U) (the first maximum of each row;
 * `strictOneHot`: exactly one nonzero entry, as Lasagne's multiclass hinge needs).
 * Other ranks: Lasagne's TypeError 'rank mismatch between targets and predictions'.
 */
function classIndices(p: NDArray, targets: unknown, fn: string, strictOneHot = false): Int32Array {
  const t = valuesOf(targets, fn);
  const rows = p.shape.slice(0, -1);
  const U = p.shape[p.shape.length - 1];
  const N = shapeSize(rows);
  const out = new Int32Array(N);
  if (t.shape.length === p.shape.length) {
    if (!sameShape(t.shape, p.shape)) throw new ValueError(`${fn} requires one-hot targets of the predictions' shape ${formatShape(p.shape)}, but targets have shape ${formatShape(t.shape)}`);
    for (let n = 0; n < N; n++) {
      let best = 0;
      let nonzero = 0;
      for (let u = 0; u < U; u++) {
        const v = t.data[n * U + u];
        if (v !== 0) nonzero++;
        if (v > t.data[n * U + best]) best = u;
      }
      if (strictOneHot && (nonzero !== 1 || t.data[n * U + best] !== 1)) {
        throw new ValueError(`${fn} requires one-hot targets (a single 1 per row), but row ${n} is not one-hot`);
      }
      out[n] = best;
    }
    return out;
  }
  if (t.shape.length !== p.shape.length - 1) throw new TypeError('rank mismatch between targets and predictions');
  if (!sameShape(t.shape, rows)) throw new ValueError(`${fn} requires one class index per row of the predictions ${formatShape(p.shape)}, but targets have shape ${formatShape(t.shape)}`);
  for (let n = 0; n < N; n++) {
    const v = t.data[n];
    if (!Number.isInteger(v) || v < 0 || v >= U) {
      throw new ValueError(`${fn} requires class indices in [0, ${U}), but targets[${n}]=${v}`);
    }
    out[n] = v;
  }
  return out;
}

/**
 * Categorical cross-entropy (lasagne.objectives.categorical_crossentropy, Theano's):
 * `L_i = -sum_j t_ij log(p_ij)` over the last axis, or `-log(p_i,t_i)` for index targets.
 * `predictions` (N, U), e.g. a softmax output; `targets` class indices (N) or (N, U) distributions.
 * Returns (N). Rank mismatch: TypeError 'rank mismatch between coding and true distributions'.
 */
export const categoricalCrossentropy = tagged((predictions: NDArray, targets: Targets): NDArray => {
  const fn = 'categoricalCrossentropy';
  const p = predictionsOf(predictions, fn);
  if (p.shape.length < 1) throw new ValueError(`${fn} requires predictions of at least 1 dimension, but predictions have shape ()`);
  const t = valuesOf(targets, fn);
  const U = p.shape[p.shape.length - 1];
  const rows = p.shape.slice(0, -1);
  const N = shapeSize(rows);
  const out = new Float64Array(N);
  if (t.shape.length === p.shape.length) {
    if (!sameShape(t.shape, p.shape)) throw new ValueError(`${fn} requires targets of the predictions' shape ${formatShape(p.shape)}, but targets have shape ${formatShape(t.shape)}`);
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let u = 0; u < U; u++) s -= t.data[n * U + u] * Math.log(p.data[n * U + u]);
      out[n] = s;
    }
  } else if (t.shape.length === p.shape.length - 1) {
    if (p.shape.length !== 2) throw new ValueError(`${fn} with class indices requires 2-D predictions (N, classes), but predictions have shape ${formatShape(p.shape)}`);
    const idx = classIndices(p, targets, fn);
    for (let n = 0; n < N; n++) out[n] = -Math.log(p.data[n * U + idx[n]]);
  } else {
    throw new TypeError('rank mismatch between coding and true distributions');
  }
  return result(out, rows);
}, 'categorical_crossentropy');

/**
 * Binary cross-entropy (lasagne.objectives.binary_crossentropy), elementwise:
 * `L = -t log(p) - (1 - t) log(1 - p)`; predictions in (0, 1) (a sigmoid output), targets in [0, 1].
 */
export const binaryCrossentropy = tagged((predictions: NDArray, targets: Targets): NDArray => {
  const fn = 'binaryCrossentropy';
  const p = predictionsOf(predictions, fn);
  const t = valuesOf(targets, fn);
  aligned(p, t, fn);
  const out = Float64Array.from(p.data, (x, i) => -t.data[i] * Math.log(x) - (1 - t.data[i]) * Math.log(1 - x));
  return result(out, p.shape);
}, 'binary_crossentropy');

/** Squared error (lasagne.objectives.squared_error), elementwise: `L = (a - b)^2`. */
export const squaredError = tagged((a: NDArray, b: Targets): NDArray => {
  const fn = 'squaredError';
  const p = predictionsOf(a, fn);
  const t = valuesOf(b, fn);
  aligned(p, t, fn);
  return result(Float64Array.from(p.data, (x, i) => (x - t.data[i]) ** 2), p.shape);
}, 'squared_error');

export interface BinaryHingeLossOptions {
  /** The margin (default 1). */
  delta?: number;
  /**
   * true: predictions are log-odds (sigmoid inputs); false: probabilities in (0, 1), turned into
   * log-odds `log(p / (1 - p))` first. Lasagne's default None assumes true (and warns that it will
   * change); here undefined means true.
   */
  logOdds?: boolean;
  /** true (default): targets in {0, 1} (mapped to 2t - 1); false: targets in {-1, 1}. */
  binary?: boolean;
}

function finiteOption(v: unknown, name: string, fn: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${fn} option '${name}' must be a finite number, but got ${String(v)}`);
  return v;
}

function boolOption(v: unknown, name: string, fn: string): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${fn} option '${name}' must be a boolean, but got ${String(v)}`);
  return v;
}

/** Binary hinge loss (lasagne.objectives.binary_hinge_loss), elementwise: `L = max(0, delta - p t)`. */
export const binaryHingeLoss = tagged((predictions: NDArray, targets: Targets, options?: BinaryHingeLossOptions): NDArray => {
  const fn = 'binaryHingeLoss';
  const o = checkOptions<BinaryHingeLossOptions>(options, ['delta', 'logOdds', 'binary'], fn);
  const delta = finiteOption(o.delta ?? 1, 'delta', fn);
  const logOdds = boolOption(o.logOdds ?? true, 'logOdds', fn);
  const binary = boolOption(o.binary ?? true, 'binary', fn);
  const p = predictionsOf(predictions, fn);
  const t = valuesOf(targets, fn);
  aligned(p, t, fn);
  const out = Float64Array.from(p.data, (x, i) => {
    const z = logOdds ? x : Math.log(x / (1 - x));
    const s = binary ? 2 * t.data[i] - 1 : t.data[i];
    return Math.max(0, delta - z * s);
  });
  return result(out, p.shape);
}, 'binary_hinge');

export interface MulticlassHingeLossOptions {
  /** The margin (default 1). */
  delta?: number;
}

/**
 * Multi-class hinge loss (lasagne.objectives.multiclass_hinge_loss), per row of (N, U) predictions:
 * `L_i = max(0, max_{j != t_i} p_ij - p_i,t_i + delta)`. Targets: class indices or one-hot rows
 * (exactly one 1 per row, ValueError otherwise: Lasagne's "non-binary targets do not work").
 */
export const multiclassHingeLoss = tagged((predictions: NDArray, targets: Targets, options?: MulticlassHingeLossOptions): NDArray => {
  const fn = 'multiclassHingeLoss';
  const o = checkOptions<MulticlassHingeLossOptions>(options, ['delta'], fn);
  const delta = finiteOption(o.delta ?? 1, 'delta', fn);
  const p = predictionsOf(predictions, fn);
  if (p.shape.length !== 2 || p.shape[1] < 2) {
    throw new ValueError(`${fn} requires 2-D predictions (N, classes) with at least 2 classes, but predictions have shape ${formatShape(p.shape)}`);
  }
  const idx = classIndices(p, targets, fn, true);
  const [N, U] = p.shape;
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let rest = -Infinity;
    for (let u = 0; u < U; u++) if (u !== idx[n]) rest = Math.max(rest, p.data[n * U + u]);
    out[n] = Math.max(0, rest - p.data[n * U + idx[n]] + delta);
  }
  return result(out, [N]);
}, 'multiclass_hinge');

export interface BinaryAccuracyOptions {
  /** Predictions >= threshold count as the positive class (default 0.5). */
  threshold?: number;
}

/** Binary accuracy (lasagne.objectives.binary_accuracy), elementwise: `(p >= threshold) == t`, as 1 or 0. */
export function binaryAccuracy(predictions: NDArray, targets: Targets, options?: BinaryAccuracyOptions): NDArray {
  const fn = 'binaryAccuracy';
  const o = checkOptions<BinaryAccuracyOptions>(options, ['threshold'], fn);
  const threshold = finiteOption(o.threshold ?? 0.5, 'threshold', fn);
  const p = predictionsOf(predictions, fn);
  const t = valuesOf(targets, fn);
  aligned(p, t, fn);
  return result(Float64Array.from(p.data, (x, i) => (Number(x >= threshold) === t.data[i] ? 1 : 0)), p.shape);
}

export interface CategoricalAccuracyOptions {
  /** Correct when the target is among the topK largest predictions (default 1: the argmax). */
  topK?: number;
}

/**
 * Categorical accuracy (lasagne.objectives.categorical_accuracy), per row: 1 when the target class
 * is the row's argmax (the first maximum, as numpy's) or, with `topK`, among its `topK` largest
 * values (ties broken towards the higher index, as a stable ascending argsort's last k), else 0.
 * Targets: class indices or one-hot rows (their argmax).
 */
export function categoricalAccuracy(predictions: NDArray, targets: Targets, options?: CategoricalAccuracyOptions): NDArray {
  const fn = 'categoricalAccuracy';
  const o = checkOptions<CategoricalAccuracyOptions>(options, ['topK'], fn);
  const topK = o.topK ?? 1;
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1) throw new ValueError(`${fn} requires topK to be a positive integer, but topK=${String(topK)}`);
  const p = predictionsOf(predictions, fn);
  if (p.shape.length < 1) throw new ValueError(`${fn} requires predictions of at least 1 dimension, but predictions have shape ()`);
  const idx = classIndices(p, targets, fn);
  const U = p.shape[p.shape.length - 1];
  const rows = p.shape.slice(0, -1);
  const out = new Float64Array(idx.length);
  for (let n = 0; n < idx.length; n++) {
    const row = p.data.subarray(n * U, (n + 1) * U);
    if (topK === 1) {
      let best = 0;
      for (let u = 1; u < U; u++) if (row[u] > row[best]) best = u;
      out[n] = best === idx[n] ? 1 : 0;
    } else {
      const order = Array.from({ length: U }, (_, u) => u).sort((a, b) => row[a] - row[b] || a - b);
      out[n] = order.slice(Math.max(0, U - topK)).includes(idx[n]) ? 1 : 0;
    }
  }
  return result(out, rows);
}

export type AggregateMode = 'mean' | 'sum' | 'normalized_sum';

export interface AggregateOptions {
  /** Per-element weights of the loss's shape (or a number), multiplied in first; required for 'normalized_sum'. */
  weights?: NDArray | number | null;
  /** 'mean' (default), 'sum', or 'normalized_sum' (sum of weighted losses / sum of weights). */
  mode?: AggregateMode;
}

/**
 * Aggregates elementwise losses to a scalar (lasagne.objectives.aggregate), in float64:
 * 'mean' `mean(loss * weights)`, 'sum' `sum(loss * weights)`, 'normalized_sum'
 * `sum(loss * weights) / sum(weights)`. Lasagne's errors: "require weights for
 * mode='normalized_sum'", "mode must be 'mean', 'sum' or 'normalized_sum', got ...".
 */
export function aggregate(loss: NDArray, options?: AggregateOptions): number {
  const fn = 'aggregate';
  const o = checkOptions<AggregateOptions>(options, ['weights', 'mode'], fn);
  const l = asNDArray(loss, `${fn}: loss`);
  const mode = o.mode ?? 'mean';
  const w = o.weights ?? null;
  let weights: ArrayLike<number> | null = null;
  if (typeof w === 'number') {
    finiteOption(w, 'weights', fn);
    weights = new Float64Array(l.data.length).fill(w);
  } else if (w !== null) {
    const wa = asNDArray(w, `${fn}: weights`);
    if (!sameShape(wa.shape, l.shape)) throw new ValueError(`${fn} requires weights of the loss's shape ${formatShape(l.shape)}, but weights have shape ${formatShape(wa.shape)}`);
    weights = wa.data;
  }
  let sum = 0;
  for (let i = 0; i < l.data.length; i++) sum += weights === null ? l.data[i] : l.data[i] * weights[i];
  if (mode === 'mean') return sum / l.data.length;
  if (mode === 'sum') return sum;
  if (mode === 'normalized_sum') {
    if (weights === null) throw new ValueError("require weights for mode='normalized_sum'");
    let ws = 0;
    for (let i = 0; i < weights.length; i++) ws += weights[i];
    return sum / ws;
  }
  throw new ValueError(`mode must be 'mean', 'sum' or 'normalized_sum', got ${typeof mode === 'string' ? `'${mode}'` : String(mode)}`);
}
