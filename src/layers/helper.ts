import { ValueError } from '../errors.js';
import { asNDArray, formatShape, shapeSize, type NDArray, type Shape } from '../ndarray.js';
import { Layer, Param, isInputLayer, sameShape, type Tags } from './base.js';
import { pyRepr } from './util.js';

function layerList(layerOrLayers: Layer | readonly Layer[], what: string): Layer[] {
  const list = Array.isArray(layerOrLayers) ? [...layerOrLayers] : [layerOrLayers];
  list.forEach((l, i) => {
    if (!(l instanceof Layer)) throw new TypeError(`${what}: expected a Layer or an array of Layers, but item ${i} is ${pyRepr(l)}`);
  });
  return list as Layer[];
}

/** Layers a layer reads from: `inputLayers` (merge layers) or `inputLayer`. */
function inputsOf(layer: Layer): (Layer | null)[] {
  const multi = (layer as unknown as { inputLayers?: (Layer | null)[] }).inputLayers;
  return multi !== undefined ? multi : [layer.inputLayer];
}

/**
 * All layers below and including the given ones, in topological order (inputs first, no
 * duplicates), exactly as Lasagne's iterative depth-first `get_all_layers`. Layers in
 * `treatAsInput` are included but not expanded. A cycle (a layer whose inputs lead back to it, which
 * only a mutated `inputLayer` can make) is a `ValueError`.
 */
export function getAllLayers(layerOrLayers: Layer | readonly Layer[], treatAsInput: readonly Layer[] = []): Layer[] {
  const queue: (Layer | null)[] = layerList(layerOrLayers, 'getAllLayers');
  const seen = new Set<Layer>(treatAsInput);
  const done = new Set<Layer>();
  const result: Layer[] = [];
  while (queue.length > 0) {
    const layer = queue[0];
    if (layer === null) {
      queue.shift();
    } else if (!seen.has(layer)) {
      seen.add(layer);
      queue.unshift(...inputsOf(layer));
    } else {
      queue.shift();
      if (!done.has(layer)) {
        // Inputs first: an input still not done here lies on a path back to this layer.
        if (!treatAsInput.includes(layer) && inputsOf(layer).some((l) => l !== null && !done.has(l))) {
          throw new ValueError(
            `getAllLayers: the network has a cycle: the inputs of ${layer.name !== null ? `layer '${layer.name}'` : `a ${layer.constructor.name}`} lead back to it; a network must be acyclic`,
          );
        }
        result.push(layer);
        done.add(layer);
      }
    }
  }
  return result;
}

/**
 * Output shape(s) by pure shape inference, no device (Lasagne's `get_output_shape`). Without
 * `inputShapes`, the shapes the layers were built with. `inputShapes` is one shape (for a network
 * with a single InputLayer) or a Map from layers to shapes; an array of layers gives an array of
 * shapes.
 */
export function getOutputShape(layerOrLayers: Layer | readonly Layer[], inputShapes?: Shape | Map<Layer, Shape>): Shape | Shape[] {
  const list = layerList(layerOrLayers, 'getOutputShape');
  const many = Array.isArray(layerOrLayers);
  if (inputShapes === undefined || (inputShapes instanceof Map && inputShapes.size === 0)) {
    const shapes = list.map((l) => l.outputShape);
    return many ? shapes : shapes[0];
  }
  const all = new Map<Layer, Shape>();
  if (inputShapes instanceof Map) {
    for (const [k, v] of inputShapes) {
      if (!(k instanceof Layer)) throw new TypeError(`getOutputShape: inputShapes keys must be Layers, but got ${pyRepr(k)}`);
      all.set(k, v);
    }
  } else {
    const inputs = getAllLayers(list).filter(isInputLayer);
    if (inputs.length !== 1) {
      throw new ValueError(
        `get_output_shape() was called with a single input shape although the network has ${inputs.length} input layers; pass a Map from InputLayer to shape`,
      );
    }
    all.set(inputs[0], inputShapes);
  }
  for (const layer of getAllLayers(list, [...all.keys()])) {
    if (all.has(layer)) continue;
    if (isInputLayer(layer)) {
      throw new ValueError(`get_output_shape() was called without giving an input shape for the free-floating layer ${layer.name !== null ? `'${layer.name}'` : 'InputLayer'}. Please call it with a Map mapping this layer to an input shape.`);
    }
    const below = inputsOf(layer).map((l) => (l === null ? layer.inputShape : all.get(l)));
    all.set(layer, layer.getOutputShapeFor(below[0] as Shape));
  }
  const shapes = list.map((l) => all.get(l) as Shape);
  return many ? shapes : shapes[0];
}

/** Parameters of all layers in topological order, de-duplicated, filtered by tags. */
export function getAllParams(layerOrLayers: Layer | readonly Layer[], tags: Tags = {}): Param[] {
  const out: Param[] = [];
  const seen = new Set<Param>();
  for (const layer of getAllLayers(layerOrLayers)) {
    for (const p of layer.getParams(tags)) {
      if (!seen.has(p)) {
        seen.add(p);
        out.push(p);
      }
    }
  }
  return out;
}

/** The number of scalar parameter values (Lasagne's `count_params`). */
export function countParams(layerOrLayers: Layer | readonly Layer[], tags: Tags = {}): number {
  return getAllParams(layerOrLayers, tags).reduce((n, p) => n + shapeSize(p.shape), 0);
}

/** Copies of all parameter values, in getAllParams order (what `np.savez(path, *values)` saves). */
export function getAllParamValues(layerOrLayers: Layer | readonly Layer[], tags: Tags = {}): NDArray[] {
  return getAllParams(layerOrLayers, tags).map((p) => p.getValue());
}

/**
 * Sets all parameter values from a list in getAllParams order (as loaded by `loadNpz`). Every value
 * is checked before any is set: a wrong count or shape raises Lasagne's ValueError and changes nothing.
 */
export function setAllParamValues(layerOrLayers: Layer | readonly Layer[], values: readonly NDArray[], tags: Tags = {}): void {
  const params = getAllParams(layerOrLayers, tags);
  if (!Array.isArray(values)) throw new TypeError(`setAllParamValues: values must be an array of NDArrays, but got ${pyRepr(values)}`);
  if (values.length !== params.length) {
    throw new ValueError(`mismatch: got ${values.length} values to set ${params.length} parameters`);
  }
  const checked = values.map((v, i) => {
    const a = asNDArray(v, `values[${i}] (for parameter ${params[i].name})`);
    if (!sameShape(a.shape, params[i].shape)) {
      throw new ValueError(
        `mismatch: parameter has shape ${formatShape(params[i].shape)} but value to set has shape ${formatShape(a.shape)} (values[${i}], parameter ${params[i].name})`,
      );
    }
    return a;
  });
  params.forEach((p, i) => p.setValue(checked[i]));
}
