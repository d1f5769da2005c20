/**
 * Activation functions: the counterpart of `lasagne.nonlinearities`.
 *
 * Every nonlinearity is a callable function object: `rectify(x)` applies it on the host to an
 * `NDArray` and returns a new float32 `NDArray` (the reference the GPU and WASM kernels are tested
 * against), while `kind` and `params` tell a backend which kernel to generate. The parametrised
 * ones are classes constructed with an options object, e.g.
 * `new LeakyRectify({ leakiness: 0.1 })`, whose instances are themselves callable.
 *
 * Formulas are Theano's as Lasagne uses them, evaluated in float64 and rounded to float32 once at
 * the end; `applyScalar` is their single definition for the elementwise ones.
 */
import { ValueError } from './errors.js';
import { asNDArray, formatShape } from './ndarray.js';
import type { NDArray } from './ndarray.js';
import { checkOptions } from './options.js';

import { ACTIVATIONS, type NonlinearityKind } from './ops/codes.js';

/** The nonlinearities a backend can generate code for (Lasagne's snake_case names; the table is src/ops/codes.ts). */
export type { NonlinearityKind };

/** A nonlinearity: a callable that also describes itself to the backends. */
export interface Nonlinearity {
  /**
   * Host reference implementation: returns a new float32 NDArray of the same shape. Elementwise,
   * except softmax (row-wise on a 2-D input; any other rank is a ValueError).
   */
  (x: NDArray): NDArray;
  /** Which formula this is. */
  readonly kind: NonlinearityKind;
  /** leaky_rectify: [leakiness]; scaled_tanh: [scaleIn, scaleOut]; selu: [scale, scaleNeg]; others []. */
  readonly params: readonly number[];
  /** False only for softmax. */
  readonly elementwise: boolean;
}

/** Number of entries of `params` for each kind (the elementwise ones from src/ops/codes.ts). */
const PARAM_COUNT: Readonly<Record<NonlinearityKind, number>> = Object.freeze({
  ...(Object.fromEntries(Object.entries(ACTIVATIONS).map(([k, v]) => [k, v.params])) as Record<keyof typeof ACTIVATIONS, number>),
  softmax: 0,
});

function isKind(kind: unknown): kind is NonlinearityKind {
  return typeof kind === 'string' && Object.prototype.hasOwnProperty.call(PARAM_COUNT, kind);
}

/**
 * The float64 formula of an elementwise kind, specialised to its params. Numerically stable forms
 * are used where the textbook one overflows; they agree with it wherever it is finite.
 */
