/**
 * lasagne.updates: the update rules, as descriptors that `compileTraining` turns into one device
 * `update` step per trainable parameter (src/ops/training.ts UpdateStep; the state lives on the
 * device). Lasagne's formulas and defaults; the options are Lasagne's keyword arguments in
 * camelCase, and the rules whose `learning_rate` Lasagne requires (sgd, momentum,
 * nesterovMomentum) require `learningRate`.
 *
 * ```ts
 * const trainer = await lasagne.compileTraining(net, {
 *   loss: lasagne.objectives.categoricalCrossentropy,
 *   updates: lasagne.updates.nesterovMomentum({ learningRate: 0.01, momentum: 0.9 }),
 * });
 * ```
 *
 * Formulas (g the gradient, lr the learning rate, t the update count from 1):
 *   sgd                p -= lr g
 *   momentum           v = m v - lr g;  p += v
 *   nesterovMomentum   v = m v - lr g;  p += m v - lr g
 *   adagrad            a += g^2;  p -= lr g / sqrt(a + eps)
 *   rmsprop            a = rho a + (1 - rho) g^2;  p -= lr g / sqrt(a + eps)
 *   adadelta           a = rho a + (1 - rho) g^2;  u = g sqrt(d + eps) / sqrt(a + eps);  p -= lr u;  d = rho d + (1 - rho) u^2
 *   adam               m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)
 *   adamax             m = b1 m + (1 - b1) g;  u = max(b2 u, |g|);  p -= lr / (1 - b1^t) m / (u + eps)
 */
import { checkOptions } from './options.js';
import { UPDATE_DEFAULTS, UPDATE_FUNCTION, checkHyper, checkUpdateDescriptor as checkHypers, type UpdateHyper, type UpdateRule } from './ops/training.js';

export type { UpdateRule };

/**
 * What an update function returns: the rule and its hyperparameters (the UpdateStep fields;
 * those the rule does not use are 0). Frozen.
 */
export interface UpdateDescriptor {
  readonly rule: UpdateRule;
  readonly learningRate: number;
  readonly momentum: number;
  readonly rho: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

export interface SgdOptions {
  /** Required. */
  learningRate: number;
}
export interface MomentumOptions {
  /** Required. */
  learningRate: number;
  /** Default 0.9. */
  momentum?: number;
}
export interface AdagradOptions {
  /** Default 1.0. */
  learningRate?: number;
  /** Default 1e-6. */
  epsilon?: number;
}
export interface RmspropOptions {
  /** Default 1.0. */
  learningRate?: number;
  /** Default 0.9 (adadelta: 0.95). */
  rho?: number;
  /** Default 1e-6. */
  epsilon?: number;
}
export type AdadeltaOptions = RmspropOptions;
export interface AdamOptions {
  /** Default 0.001 (adamax: 0.002). */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  epsilon?: number;
}
export type AdamaxOptions = AdamOptions;

function descriptor(rule: UpdateRule, options: unknown): UpdateDescriptor {
  const fn = UPDATE_FUNCTION[rule];
  const defaults = UPDATE_DEFAULTS[rule];
  const names = Object.keys(defaults) as UpdateHyper[];
  const o = checkOptions<Record<UpdateHyper, number>>(options, names, fn);
  const out: Record<UpdateHyper, number> = { learningRate: 0, momentum: 0, rho: 0, beta1: 0, beta2: 0, epsilon: 0 };
  for (const name of names) {
    const given = o[name];
    if (given === undefined && defaults[name] === undefined) {
      throw new TypeError(`${fn}() missing 1 required option: '${name}' (Lasagne's ${rule} has no default learning rate), e.g. ${fn}({ learningRate: 0.01 })`);
    }
    out[name] = checkHyper(rule, name, given ?? defaults[name]);
  }
  return Object.freeze({ rule, ...out });
}

/** Stochastic gradient descent: `p -= lr g`. `learningRate` is required. */
export function sgd(options: SgdOptions): UpdateDescriptor {
  return descriptor('sgd', options);
}

/** SGD with momentum: `v = m v - lr g; p += v`. `learningRate` is required; momentum 0.9. */
export function momentum(options: MomentumOptions): UpdateDescriptor {
  return descriptor('momentum', options);
}

/** SGD with Nesterov momentum: `v = m v - lr g; p += m v - lr g`. `learningRate` is required; momentum 0.9. */
export function nesterovMomentum(options: MomentumOptions): UpdateDescriptor {
  return descriptor('nesterov_momentum', options);
}

/** Adagrad: `a += g^2; p -= lr g / sqrt(a + eps)`. Defaults lr 1.0, epsilon 1e-6. */
export function adagrad(options?: AdagradOptions): UpdateDescriptor {
  return descriptor('adagrad', options);
}

/** RMSProp: `a = rho a + (1 - rho) g^2; p -= lr g / sqrt(a + eps)`. Defaults lr 1.0, rho 0.9, epsilon 1e-6. */
export function rmsprop(options?: RmspropOptions): UpdateDescriptor {
  return descriptor('rmsprop', options);
}

/** Adadelta (see the module formulas). Defaults lr 1.0, rho 0.95, epsilon 1e-6. */
export function adadelta(options?: AdadeltaOptions): UpdateDescriptor {
  return descriptor('adadelta', options);
}

/** Adam with Lasagne's bias-corrected step. Defaults lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8. */
export function adam(options?: AdamOptions): UpdateDescriptor {
  return descriptor('adam', options);
}

/** Adamax (Adam with the infinity norm). Defaults lr 0.002, beta1 0.9, beta2 0.999, epsilon 1e-8. */
export function adamax(options?: AdamaxOptions): UpdateDescriptor {
  return descriptor('adamax', options);
}

/**
 * Checks that `value` is an update descriptor (what the functions above return), for
 * `compileTraining`'s `updates` option: a TypeError naming it otherwise.
 */
export function checkUpdateDescriptor(value: unknown): UpdateDescriptor {
  return checkHypers(value);
}
