import { NotImplementedError, ValueError } from '../errors.js';
import { MAX_RANK, asNDArray, checkElements, copyNDArray, formatShape, shapeSize, type NDArray, type Shape } from '../ndarray.js';
import { Initializer, takeFreshSample } from '../init.js';
import { isPlainObject } from '../options.js';
import { pyRepr } from './util.js';
import type { LowerContext } from './lower.js';

/** Tags of a parameter (`trainable`, `regularizable`, or your own), as in Lasagne's `add_param`. */
export type Tags = Record<string, boolean>;

/**
 * What may initialise a parameter, as in Lasagne's `create_param`: an initializer
 * (`new init.GlorotUniform()`), a function `(shape) => NDArray` (Lasagne's callable), an NDArray
 * of exactly the parameter's shape, or a number (Lasagne turns it into a 0-d array, so it only
 * fits a parameter of shape `[]`; use `new init.Constant({ val })` to fill a larger one).
 */
export type ParamSpec = Initializer | ((shape: number[]) => NDArray) | NDArray | number;

/**
 * A parameter: a named float32 tensor owned by its layer (Lasagne's Theano shared variable).
 * `getValue()` returns a copy; `setValue()` checks the shape.
 */
export class Param {
  readonly name: string;
  readonly shape: readonly number[];
  #value: NDArray;
  #version = 0;

  /** @internal Layers create parameters through `Layer.addParam`. */
  constructor(name: string, value: NDArray) {
    this.name = name;
    this.shape = Object.freeze([...value.shape]);
    this.#value = value;
  }