function scalarFormula(kind: NonlinearityKind, params: readonly number[]): (x: number) => number {
  switch (kind) {
    case 'sigmoid':
      // 1/(1+e^{-x}); for x < 0 written as e^x/(1+e^x) so that e^{-x} never overflows.
      return (x) => {
        if (x >= 0) return 1 / (1 + Math.exp(-x));
        const e = Math.exp(x);
        return e / (1 + e);
      };
    case 'tanh':
      return Math.tanh;
    case 'scaled_tanh': {
      // tanh(scale_in·x)·scale_out
      const [scaleIn, scaleOut] = params;
      return (x) => Math.tanh(scaleIn * x) * scaleOut;
    }
    case 'rectify':
      // 0.5·(x+|x|) = max(0, x); NaN stays NaN, -Infinity gives 0.
      return (x) => (x > 0 ? x : x <= 0 ? 0 : x);
    case 'leaky_rectify': {
      // 0.5(1+α)·x + 0.5(1−α)·|x| = x for x > 0, α·x otherwise.
      const [alpha] = params;
      return (x) => (x > 0 ? x : x <= 0 ? (alpha === 0 ? 0 : alpha * x) : x);
    }
    case 'elu':
      // switch(x > 0, x, expm1(x))
      return (x) => (x > 0 ? x : Math.expm1(x));
    case 'selu': {
      // scale·switch(x > 0, x, scale_neg·expm1(x))
      const [scale, scaleNeg] = params;
      return (x) => (x > 0 ? scale * x : scale * (scaleNeg * Math.expm1(x)));
    }
    case 'softplus':
      // log(1+e^x) = x + log1p(e^{-x}) for x > 0, so e^x never overflows.
      return (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
    case 'linear':
      return (x) => x;
    case 'softmax':
      throw new ValueError('softmax is not elementwise: it normalises each row of a 2-D input; call softmax(x) on the NDArray');
  }
}

function checkParams(kind: NonlinearityKind, params: unknown): readonly number[] {
  if (!Array.isArray(params)) {
    throw new TypeError(`applyScalar requires params to be an array of numbers, but params=${String(params)}`);
  }
  if (params.length !== PARAM_COUNT[kind]) {
    throw new ValueError(`${kind} takes ${PARAM_COUNT[kind]} params, but params=[${params.join(', ')}]`);
  }
  for (const p of params) {
    if (typeof p !== 'number' || !Number.isFinite(p)) {
      throw new ValueError(`${kind} requires finite numeric params, but params=[${params.join(', ')}]`);
    }
  }
  return params;
}

/**
 * Applies an elementwise nonlinearity to one number in float64: the single source of truth for the
 * elementwise formulas (the callables use it and round to float32 at the end).
 *
 * Formulas: sigmoid 1/(1+e^{-x}); tanh; scaled_tanh tanh(scaleIn·x)·scaleOut; rectify max(0, x);
 * leaky_rectify x if x > 0 else leakiness·x; elu x if x > 0 else e^x−1; selu
 * scale·(x if x > 0 else scaleNeg·(e^x−1)); softplus log(1+e^x); linear x.
 *
 * @param kind - any kind except `'softmax'` (ValueError: it is not elementwise).
 * @param params - as in `Nonlinearity.params` for that kind.
 * @param x - the input.
 */
export function applyScalar(kind: NonlinearityKind, params: readonly number[], x: number): number {
  if (!isKind(kind)) {
    throw new ValueError(`applyScalar requires kind to be one of ${Object.keys(PARAM_COUNT).join(', ')}, but kind=${String(kind)}`);
  }
  if (typeof x !== 'number') throw new TypeError(`applyScalar requires x to be a number, but got ${typeof x}`);
  return scalarFormula(kind, checkParams(kind, params))(x);
}

/** Row-wise softmax of a 2-D array: e^{x_ij − m_i} / Σ_k e^{x_ik − m_i}, m_i = max_k x_ik. */
function softmaxHost(input: NDArray): NDArray {
  const x = asNDArray(input, 'softmax input');
  if (x.shape.length !== 2) {
    throw new ValueError(
      `softmax requires a 2-D input (batch, classes), but got shape=${formatShape(x.shape)}; flatten or reshape it first`,
    );
  }
  const [rows, cols] = x.shape;
  const out = new Float32Array(rows * cols);
  const e = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, x.data[base + c]);
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      e[c] = Math.exp(x.data[base + c] - max);
      sum += e[c];
    }
    for (let c = 0; c < cols; c++) out[base + c] = e[c] / sum;
  }
  return { data: out, shape: [rows, cols] };
}

/** Builds the callable for `kind`, named and printed as `description`, with prototype `proto`. */
function makeNonlinearity(
  kind: NonlinearityKind,
  params: readonly number[],
  description: string,
  proto: object = Function.prototype,
  extra: Record<string, number> = {},
): Nonlinearity {
  let fn: (x: NDArray) => NDArray;
  if (kind === 'softmax') {
    fn = (x) => softmaxHost(x);
  } else {
    const f = scalarFormula(kind, params);
    fn = (input) => {
      const x = asNDArray(input, `${description} input`);
      const out = new Float32Array(x.data.length);
      for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
      return { data: out, shape: [...x.shape] };
    };
  }
  Object.setPrototypeOf(fn, proto);
  const props: PropertyDescriptorMap = {
    name: { value: description },
    kind: { value: kind, enumerable: true },
    params: { value: Object.freeze([...params]), enumerable: true },
    elementwise: { value: kind !== 'softmax', enumerable: true },
    toString: { value: () => description },
  };
  for (const [key, value] of Object.entries(extra)) props[key] = { value, enumerable: true };
  Object.defineProperties(fn, props);
  return Object.freeze(fn) as unknown as Nonlinearity;
}

