/**
 * Model files: `toJSON(outputLayer)` writes a network's architecture (classes, positional
 * arguments, options, layer names, initializers and nonlinearities by name) as a JSON-compatible
 * object; `fromJSON(json)` builds the same network again. Weights are not part of it: they travel
 * as `saveNpz(getAllParamValues(net))` bytes, exactly like Lasagne's `np.savez` files.
 *
 * Format, version 1 (also in the README):
 *
 * ```json
 * { "format": "lasagne-webgpu-model", "version": 1,
 *   "layers": [
 *     { "class": "InputLayer", "args": [[null, 3, 32, 32]], "options": { "name": "input" } },
 *     { "class": "Conv2DCCLayer", "incoming": 0, "args": [32, [5, 5]],
 *       "options": { "pad": [2, 2], "W": { "class": "GlorotUniform", "options": { "gain": 1, "c01b": false } },
 *                    "nonlinearity": { "ref": "rectify" }, ... } } ],
 *   "output": 1 }
 * ```
 *
 * - `layers` in dependency order (every layer after its input); `incoming` is the index of an
 *   earlier layer, or a shape array when the layer was built on a shape; InputLayer has none.
 * - `output` is the index of the output layer, or `outputs` a list of them (toJSON given a list).
 * - A value is JSON (null, boolean, number, string, array), `{ "ref": name }` (a registered function
 *   such as `rectify`, or a registered class itself, e.g. Glorot's `Normal`), or
 *   `{ "class": name, "args": [...], "options": {...} }` (a new instance of a registered class).
 * - A parameter created from an initializer is written as that initializer; one created from an
 *   array or a function is left out (the layer's default initializer makes it, and the weights file
 *   supplies its value).
 */
import { ValueError } from '../errors.js';
import { closestKey } from '../options.js';
import {
  layerEntry, layerEntryOf, layerNames, valueClassOf, valueEntry, valueEntryOf, valueNames,
} from './registry.js';
import { Initializer } from '../init.js';
import { Layer, Param, initialSpecs } from './base.js';
import { getAllLayers } from './helper.js';
// The built-in layers register themselves when their modules run; naming the modules here keeps
// them in a bundle that only uses fromJSON (the package is marked free of side effects).
import * as input from './input.js';
import * as cudaConvnet from './cuda_convnet.js';
import * as dense from './dense.js';
import * as noise from './noise.js';
import * as special from './special.js';
import * as shape from './shape.js';
import * as pool from './pool.js';

const BUILT_IN: readonly object[] = [input, cudaConvnet, dense, noise, special, shape, pool];

/** The `format` field of a model file. */
export const MODEL_FORMAT = 'lasagne-webgpu-model';
/** The version `toJSON` writes and the only one `fromJSON` reads. */
export const MODEL_VERSION = 1;

/** A JSON value of a model file. */
export type ModelValue = null | boolean | number | string | ModelValue[] | { [key: string]: ModelValue };

/** One layer of a model file. */
export interface ModelLayer {
  class: string;
  incoming?: number | (number | null)[];
  args?: ModelValue[];
  options?: Record<string, ModelValue>;
}

/** A model file: see the module documentation for the format. */
export interface ModelJSON {
  format: typeof MODEL_FORMAT;
  version: number;
  layers: ModelLayer[];
  output?: number;
  outputs?: number[];
}

/** Marks a value that is left out of the file (a parameter given as an array or a function). */
const OMIT = Symbol('omit');

function describe(layer: Layer, i: number): string {
  return `layer ${i} (${layer.name !== null ? `'${layer.name}', ` : ''}${layer.constructor.name})`;
}

function encodeInstance(v: object, where: string): ModelValue {
  // initializers are instances of their class; nonlinearity instances are functions whose
  // prototype is their class's prototype: either way the prototype's constructor is the class
  const entry = valueClassOf(Object.getPrototypeOf(v)?.constructor);
  if (entry === undefined) {
    throw new ValueError(
      `toJSON: ${where} is ${String(v)}, which is not a registered initializer or nonlinearity; register its class with layers.registerValue(name, Class, { options })`,
    );
  }
  const attr = v as Record<string, unknown>;
  const out: { [key: string]: ModelValue } = { class: entry.name };
  if (entry.args.length > 0) out.args = entry.args.map((a) => encodeValue(attr[a], `${where} argument '${a}'`) as ModelValue);
  const options: Record<string, ModelValue> = {};
  for (const o of entry.options) options[o] = encodeValue(attr[o], `${where} option '${o}'`) as ModelValue;
  out.options = options;
  return out;
}

function encodeValue(v: unknown, where: string): ModelValue | typeof OMIT {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ValueError(`toJSON: ${where} is ${v}, which JSON cannot hold`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => encodeValue(x, `${where}[${i}]`) as ModelValue);
  if (v instanceof Param) {
    const spec = initialSpecs.get(v);
    if (typeof spec === 'number') return spec;
    if (spec instanceof Initializer) return encodeInstance(spec, where);
    // arrays and functions are values, not architecture: the weights file carries them
    return OMIT;
  }
  if (v instanceof Layer) throw new ValueError(`toJSON: ${where} is a Layer, which a model file cannot hold as an option`);
  if (typeof v === 'function' || typeof v === 'object') {
    const plain = valueEntryOf(v);
    if (plain !== undefined) return { ref: plain.name };
    const cls = valueClassOf(v);
    if (cls !== undefined) return { ref: cls.name };
    return encodeInstance(v as object, where);
  }
  throw new ValueError(`toJSON: ${where} is ${String(v)}, which a model file cannot hold`);
}

