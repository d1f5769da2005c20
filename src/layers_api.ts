/**
 * The package's `layers` namespace: the layer classes and helpers of src/layers, plus `getOutput`,
 * which compiles (src/compile) and so lives a floor above the layers.
 */
export * from './layers/index.js';
export { getOutput, clearOutputCache, type GetOutputOptions } from './compile/network.js';