function finiteOption(value: unknown, fallback: number, option: string, owner: string): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'number') {
    throw new TypeError(`${owner} requires ${option} to be a number, but ${option}=${typeof v === 'string' ? `'${v}'` : String(v)}`);
  }
  if (!Number.isFinite(v)) throw new ValueError(`${owner} requires ${option} to be a finite number, but ${option}=${v}`);
  return v;
}

/**
 * True for the nonlinearities of this module (and any callable with the same shape: a known
 * `kind`, the right number of finite `params`, and `elementwise` false exactly for softmax).
 */
export function isNonlinearity(x: unknown): x is Nonlinearity {
  if (typeof x !== 'function') return false;
  const { kind, params, elementwise } = x as unknown as Partial<Nonlinearity>;
  return (
    isKind(kind) &&
    Array.isArray(params) &&
    params.length === PARAM_COUNT[kind] &&
    params.every((p) => typeof p === 'number' && Number.isFinite(p)) &&
    elementwise === (kind !== 'softmax')
  );
}

/** Sigmoid activation (`lasagne.nonlinearities.sigmoid`): φ(x) = 1/(1+e^{-x}). */
export const sigmoid: Nonlinearity = makeNonlinearity('sigmoid', [], 'sigmoid');

/**
 * Softmax activation (`lasagne.nonlinearities.softmax`), row-wise on a 2-D input (batch, classes):
 * φ(x)_ij = e^{x_ij} / Σ_k e^{x_ik}, computed with the row maximum subtracted. Like Theano's
 * `T.nnet.softmax`, other ranks (e.g. a 4-D conv output) are refused (ValueError).
 */
export const softmax: Nonlinearity = makeNonlinearity('softmax', [], 'softmax');

/** Tanh activation (`lasagne.nonlinearities.tanh`): φ(x) = tanh(x). */
export const tanh: Nonlinearity = makeNonlinearity('tanh', [], 'tanh');

/** Options of `ScaledTanH`. */
export interface ScaledTanHOptions {
  /** Scale applied to the input. Default 1. */
  scaleIn?: number;
  /** Scale applied to the output. Default 1. */
  scaleOut?: number;
}

/** Instances of `ScaledTanH` are callable nonlinearities. */
export interface ScaledTanH extends Nonlinearity {}

/**
 * Scaled tanh (`lasagne.nonlinearities.ScaledTanH`, alias `ScaledTanh`):
 * φ(x) = tanh(scaleIn·x)·scaleOut. LeCun et al. (1998) recommend scaleIn = 2/3 and
 * scaleOut = 1.7159.
 *
 * Parameters: `scaleIn` (default 1), `scaleOut` (default 1).
 *
 * @example
 * const f = new ScaledTanH({ scaleIn: 0.5, scaleOut: 2.27 });
 * f(x); f instanceof ScaledTanH; // true
 */
export class ScaledTanH {
  /** Scale applied to the input. */
  declare readonly scaleIn: number;
  /** Scale applied to the output. */
  declare readonly scaleOut: number;

  constructor(options?: ScaledTanHOptions) {
    const o = checkOptions<ScaledTanHOptions>(options, ['scaleIn', 'scaleOut'], 'ScaledTanH');
    const scaleIn = finiteOption(o.scaleIn, 1, 'scaleIn', 'ScaledTanH');
    const scaleOut = finiteOption(o.scaleOut, 1, 'scaleOut', 'ScaledTanH');
    return makeNonlinearity(
      'scaled_tanh',
      [scaleIn, scaleOut],
      `ScaledTanH(scaleIn=${scaleIn}, scaleOut=${scaleOut})`,
      new.target.prototype,
      { scaleIn, scaleOut },
    ) as unknown as ScaledTanH;
  }
}
Object.setPrototypeOf(ScaledTanH.prototype, Function.prototype);
export { ScaledTanH as ScaledTanh };

/** Rectify activation (`lasagne.nonlinearities.rectify`): φ(x) = max(0, x) = 0.5·(x+|x|). */
export const rectify: Nonlinearity = makeNonlinearity('rectify', [], 'rectify');

/** Options of `LeakyRectify`. */
export interface LeakyRectifyOptions {
  /** Slope for negative inputs. Default 0.01. */
  leakiness?: number;
}

/** Instances of `LeakyRectify` are callable nonlinearities. */
export interface LeakyRectify extends Nonlinearity {}

