/**
 * The only importer of build/planner.wasm. It instantiates the module once, when the package is
 * imported (synchronously, no GPU, no fetch: the bytes are embedded), marshals integers across
 * the boundary and turns error codes into Lasagne's exceptions (src/planner/errors.ts).
 */
import { ValueError } from '../errors.js';
import { PLANNER_WASM_BASE64, CODES, PAD_MODES } from './planner_bytes.generated.js';
import type { PlannerExports } from './planner_abi.js';
import { plannerError, type ErrorContext } from './errors.js';

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// Synchronous on purpose: the module is 3.5 KB (browsers allow synchronous compiles of that size on
// the main thread), layer construction must be synchronous, and an awaited instantiate at import
// can deadlock Node under load (nodejs/node#54918).
const instance = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(PLANNER_WASM_BASE64)), {});
/** The raw exports (for the planner's own tests). */
export const wasm = instance.exports as unknown as PlannerExports;

/** Largest length, size, pad or stride the planner accepts; keeps its i32 arithmetic exact. */
export const MAX_LENGTH = 2 ** 28;

/** Lasagne's pad argument after normalisation: an int per axis, or one of the string modes. */
export type PadSpec = number | 'valid' | 'full' | 'same';

/** The pad-mode codes, generated from assembly/padding.ts. */
export { PAD_MODES };

/** Mode code and integer value of a pad spec; an unknown spec raises Lasagne's `Invalid pad: ...`. */
export function padMode(pad: unknown): [mode: number, value: number] {
  if (pad === 'valid' || pad === 'full' || pad === 'same') return [PAD_MODES[pad], 0];
  if (typeof pad === 'number' && Number.isInteger(pad) && Math.abs(pad) <= MAX_LENGTH) return [PAD_MODES.int, pad];
  throw new ValueError(`Invalid pad: ${typeof pad === 'string' ? pad : JSON.stringify(pad)}`);
}

/** Raises the error for a negative code; returns non-negative results unchanged. */
export function check(code: number, context: ErrorContext): number {
  if (code < 0) throw plannerError(code, context);
  return code;
}

/** `null` (None) -> 0 across the boundary; other lengths must be integers in [1, MAX_LENGTH]. */
function encodeLength(length: number | null, what: string): number {
  if (length === null) return 0;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 1 || length > MAX_LENGTH) {
    throw new ValueError(`${what} must be a positive integer at most 2^28 or null, but got ${String(length)}`);
  }
  return length;
}

function encodeSize(value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > MAX_LENGTH) {
    throw new ValueError(`${what} must be an integer of magnitude at most 2^28, but got ${String(value)}`);
  }
  return value;
}

const decodeLength = (n: number): number | null => (n === 0 ? null : n);

/**
 * Lasagne's `conv_output_length(input_length, filter_size, stride, pad)`:
 * `ceil(L / stride)` with `L = I - k + 1` (valid, 0), `I + k - 1` (full), `I` (same), `I + 2p - k + 1`.
 * `null` in, `null` out. An empty result raises ValueError.
 */
export function convOutputLength(inputLength: number | null, filterSize: number, stride: number, pad: PadSpec, layer = 'conv_output_length'): number | null {
  const [mode, value] = padMode(pad);
  const code = wasm.conv_output_length(
    encodeLength(inputLength, 'input_length'), encodeSize(filterSize, 'filter_size'), encodeSize(stride, 'stride'), mode, value,
  );
  return decodeLength(check(code, {
    layer, filterSize: [filterSize, filterSize], stride: [stride, stride], pad,
    detail: `input length ${inputLength} with filter_size=${filterSize}, stride=${stride}, pad=${JSON.stringify(pad)}`,
  }));
}

/** Lasagne's `conv_input_length(output_length, filter_size, stride, pad)`: `(out - 1) * s - 2p + k`. */
export function convInputLength(outputLength: number | null, filterSize: number, stride: number, pad: PadSpec): number | null {
  const [mode, value] = padMode(pad);
  const code = wasm.conv_input_length(
    encodeLength(outputLength, 'output_length'), encodeSize(filterSize, 'filter_size'), encodeSize(stride, 'stride'), mode, value,
  );
  return decodeLength(check(code, { layer: 'conv_input_length', filterSize: [filterSize, filterSize], stride, pad, detail: `output length ${outputLength}` }));
}

/** cuda-convnet's untruncated module count along one axis, `ceil((I + 2p - k) / s) + 1`. */
export function convGridLength(inputLength: number | null, filterSize: number, stride: number, pad: number, layer = 'Conv2DCCLayer'): number | null {
  const code = wasm.conv_grid_length(encodeLength(inputLength, 'input_length'), encodeSize(filterSize, 'filter_size'), encodeSize(stride, 'stride'), encodeSize(pad, 'pad'));
  return decodeLength(check(code, { layer, filterSize: [filterSize, filterSize], stride, pad, detail: `input length ${inputLength}` }));
}

/**
 * Lasagne's `pool_output_length(input_length, pool_size, stride, pad, ignore_border)`. With
 * `ignore_border=false` (the only mode of MaxPool2DCCLayer): `ceil(I / s)` if `s >= P`, else
 * `max(0, floor((I - P + s - 1) / s)) + 1`.
 */
export function poolOutputLength(inputLength: number | null, poolSize: number, stride: number, pad: number, ignoreBorder: boolean, layer = 'pool_output_length'): number | null {
  const code = wasm.pool_output_length(
    encodeLength(inputLength, 'input_length'), encodeSize(poolSize, 'pool_size'), encodeSize(stride, 'stride'), encodeSize(pad, 'pad'), ignoreBorder ? 1 : 0,
  );
  return decodeLength(check(code, { layer, poolSize, stride, pad: [pad, pad], detail: `input length ${inputLength} with pool_size=${poolSize}, stride=${stride}` }));
}