  /** A copy of the current value. */
  getValue(): NDArray {
    return copyNDArray(this.#value);
  }

  /**
   * Replaces the value (copied). The shape must equal `shape` and the data must be a Float32Array,
   * else `ValueError`; nothing is converted.
   */
  setValue(value: NDArray): void {
    const v = asNDArray(value, `value for parameter ${this.name}`);
    if (!sameShape(v.shape, this.shape)) {
      throw new ValueError(`mismatch: parameter ${this.name} has shape ${formatShape(this.shape)} but value to set has shape ${formatShape(v.shape)}`);
    }
    this.#value = copyNDArray(v);
    this.#version++;
  }

  /** Increases on every `setValue`, so a compiled network knows when to upload again. */
  get version(): number {
    return this.#version;
  }

  /** @internal The stored value without a copy (read-only by convention, for backends). */
  get valueRef(): NDArray {
    return this.#value;
  }

  toString(): string {
    return this.name;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Checks a parameter spec against a shape without sampling anything, so that a layer can validate
 * all of its arguments before it draws random numbers or builds a parameter (nothing is
 * constructed half-way). Mirrors create_param's errors (lasagne/utils.py L323-414).
 */
export function checkParamSpec(spec: unknown, shape: readonly (number | null)[], name: string): void {
  if (shape.some((d) => d === null)) {
    throw new TypeError(
      `Cannot create param with an unknown (None) shape dimension. Tried to create param with shape=${formatShape(shape)}, name=${pyRepr(name)}`,
    );
  }
  if ((shape as number[]).some((d) => d <= 0)) {
    throw new ValueError(
      `Cannot create param with a non-positive shape dimension. Tried to create param with shape=${formatShape(shape)}, name=${pyRepr(name)}`,
    );
  }
  checkElements(shape as number[], `parameter ${name}`);
  if (spec instanceof Initializer || typeof spec === 'function') return;
  if (typeof spec === 'number') {
    if (shape.length !== 0) {
      throw new ValueError(
        `cannot initialize parameter ${name}: the provided numpy array has shape (), should be ${formatShape(shape)}; ` +
          `to fill it with ${spec}, pass new init.Constant({ val: ${spec} })`,
      );
    }
    return;
  }
  if (spec !== null && typeof spec === 'object' && 'data' in spec && 'shape' in spec) {
    const a = asNDArray(spec, `initial value of parameter ${name}`);
    if (!sameShape(a.shape, shape as number[])) {
      throw new ValueError(
        `cannot initialize parameter ${name}: the provided numpy array has shape ${formatShape(a.shape)}, should be ${formatShape(shape)}`,
      );
    }
    return;
  }
  throw new TypeError(
    `cannot initialize parameter ${name}: the provided value ${pyRepr(spec)} is not an NDArray, a number, an Initializer, or a function`,
  );
}

/** Lasagne's create_param after checkParamSpec: the initial value as a fresh NDArray. */
export function createParamValue(spec: ParamSpec, shape: readonly number[], name: string): NDArray {
  checkParamSpec(spec, shape, name);
  let value: unknown;
  if (spec instanceof Initializer) value = spec.sample([...shape]);
  else if (typeof spec === 'function') value = spec([...shape]);
  else if (typeof spec === 'number') return { data: Float32Array.of(spec), shape: [] };
  else value = spec;
  const a = asNDArray(value, `initial value of parameter ${name}`);
  if (!sameShape(a.shape, shape)) {
    throw new ValueError(
      `cannot initialize parameter ${name}: the provided numpy array has shape ${formatShape(a.shape)}, should be ${formatShape(shape)}`,
    );
  }
  // (an initializer's new sample, made by a built-in one just now, is kept as it is; anything the
  // caller may hold is copied)
  return spec instanceof Initializer && takeFreshSample(a.data, spec) ? a : copyNDArray(a);
}

/**
 * @internal What each parameter was created from (an initializer, an array, a function, a number),
 * so that `layers.toJSON` can name its initializer.
 */
export const initialSpecs = new WeakMap<Param, ParamSpec>();

/** Non-null, integer dimensions, for a shape argument given as an array (Lasagne's tuple). */
export function checkShapeArgument(shape: unknown, what: string): Shape {
  if (!Array.isArray(shape)) {
    throw new TypeError(`${what} must be a Layer or a shape array of integers and nulls, but got ${pyRepr(shape)}`);
  }
  if (shape.length > MAX_RANK) throw new ValueError(`${what} must have at most ${MAX_RANK} dimensions, but has ${shape.length}`);
  for (const d of shape) {
    if (d !== null && (typeof d !== 'number' || !Number.isInteger(d))) {
      throw new TypeError(`${what} must contain only integers and null (None), but got ${pyRepr(shape)}`);
    }
  }
  return [...shape] as Shape;
}

/**
 * Base class of all layers (lasagne.layers.base.Layer). `incoming` is a Layer or a shape array.
 * Subclasses override `getOutputShapeFor` and `lower` (their kernel steps, the counterpart of
 * Lasagne's `get_output_for`), and describe themselves for plans and serialisation through `config()`.
 */
export class Layer {
  /** The layer's name, or null. */
  readonly name: string | null;
  /** The layer below, or null when `incoming` was a shape (and for InputLayer). */
  readonly inputLayer: Layer | null;
  /** The shape this layer receives (null for InputLayer, which has no input). */
  readonly inputShape: Shape | null;
  /** Parameters in registration order, each with its set of tags. */
  readonly params: Map<Param, Set<string>> = new Map();

  constructor(incoming: Layer | Shape, name: string | null = null) {
    if (name !== null && typeof name !== 'string') throw new TypeError(`layer name must be a string or null, but got ${pyRepr(name)}`);
    if (incoming instanceof Layer) {
      this.inputLayer = incoming;
      this.inputShape = incoming.outputShape;
    } else {
      this.inputLayer = null;
      this.inputShape = checkShapeArgument(incoming, 'incoming');
    }
    this.name = name;
    if (this.inputShape.some((d) => d !== null && d <= 0)) {
      throw new ValueError(
        `Cannot create Layer with a non-positive input_shape dimension. input_shape=${formatShape(this.inputShape)}, self.name=${pyRepr(name)}`,
      );
    }
  }

  /** The output shape for the input shape this layer was built on. */
  get outputShape(): Shape {
    return this.getOutputShapeFor(this.inputShape as Shape);
  }

  /** The output shape for a given input shape (identity in the base class). */
  getOutputShapeFor(inputShape: Shape): Shape {
    return [...inputShape];
  }

  /**
   * Parameters in registration order, filtered by tags as in Lasagne: keep those that have every
   * tag given as `true` and none given as `false` (`{ trainable: true }`, `{ regularizable: false }`).
   */
  getParams(tags: Tags = {}): Param[] {
    const { only, exclude } = splitTags(tags);
    const out: Param[] = [];
    for (const [param, own] of this.params) {
      if (only.every((t) => own.has(t)) && !exclude.some((t) => own.has(t))) out.push(param);
    }
    return out;
  }

  /**
   * Registers a parameter (Lasagne's `add_param`): creates its value from `spec` and tags it
   * `trainable` and `regularizable` unless a tag is given as false. The name is prefixed with the
   * layer's name (`conv1.W`).
   */
  addParam(spec: ParamSpec, shape: readonly number[], name: string, tags: Tags = {}): Param {
    const fullName = this.name !== null ? `${this.name}.${name}` : name;
    const value = createParamValue(spec, shape, fullName);
    const param = new Param(fullName, value);
    initialSpecs.set(param, spec);
    const own = new Set<string>();
    const merged: Tags = { trainable: true, regularizable: true, ...tags };
    for (const [tag, on] of Object.entries(merged)) if (on) own.add(tag);
    this.params.set(param, own);
    return param;
  }

  /**
   * Emits this layer's kernel steps for the compiler (src/compile/plan.ts), which gives `ctx`: the
   * counterpart of Lasagne's `get_output_for`. The base class has none.
   */
  lower(ctx: LowerContext): void {
    void ctx;
    throw new NotImplementedError(`${this.constructor.name} has no kernel: networks can use InputLayer and the cuda-convnet layers`);
  }

  /**
   * Whether this layer reads its input with the batch on the last axis (c01b) rather than the first
   * (bc01): where the compiler puts a batch size given for an input of unknown batch.
   */
  readsBatchLast(): boolean {
    return false;
  }

  /**
   * The batch axis of this layer's output, given its input's (the same axis unless the layer moves
   * it, as the shuffle layers do). The compiler keeps it per tensor so backends never guess it.
   */
  outputBatchAxis(inputBatchAxis: number): number {
    return inputBatchAxis;
  }

  /** The class name and options that rebuild this layer (for plans, digests and serialisation). */
  config(): Record<string, unknown> {
    return {};
  }
}

/** Whether a layer is where data enters a network (an InputLayer: no layer below it, no input shape). */
export function isInputLayer(layer: Layer): boolean {
  return layer.inputLayer === null && layer.inputShape === null;
}

/**
 * A parameter is shaped for the input its layer was built on; planning the layer for other input
 * shapes must not silently read it with the wrong shape.
 */
export function checkParamShape(label: string, what: string, param: Param, want: readonly number[]): void {
  const have = param.shape;
  if (!sameShape(have, want)) {
    throw new ValueError(
      `plan: ${label}.${what} has shape ${formatShape(have)} but these input shapes need ${formatShape(want)}; ` +
        `build the layer on an input of the shape you plan for`,
    );
  }
}

function splitTags(tags: Tags): { only: string[]; exclude: string[] } {
  // (own properties of a plain object only: a Map's entries would be silently ignored)
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags) || !isPlainObject(tags)) {
    throw new TypeError(`tags must be an object like { trainable: true }, but got ${tags instanceof Map ? 'a Map' : pyRepr(tags)}`);
  }
  const only: string[] = [];
  const exclude: string[] = [];
  for (const [tag, on] of Object.entries(tags)) {
    if (typeof on !== 'boolean') throw new TypeError(`tag '${tag}' must be true or false, but got ${pyRepr(on)}`);
    (on ? only : exclude).push(tag);
  }
  return { only, exclude };
}

export { shapeSize };