/**
 * Leaky rectifier (`lasagne.nonlinearities.LeakyRectify`): φ(x) = x for x > 0, α·x otherwise
 * (Theano's `relu(x, α)` = 0.5(1+α)·x + 0.5(1−α)·|x|). `leakiness: 0` is `rectify`.
 *
 * Parameters: `leakiness` (α, default 0.01).
 */
export class LeakyRectify {
  /** Slope for negative inputs. */
  declare readonly leakiness: number;

  constructor(options?: LeakyRectifyOptions) {
    const o = checkOptions<LeakyRectifyOptions>(options, ['leakiness'], 'LeakyRectify');
    const leakiness = finiteOption(o.leakiness, 0.01, 'leakiness', 'LeakyRectify');
    return makeNonlinearity(
      'leaky_rectify',
      [leakiness],
      `LeakyRectify(leakiness=${leakiness})`,
      new.target.prototype,
      { leakiness },
    ) as unknown as LeakyRectify;
  }
}
Object.setPrototypeOf(LeakyRectify.prototype, Function.prototype);

/** `lasagne.nonlinearities.leaky_rectify`: `new LeakyRectify()` (leakiness 0.01). */
export const leakyRectify: LeakyRectify = new LeakyRectify();

/** `lasagne.nonlinearities.very_leaky_rectify`: `new LeakyRectify({ leakiness: 1/3 })`. */
export const veryLeakyRectify: LeakyRectify = new LeakyRectify({ leakiness: 1 / 3 });

/** Exponential linear unit (`lasagne.nonlinearities.elu`): φ(x) = x for x > 0, e^x − 1 otherwise. */
export const elu: Nonlinearity = makeNonlinearity('elu', [], 'elu');

/** Options of `SELU`. */
export interface SELUOptions {
  /** Scale applied to the whole output. Default 1. */
  scale?: number;
  /** Scale applied to the negative part (before `scale`). Default 1. */
  scaleNeg?: number;
}

/** Instances of `SELU` are callable nonlinearities. */
export interface SELU extends Nonlinearity {}

/**
 * Scaled exponential linear unit (`lasagne.nonlinearities.SELU`, Klambauer et al. 2017):
 * φ(x) = scale·x for x > 0, scale·scaleNeg·(e^x − 1) otherwise. `{ scale: 1, scaleNeg: 0 }` is
 * `rectify`; `{ scale: 1, scaleNeg: 1 }` is `elu`.
 *
 * Parameters: `scale` (default 1), `scaleNeg` (default 1).
 */
export class SELU {
  /** Scale applied to the whole output. */
  declare readonly scale: number;
  /** Scale applied to the negative part. */
  declare readonly scaleNeg: number;

  constructor(options?: SELUOptions) {
    const o = checkOptions<SELUOptions>(options, ['scale', 'scaleNeg'], 'SELU');
    const scale = finiteOption(o.scale, 1, 'scale', 'SELU');
    const scaleNeg = finiteOption(o.scaleNeg, 1, 'scaleNeg', 'SELU');
    return makeNonlinearity('selu', [scale, scaleNeg], `SELU(scale=${scale}, scaleNeg=${scaleNeg})`, new.target.prototype, {
      scale,
      scaleNeg,
    }) as unknown as SELU;
  }
}
Object.setPrototypeOf(SELU.prototype, Function.prototype);

/**
 * `lasagne.nonlinearities.selu`: SELU with scale = 1.0507009873554804934193349852946 and
 * scaleNeg = 1.6732632423543772848170429916717 (the self-normalising constants).
 */
export const selu: SELU = new SELU({
  scale: 1.0507009873554804934193349852946,
  scaleNeg: 1.6732632423543772848170429916717,
});

/** Softplus activation (`lasagne.nonlinearities.softplus`): φ(x) = log(1 + e^x), computed stably. */
export const softplus: Nonlinearity = makeNonlinearity('softplus', [], 'softplus');

/** Linear activation (`lasagne.nonlinearities.linear`): φ(x) = x (returns a copy). */
export const linear: Nonlinearity = makeNonlinearity('linear', [], 'linear');

/** `lasagne.nonlinearities.identity`: the same object as `linear` (layers map `nonlinearity: null` to it). */
export const identity: Nonlinearity = linear;
