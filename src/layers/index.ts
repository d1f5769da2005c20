/**
 * lasagne.layers: the base classes, InputLayer, the helpers, and the shape functions. The
 * cuda-convnet layers live in `layers.cuda_convnet` (also importable as
 * `lasagne-webgpu/layers/cuda_convnet`), as in Lasagne.
 */
export { Layer, Param, type ParamSpec, type Tags } from './base.js';
export { InputLayer, type InputLayerOptions } from './input.js';
export { getAllLayers, getOutputShape, getAllParams, countParams, getAllParamValues, setAllParamValues } from './helper.js';
export { convOutputLength, convInputLength, poolOutputLength } from '../planner/planner.js';
import * as cuda_convnet from './cuda_convnet.js';
export { cuda_convnet };