/**
 * The architecture of the network ending in `outputLayer` (or in each of a list of layers) as a
 * JSON-compatible object (`JSON.stringify` it to save). Weights are not included: save them with
 * `saveNpz(getAllParamValues(net))`.
 *
 * ```ts
 * const model = layers.toJSON(net);
 * const weights = saveNpz(getAllParamValues(net));
 * const copy = layers.fromJSON(model);              // same shapes, params, plan digest
 * setAllParamValues(copy, loadNpz(weights));
 * ```
 *
 * @throws ValueError for a layer, initializer or nonlinearity whose class is not registered.
 */
export function toJSON(outputLayer: Layer | readonly Layer[]): ModelJSON {
  const many = Array.isArray(outputLayer);
  const outputs = many ? [...(outputLayer as Layer[])] : [outputLayer as Layer];
  outputs.forEach((l, i) => {
    if (!(l instanceof Layer)) throw new TypeError(`toJSON: expected a Layer or an array of Layers, but item ${i} is ${typeof l}`);
  });
  const all = getAllLayers(outputs);
  const index = new Map<Layer, number>(all.map((l, i) => [l, i]));
  const layers = all.map((layer, i): ModelLayer => {
    const entry = layerEntryOf(layer.constructor);
    if (entry === undefined) {
      throw new ValueError(
        `toJSON: ${describe(layer, i)} is not a registered layer class; register it with layers.registerLayer('${layer.constructor.name}', ${layer.constructor.name}, { args, options })`,
      );
    }
    const attr = layer as unknown as Record<string, unknown>;
    const where = describe(layer, i);
    const out: ModelLayer = { class: entry.name };
    if (entry.incoming) out.incoming = layer.inputLayer !== null ? (index.get(layer.inputLayer) as number) : [...(layer.inputShape ?? [])];
    if (entry.args.length > 0) out.args = entry.args.map((a) => encodeValue(attr[a], `${where} argument '${a}'`) as ModelValue);
    const options: Record<string, ModelValue> = {};
    for (const o of entry.options) {
      const v = encodeValue(attr[o], `${where} option '${o}'`);
      if (v !== OMIT) options[o] = v;
    }
    out.options = options;
    return out;
  });
  const model: ModelJSON = { format: MODEL_FORMAT, version: MODEL_VERSION, layers };
  if (many) model.outputs = outputs.map((l) => index.get(l) as number);
  else model.output = index.get(outputs[0]) as number;
  return model;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function checkKeys(obj: Record<string, unknown>, valid: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!valid.includes(key)) {
      const near = closestKey(key, valid);
      throw new ValueError(`fromJSON: ${where} has the unknown key '${key}'; ${near ? `did you mean '${near}'?` : `valid keys are ${valid.map((v) => `'${v}'`).join(', ')}`}`);
    }
  }
}

function unknownName(kind: string, name: unknown, known: string[], where: string): ValueError {
  const near = typeof name === 'string' ? closestKey(name, known) : null;
  return new ValueError(
    `fromJSON: ${where} names the unknown ${kind} ${JSON.stringify(name)}` +
      (near ? `; did you mean '${near}'?` : `; known ${kind}es are ${known.map((k) => `'${k}'`).join(', ')}`),
  );
}

function decodeValue(j: unknown, where: string): unknown {
  if (j === null || typeof j === 'boolean' || typeof j === 'string' || typeof j === 'number') return j;
  if (Array.isArray(j)) return j.map((x, i) => decodeValue(x, `${where}[${i}]`));
  if (!isObject(j)) throw new ValueError(`fromJSON: ${where} is not a JSON value`);
  if ('ref' in j) {
    checkKeys(j, ['ref'], where);
    const entry = valueEntry(j.ref as string);
    if (entry === undefined) throw unknownName('class or function', j.ref, valueNames(), where);
    return entry.value;
  }
  if (!('class' in j)) throw new ValueError(`fromJSON: ${where} is an object without 'class' or 'ref'`);
  checkKeys(j, ['class', 'args', 'options'], where);
  const entry = valueEntry(j.class as string);
  if (entry === undefined || !entry.isClass) throw unknownName('class', j.class, valueNames(), where);
  const args = j.args === undefined ? [] : j.args;
  if (!Array.isArray(args)) throw new ValueError(`fromJSON: ${where}.args must be an array`);
  if (j.options !== undefined && !isObject(j.options)) throw new ValueError(`fromJSON: ${where}.options must be an object`);
  const Cls = entry.value as new (...a: unknown[]) => unknown;
  return new Cls(...args.map((a, i) => decodeValue(a, `${where}.args[${i}]`)), decodeOptions(j.options, where));
}