/** The integer pad cuda-convnet uses: 'valid' 0, 'same' k // 2, 'full' k - 1, int itself. */
export function resolvePad(filterSize: number, pad: PadSpec, layer = 'Conv2DCCLayer'): number {
  const [mode, value] = padMode(pad);
  return check(wasm.resolve_pad(encodeSize(filterSize, 'filter_size'), mode, value), { layer, pad, filterSize: [filterSize, filterSize] });
}

export interface ConvGeometry {
  numFilters: number;
  channels: number | null;
  filterSize: readonly [number, number];
  stride: readonly [number, number];
  pad: readonly [PadSpec, PadSpec];
  inputShape: readonly (number | null)[];
}

/** Checks that BaseConvLayer makes before creating parameters: positive sizes, odd filters for 'same'. */
export function checkConvEarly(layer: string, g: Pick<ConvGeometry, 'filterSize' | 'stride' | 'pad'>): void {
  const [mode] = padMode(g.pad[0]);
  check(
    wasm.check_conv_early(encodeSize(g.filterSize[0], 'filter_size'), encodeSize(g.filterSize[1], 'filter_size'), encodeSize(g.stride[0], 'stride'), encodeSize(g.stride[1], 'stride'), mode),
    { layer, filterSize: g.filterSize, stride: g.stride, pad: g.pad },
  );
}

/** Conv2DCCLayer's own constraint checks, in Lasagne's order (see assembly/shape.ts checkConv). */
export function checkConv(layer: string, g: ConvGeometry): void {
  const [mode, p0] = padMode(g.pad[0]);
  const [, p1] = padMode(g.pad[1]);
  const code = wasm.check_conv(
    encodeSize(g.numFilters, 'num_filters'), g.channels === null ? 0 : encodeSize(g.channels, 'channels'),
    g.filterSize[0], g.filterSize[1], g.stride[0], g.stride[1], mode, p0, p1,
  );
  check(code, { layer, numFilters: g.numFilters, channels: g.channels ?? undefined, filterSize: g.filterSize, stride: g.stride, pad: g.pad, inputShape: g.inputShape });
}

/** FilterActs' run-time rule (stride <= filter size), checked when a network is planned. */
export function checkConvRun(layer: string, filterSize: number, stride: number): void {
  check(wasm.check_conv_run(filterSize, stride), { layer, filterSize: [filterSize, filterSize], stride });
}

/** MaxPool2DCCLayer's constraint checks, in Lasagne's order (see assembly/shape.ts checkPool). */
export function checkPool(layer: string, pad: readonly [number, number], poolSize: readonly [number, number], stride: readonly [number, number], ignoreBorder: boolean): void {
  const code = wasm.check_pool(
    encodeSize(pad[0], 'pad'), encodeSize(pad[1], 'pad'), encodeSize(poolSize[0], 'pool_size'), encodeSize(poolSize[1], 'pool_size'),
    encodeSize(stride[0], 'stride'), encodeSize(stride[1], 'stride'), ignoreBorder ? 1 : 0,
  );
  check(code, { layer, pad, poolSize, stride });
}

/** MaxPool's run-time rule (the region fits the image), checked when a network is planned. */
export function checkPoolRun(layer: string, poolSize: number, rows: number, cols: number): void {
  check(wasm.check_pool_run(poolSize, rows, cols), { layer, poolSize, imageSize: [rows, cols] });
}

/**
 * The weight gradient's partial sums for a conv layer: the effective P (0 means all modules) and
 * the float32 scratch bytes it implies, `4 (M / P) C k^2 F` (0 when P = M), with M counted on
 * cuda-convnet's untruncated grid. An illegal P raises pylearn2's ValueError.
 */
export function partialSum(layer: string, rowsCC: number, colsCC: number, partialSumValue: number, channels: number, filterSize: number, numFilters: number): { effective: number; scratchBytes: number } {
  const ctx = { layer, partialSum: partialSumValue, numModules: rowsCC * colsCC };
  const p = encodeSize(partialSumValue, 'partial_sum');
  const effective = check(wasm.partial_sum_effective(rowsCC, colsCC, p), ctx);
  const scratchBytes = check(wasm.partial_sum_scratch_bytes(rowsCC, colsCC, p, channels, filterSize, numFilters), ctx);
  return { effective, scratchBytes };
}

export interface ArenaTensor {
  /** Size in bytes (a non-negative integer). */
  bytes: number;
  /** First and last step (inclusive) during which the tensor must keep its bytes. */
  first: number;
  last: number;
}

/**
 * Lays tensors out in one arena: offsets aligned to `alignment` (a power of two), tensors whose
 * lifetimes overlap never share bytes, the total is the exact optimum for components of up to
 * nine tensors and the best of three greedy orders beyond (see assembly/arena.ts). Deterministic.
 */
export function planArena(tensors: readonly ArenaTensor[], alignment: number, layer = 'plan'): { offsets: number[]; totalBytes: number } {
  const capacity = wasm.arena_capacity();
  if (tensors.length > capacity) throw plannerError(CODES.E_ARENA_TOO_MANY, { layer, detail: `${tensors.length} > ${capacity}` });
  check(wasm.arena_reset(tensors.length), { layer });
  tensors.forEach((t, i) => check(wasm.arena_define(i, t.bytes, t.first, t.last), { layer, detail: `tensor ${i}: ${JSON.stringify(t)}` }));
  const totalBytes = check(wasm.arena_plan(alignment), { layer, detail: `alignment ${alignment}` });
  const offsets = tensors.map((_, i) => check(wasm.arena_offset(i), { layer }));
  return { offsets, totalBytes };
}

export { CODES };
