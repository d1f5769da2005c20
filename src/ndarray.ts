import { ValueError } from './errors.js';

/** A shape as in Lasagne: `null` is Python's `None` (unknown until run time). */
export type Shape = (number | null)[];

/** A dense float32 tensor in C order. */
export interface NDArray {
  data: Float32Array;
  shape: number[];
}

/** Formats a shape the way Python prints a tuple: `(3, 4)`, `(5,)`, `(None, 16)`. */
export function formatShape(shape: readonly (number | null)[]): string {
  const items = shape.map((d) => (d === null ? 'None' : String(d)));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/**
 * The most elements one tensor or parameter may have: 2^28 (1 GiB of float32). Every shape that
 * would be allocated (parameters, initializer samples, planned tensors, `.npy` arrays) is checked
 * against it first (`ValueError`), so a small argument can never ask for a huge allocation. It
 * also keeps every byte size and offset within the 4 GiB a WebAssembly memory and a WebGPU buffer
 * binding can address.
 */
export const MAX_ELEMENTS = 2 ** 28;

/** Most dimensions of a shape (numpy's NPY_MAXDIMS). */
export const MAX_RANK = 64;

/**
 * Checks that a concrete shape has at most MAX_ELEMENTS elements (exactly, without overflow) and
 * returns the count; `ValueError` naming `what` otherwise.
 */
export function checkElements(shape: readonly number[], what: string): number {
  let n = 1;
  for (const d of shape) n *= d;
  // (a product above 2^53 is no longer exact, but then it is far above the limit anyway)
  if (n > MAX_ELEMENTS) {
    throw new ValueError(`${what} would have ${n} elements (shape ${formatShape(shape)}), more than the limit of 2^28 = ${MAX_ELEMENTS} elements per tensor`);
  }
  return n;
}

/** The number of elements of a concrete shape (1 for `[]`). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an Array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === 'object') return `an object with keys [${Object.keys(value as object).join(', ')}]`;
  return `${typeof value} ${String(value)}`;
}

/** A copy of a shape argument, each dimension read once, checked to be non-negative integers. */
function checkConcreteShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape)) {
    throw new ValueError(`${what}: shape must be an array of non-negative integers, but got ${describe(shape)}`);
  }
  if (shape.length > MAX_RANK) {
    throw new ValueError(`${what}: shape must have at most ${MAX_RANK} dimensions, but has ${shape.length}`);
  }
  const dims: unknown[] = Array.from(shape as unknown[]);
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new ValueError(`${what}: shape must be an array of non-negative integers, but shape=[${dims.map(String).join(', ')}]`);
    }
  }
  return dims as number[];
}

/**
 * Builds an NDArray from float32 data and a shape, checking that `data.length` equals the product
 * of `shape`. `data` must already be a Float32Array: nothing is converted silently.
 */
export function ndarray(data: Float32Array, shape: readonly number[]): NDArray {
  return asNDArray({ data, shape: [...shape] }, 'ndarray');
}

/**
 * Checks that `value` is an NDArray (or a plain object of that form) and returns it as a new
 * `{ data, shape }` object: `data` is the same Float32Array, `shape` a copy. `data` and `shape` are
 * each read once, so a getter cannot answer the check with one value and the caller with another.
 * `what` names the argument in the error. A Float64Array, a number array, a missing shape or a
 * length that does not match the shape raise `ValueError`.
 */
export function asNDArray(value: unknown, what: string): NDArray {
  if (value === null || typeof value !== 'object' || !('data' in value) || !('shape' in value)) {
    throw new ValueError(`${what} must be an NDArray { data: Float32Array, shape: number[] }, but got ${describe(value)}`);
  }
  const { data, shape } = value as { data: unknown; shape: unknown };
  if (!(data instanceof Float32Array)) {
    throw new ValueError(
      `${what}.data must be a Float32Array, but got ${describe(data)}; convert it explicitly, e.g. Float32Array.from(values)`,
    );
  }
  const dims = checkConcreteShape(shape, what);
  const n = shapeSize(dims);
  if (n !== data.length) {
    throw new ValueError(`${what}: data has ${data.length} elements but shape ${formatShape(dims)} needs ${n}`);
  }
  return { data, shape: dims };
}

/** A deep copy (new buffer, new shape array). */
export function copyNDArray(a: NDArray): NDArray {
  return { data: new Float32Array(a.data), shape: [...a.shape] };
}

/** An NDArray of the given shape filled with `value`. */
export function full(shape: readonly number[], value: number): NDArray {
  const data = new Float32Array(checkElements(shape, 'an array'));
  if (value !== 0) data.fill(value);
  return { data, shape: [...shape] };
}
