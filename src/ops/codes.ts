/**
 * The one table of the fused epilogue's codes: each elementwise nonlinearity's code and parameter
 * count, and the bias modes. Both backends pass these codes to their kernels, and the kernels read
 * them from files generated from this table by scripts/gen_codes.mjs (one entry per line, as
 * `  name: { code: N, params: M },` and `  name: N,`): src/backend/wasm/c/codes.generated.h
 * (`ACT_<NAME>`, `BIAS_<NAME>`) for C and the `codes` WGSL source that the WebGPU backend prepends
 * to its GEMM kernels (same names, `u32` consts). So a code is written once, here.
 */
import { ValueError } from '../errors.js';

/**
 * Elementwise nonlinearities a kernel can fuse: code, and how many params (`Nonlinearity.params`)
 * the kind takes: leaky_rectify [leakiness]; scaled_tanh [scaleIn, scaleOut]; selu [scale, scaleNeg].
 */
export const ACTIVATIONS = Object.freeze({
  linear: { code: 0, params: 0 },
  sigmoid: { code: 1, params: 0 },
  tanh: { code: 2, params: 0 },
  scaled_tanh: { code: 3, params: 2 },
  rectify: { code: 4, params: 0 },
  leaky_rectify: { code: 5, params: 1 },
  elu: { code: 6, params: 0 },
  selu: { code: 7, params: 2 },
  softplus: { code: 8, params: 0 },
} as const);

/** Bias modes: none, one per filter/unit (`b[f]`), one per filter/unit and output position (`b[f, y, x]`). */
export const BIAS_CODES = Object.freeze({
  none: 0,
  tied: 1,
  untied: 2,
} as const);

/** A nonlinearity a kernel fuses (every kind but softmax). */
export type ActivationKind = keyof typeof ACTIVATIONS;
/** The nonlinearities of lasagne.nonlinearities (Lasagne's snake_case names); softmax is not elementwise. */
export type NonlinearityKind = ActivationKind | 'softmax';
export type BiasMode = keyof typeof BIAS_CODES;

/** A step's fused nonlinearity, as the kernels take it. */
export interface StepNonlinearity {
  kind: NonlinearityKind;
  params: number[];
}

/**
 * The code and the two float params (unused ones 0) of a step's nonlinearity. Softmax, an unknown
 * kind or a wrong number of params is a ValueError naming the layer.
 */
export function activationOf(nl: StepNonlinearity, layer: string): { code: number; params: [number, number] } {
  const a = Object.prototype.hasOwnProperty.call(ACTIVATIONS, nl.kind) ? ACTIVATIONS[nl.kind as ActivationKind] : undefined;
  if (a === undefined) {
    throw new ValueError(
      `the kernels fuse elementwise nonlinearities only, but layer ${layer} has nonlinearity=${nl.kind}; apply softmax to the network output instead`,
    );
  }
  if (!Array.isArray(nl.params) || nl.params.length !== a.params) {
    throw new ValueError(`layer ${layer}: nonlinearity ${nl.kind} takes ${a.params} params, but got ${JSON.stringify(nl.params)}`);
  }
  return { code: a.code, params: [nl.params[0] ?? 0, nl.params[1] ?? 0] };
}
