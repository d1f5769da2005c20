import { ValueError } from '../errors.js';
import { identity, isNonlinearity, type Nonlinearity } from '../nonlinearities.js';
import type { LowerContext, Rotation } from './lower.js';

/** Python's repr of a value, for messages that quote Lasagne's wording (`None`, `'foo'`, `(3, 5)`). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return value.length === 1 ? `(${pyRepr(value[0])},)` : `(${value.map(pyRepr).join(', ')})`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return `<function ${value.name || 'anonymous'}>`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A list repr in Python's square-bracket form, for arguments given as arrays (`[3, 5]`). */
function argRepr(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return pyRepr(value);
}

/**
 * Lasagne's `as_tuple(x, N, t=int)`: a single value becomes N copies, an array must have length N.
 * Every element must be an integer (TypeError `expected a single value or an iterable of int, got
 * {x} instead`); a wrong length is a ValueError. A string counts as an iterable of characters, as
 * in Python, so it fails the type check.
 */
export function asIntTuple(x: unknown, n: number): number[] {
  const items: unknown[] = typeof x === 'string' ? [...x] : Array.isArray(x) ? x : [x];
  const single = !Array.isArray(x) && typeof x !== 'string';
  const values = single ? new Array<unknown>(n).fill(x) : items;
  if (!values.every((v) => typeof v === 'number' && Number.isInteger(v))) {
    throw new TypeError(`expected a single value or an iterable of int, got ${argRepr(x)} instead`);
  }
  if (values.length !== n) {
    throw new ValueError(`expected a single value or an iterable with length ${n}, got ${argRepr(x)} instead`);
  }
  return values as number[];
}

/** A boolean option: anything but `true`/`false` is a TypeError naming the option. */
export function asBool(value: unknown, option: string, owner: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${owner} option '${option}' must be a boolean, but got ${pyRepr(value)}`);
  return value;
}

/** An integer argument: anything but an integer is a TypeError naming it. */
export function asInt(value: unknown, option: string, owner: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${owner} argument '${option}' must be an int, but got ${pyRepr(value)}`);
  }
  return value;
}

/** Lasagne's `nonlinearity=None` means identity; anything else must be one of ours (kernels know it). */
export function checkNonlinearity(value: unknown, owner: string): Nonlinearity {
  if (value === null) return identity;
  if (isNonlinearity(value)) return value;
  throw new TypeError(
    `${owner} option 'nonlinearity' must be one of lasagne-webgpu's nonlinearities (e.g. nonlinearities.rectify, ` +
      `new nonlinearities.LeakyRectify({ leakiness: 0.1 })) or null for identity, but got ${pyRepr(value)}; ` +
      `arbitrary functions cannot run inside the GPU and WASM kernels`,
  );
}

/**
 * The rotation an elementwise layer computes in: one of its input that exists already (rotation 1,
 * batch last, when there is one), so that no transpose is emitted for it.
 */
export function existingRotation(ctx: LowerContext): Rotation {
  const have = ctx.inputRotations();
  return have.includes(1) ? 1 : have[0];
}

/** The batch size of a layer's output: its length along the batch axis (1 when it has none). */
export function batchOf(ctx: LowerContext): number {
  return ctx.batchAxis >= 0 ? ctx.outputShape[ctx.batchAxis] : 1;
}
