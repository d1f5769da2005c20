import { NotImplementedError, RuntimeError, ValueError } from '../errors.js';
import { CODES } from './planner_bytes.generated.js';

/** What the planner was asked, so that an error code can be turned into Lasagne's words. */
export interface ErrorContext {
  layer: string;
  numFilters?: number;
  channels?: number;
  filterSize?: readonly [number, number];
  stride?: readonly [number, number] | number;
  pad?: unknown;
  poolSize?: readonly [number, number] | number;
  inputShape?: readonly (number | null)[];
  imageSize?: readonly [number, number];
  partialSum?: number;
  numModules?: number;
  detail?: string;
}

const pair = (p: readonly [number, number] | number | undefined) =>
  Array.isArray(p) ? `(${p[0]}, ${p[1]})` : String(p);
const fmtShape = (s: readonly (number | null)[] | undefined) =>
  s === undefined ? '?' : s.length === 1 ? `(${s[0] ?? 'None'},)` : `(${s.map((d) => d ?? 'None').join(', ')})`;

/**
 * The error for a planner code: Lasagne's exception class and wording (so substring checks ported
 * from Lasagne's tests pass), plus the fix where there is one.
 */
export function plannerError(code: number, c: ErrorContext): Error {
  const L = c.layer;
  switch (code) {
    case CODES.E_FILTER_NONPOSITIVE:
      return new ValueError(`${L} requires a positive filter_size, but filter_size=${pair(c.filterSize)}`);
    case CODES.E_STRIDE_NONPOSITIVE:
      return new ValueError(`${L} requires a positive stride, but stride=${pair(c.stride)}`);
    case CODES.E_SAME_EVEN_FILTER:
      return new NotImplementedError(`\`same\` padding requires odd filter size. (${L}: filter_size=${pair(c.filterSize)}; use an odd size or an integer pad)`);
    case CODES.E_FILTER_NOT_SQUARE:
      return new RuntimeError(`${L} only supports square filters, but filter_size=${pair(c.filterSize)}`);
    case CODES.E_STRIDE_NOT_SQUARE:
      return new RuntimeError(`${L} only supports square strides, but stride=${pair(c.stride)}`);
    case CODES.E_NUM_FILTERS: {
      const up = Math.max(16, Math.ceil((c.numFilters ?? 0) / 16) * 16);
      return new RuntimeError(
        `${L} requires num_filters to be a multiple of 16, but num_filters is ${c.numFilters}; use ${up} filters`,
      );
    }
    case CODES.E_CHANNELS: {
      const up = Math.ceil((c.channels ?? 0) / 4) * 4;
      return new RuntimeError(
        `${L} requires the number of input channels to be 1, 2, 3 or a multiple of 4, but it is ${c.channels}; ` +
          `zero-pad the input to ${up} channels`,
      );
    }
    case CODES.E_CHANNELS_UNKNOWN:
      return new ValueError(
        `${L} requires a known number of input channels, but the channel dimension of input_shape=${fmtShape(c.inputShape)} is None`,
      );
    case CODES.E_PAD_NOT_SQUARE:
      return new RuntimeError(`${L} only supports square padding, but pad=${pair(c.pad as [number, number])}`);
    case CODES.E_PAD_NEGATIVE:
      return new ValueError(`bad value of pad (must be non-negative): ${Array.isArray(c.pad) ? c.pad[0] : c.pad} (${L})`);
    case CODES.E_STRIDE_GT_FILTER: {
      const s = Array.isArray(c.stride) ? c.stride[0] : c.stride;
      return new ValueError(`stride ${s} greater than filter size ${pair(c.filterSize)} (${L}: cuda-convnet's FilterActs needs stride <= filter_size)`);
    }
    case CODES.E_POOL_GT_IMAGE: {
      const p = Array.isArray(c.poolSize) ? c.poolSize[0] : c.poolSize;
      const [r, k] = c.imageSize ?? [0, 0];
      return new ValueError(`ds(${p}) must be <= imgSizeX(${k}) and imgSizeY(${r}). (${L}: the pooling region is larger than the image)`);
    }
    case CODES.E_EMPTY_OUTPUT:
      return new ValueError(`${L} would produce an empty output${c.detail ? `: ${c.detail}` : ''}`);
    case CODES.E_POOL_PADDING:
      return new NotImplementedError(`${L} does not support padding, but pad=${pair(c.pad as [number, number])}`);
    case CODES.E_POOL_NONPOSITIVE:
      return new ValueError(`${L} requires a positive pool_size, but pool_size=${pair(c.poolSize)}`);
    case CODES.E_POOL_NOT_SQUARE:
      return new NotImplementedError(`${L} only supports square pooling regions, but pool_size=${pair(c.poolSize)}`);
    case CODES.E_POOL_STRIDE_NONPOSITIVE:
      return new ValueError(`${L} requires a positive stride, but stride=${pair(c.stride)}`);
    case CODES.E_POOL_STRIDE_NOT_SQUARE:
      return new NotImplementedError(`${L} only supports using the same stride in both directions but stride=${pair(c.stride)}`);
    case CODES.E_POOL_STRIDE_GT_POOL:
      return new NotImplementedError(`${L} only supports stride <= pool_size. (stride=${pair(c.stride)}, pool_size=${pair(c.poolSize)})`);
    case CODES.E_POOL_IGNORE_BORDER:
      return new NotImplementedError(`${L} does not support ignore_border=True.`);
    case CODES.E_BAD_PAD_MODE:
      return new ValueError(`Invalid pad: ${String(c.pad)}`);
    case CODES.E_PARTIAL_SUM:
      return new ValueError(
        `partialSum must divide numModules, but partialSum=${c.partialSum} and numModules=${c.numModules} (${L}; ` +
          `numModules counts cuda-convnet's untruncated output grid; use a divisor of it, or 0 for numModules)`,
      );
    case CODES.E_PARTIAL_SUM_NEGATIVE:
      return new ValueError(`${L} requires partial_sum >= 0 (0 means all modules), but partial_sum=${c.partialSum}`);
    case CODES.E_PARTIAL_SUM_TOO_LARGE:
      return new ValueError(`${L}: the module grid is too large for partial_sum (${c.numModules} positions)`);
    case CODES.E_ARENA_TOO_MANY:
      return new ValueError(`${L}: the network has more tensors than the planner holds (${c.detail})`);
    case CODES.E_ARENA_SIZE:
      return new ValueError(`${L}: a tensor's byte size is not a non-negative integer below 2^52 (${c.detail})`);
    default:
      return new RuntimeError(`${L}: internal planner error ${code}${c.detail ? ` (${c.detail})` : ''}`);
  }
}
