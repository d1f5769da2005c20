/**
 * lasagne.layers: the base classes, InputLayer, the layers around the cuda-convnet ones
 * (DenseLayer, DropoutLayer, NonlinearityLayer, FlattenLayer, ReshapeLayer, GlobalPoolLayer), the
 * helpers, and the shape functions. The cuda-convnet layers live in `layers.cuda_convnet` (also
 * importable as `lasagne-webgpu/layers/cuda_convnet`), as in Lasagne.
 */
export { Layer, Param, type ParamSpec, type Tags } from './base.js';
export { InputLayer, type InputLayerOptions } from './input.js';
export { DenseLayer, type DenseLayerOptions } from './dense.js';
export { DropoutLayer, dropout, type DropoutLayerOptions } from './noise.js';
export { NonlinearityLayer, type NonlinearityLayerOptions } from './special.js';
export { FlattenLayer, flatten, ReshapeLayer, reshape, type FlattenLayerOptions, type ReshapeSpecEntry } from './shape.js';
export { GlobalPoolLayer, type GlobalPoolLayerOptions } from './pool.js';
export { getAllLayers, getOutputShape, getAllParams, countParams, getAllParamValues, setAllParamValues } from './helper.js';
export { convOutputLength, convInputLength, poolOutputLength } from '../planner/planner.js';
import * as cuda_convnet from './cuda_convnet.js';
export { cuda_convnet };
export { toJSON, fromJSON, MODEL_FORMAT, MODEL_VERSION, type ModelJSON, type ModelLayer, type ModelValue } from './json.js';
export { registerLayer, registerValue } from './registry.js';
