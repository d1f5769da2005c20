// What the WASM and WebGPU backward kernel suites (test/backend/{wasm,webgpu}_backward.test.mjs)
// both sweep: every nonlinearity with its parameters, and a conv's output length.

/** Every nonlinearity a backward bias_act_grad meets, with parameters off their defaults where they have any. */
export const NL = [
  ['linear', []], ['rectify', []], ['leaky_rectify', [0.1]], ['sigmoid', []], ['tanh', []],
  ['scaled_tanh', [0.5, 2.27]], ['elu', []], ['selu', [1.0507009873554805, 1.6732632423543772]], ['softplus', []],
];

/** A conv's output length along an axis (steps.mjs). */
export { convLen } from './steps.mjs';