function decodeOptions(options: unknown, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (options === undefined) return out;
  for (const [k, v] of Object.entries(options as Record<string, unknown>)) out[k] = decodeValue(v, `${where} option '${k}'`);
  return out;
}

/**
 * Builds the network a model file describes (see `toJSON`), with fresh initial values from its
 * initializers (load the weights next: `setAllParamValues(net, loadNpz(bytes))`). `json` is the
 * object `toJSON` returned or its JSON text. Returns the output layer, or a list of them when the
 * file has `outputs`.
 *
 * @throws ValueError for a file that is not a model file, an unknown version, class, initializer or
 *   nonlinearity name; the layers' own errors for bad arguments (an unknown option is the
 *   constructor's TypeError, `unknown option 'x' for Conv2DCCLayer; did you mean ...`).
 */
export function fromJSON(json: ModelJSON | string): Layer | Layer[] {
  if (BUILT_IN.length === 0) throw new ValueError('fromJSON: the built-in layer classes are missing from this build');
  let model: unknown = json;
  if (typeof json === 'string') {
    try {
      model = JSON.parse(json);
    } catch (e) {
      throw new ValueError(`fromJSON: the text is not JSON (${(e as Error).message})`);
    }
  }
  if (!isObject(model)) throw new ValueError(`fromJSON: expected a model object or its JSON text, but got ${model === null ? 'null' : typeof model}`);
  if (model.format !== MODEL_FORMAT) {
    throw new ValueError(`fromJSON: not a lasagne-webgpu model file: format must be '${MODEL_FORMAT}', but format=${JSON.stringify(model.format)}`);
  }
  if (model.version !== MODEL_VERSION) {
    throw new ValueError(
      `fromJSON: this lasagne-webgpu reads model files of version ${MODEL_VERSION}, but version=${JSON.stringify(model.version)}` +
        (typeof model.version === 'number' && model.version > MODEL_VERSION ? '; upgrade lasagne-webgpu to read it' : ''),
    );
  }
  checkKeys(model, ['format', 'version', 'layers', 'output', 'outputs'], 'the model');
  if (!Array.isArray(model.layers) || model.layers.length === 0) throw new ValueError('fromJSON: the model must have a non-empty array of layers');
  const built: Layer[] = [];
  model.layers.forEach((l: unknown, i: number) => {
    const where = `layer ${i}`;
    if (!isObject(l)) throw new ValueError(`fromJSON: ${where} must be an object`);
    checkKeys(l, ['class', 'incoming', 'args', 'options'], where);
    const entry = layerEntry(l.class as string);
    if (entry === undefined) throw unknownName('layer class', l.class, layerNames(), where);
    const ctorArgs: unknown[] = [];
    if (entry.incoming) {
      const inc = l.incoming;
      if (typeof inc === 'number') {
        if (!Number.isInteger(inc) || inc < 0 || inc >= i) {
          throw new ValueError(`fromJSON: ${where} (${entry.name}) requires incoming to be the index of an earlier layer (0 to ${i - 1}), but incoming=${inc}`);
        }
        ctorArgs.push(built[inc]);
      } else if (Array.isArray(inc)) ctorArgs.push(inc);
      else throw new ValueError(`fromJSON: ${where} (${entry.name}) requires incoming (a layer index or a shape), but incoming=${JSON.stringify(inc)}`);
    } else if (l.incoming !== undefined) {
      throw new ValueError(`fromJSON: ${where} (${entry.name}) takes no incoming, but incoming=${JSON.stringify(l.incoming)}`);
    }
    const args = l.args === undefined ? [] : l.args;
    if (!Array.isArray(args) || args.length !== entry.args.length) {
      throw new ValueError(`fromJSON: ${where} (${entry.name}) requires args to be an array of ${entry.args.length} (${entry.args.join(', ')}), but args=${JSON.stringify(l.args)}`);
    }
    args.forEach((a, k) => ctorArgs.push(decodeValue(a, `${where} argument '${entry.args[k]}'`)));
    if (l.options !== undefined && !isObject(l.options)) throw new ValueError(`fromJSON: ${where} (${entry.name}) options must be an object`);
    ctorArgs.push(decodeOptions(l.options, `${where} (${entry.name})`));
    const Cls = entry.cls as new (...a: unknown[]) => Layer;
    built.push(new Cls(...ctorArgs));
  });
  const pick = (k: unknown, what: string): Layer => {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= built.length) {
      throw new ValueError(`fromJSON: ${what} must be a layer index (0 to ${built.length - 1}), but ${what}=${JSON.stringify(k)}`);
    }
    return built[k];
  };
  if (model.outputs !== undefined) {
    if (model.output !== undefined) throw new ValueError("fromJSON: the model has both 'output' and 'outputs'; keep one");
    if (!Array.isArray(model.outputs) || model.outputs.length === 0) throw new ValueError('fromJSON: outputs must be a non-empty array of layer indices');
    return model.outputs.map((k: unknown) => pick(k, 'outputs'));
  }
  return pick(model.output, 'output');
}
