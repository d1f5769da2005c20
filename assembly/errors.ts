// Error codes returned by the planner. 0 is success; every failure is a distinct negative code.
// src/plan/errors.ts owns the words (Lasagne's wording and exception class) for each code.

export const OK: i32 = 0;

// Constructor checks of Conv2DCCLayer, in Lasagne's order of evaluation.
export const E_FILTER_NONPOSITIVE: i32 = -1;     // filter_size <= 0 (Lasagne: ZeroDivision/odd failures)
export const E_STRIDE_NONPOSITIVE: i32 = -2;     // stride <= 0
export const E_SAME_EVEN_FILTER: i32 = -3;       // pad='same' needs odd filter sizes (NotImplementedError)
export const E_FILTER_NOT_SQUARE: i32 = -4;      // RuntimeError
export const E_STRIDE_NOT_SQUARE: i32 = -5;      // RuntimeError
export const E_NUM_FILTERS: i32 = -6;            // num_filters % 16 != 0 (RuntimeError)
export const E_CHANNELS: i32 = -7;               // channels not in {1,2,3} and not a multiple of 4 (RuntimeError)
export const E_PAD_NOT_SQUARE: i32 = -8;         // RuntimeError
export const E_PAD_NEGATIVE: i32 = -9;           // pylearn2 BaseActs: ValueError
export const E_CHANNELS_UNKNOWN: i32 = -10;      // channel dimension is None

// Run-time checks of the cuda-convnet ops, raised when a network is planned.
export const E_STRIDE_GT_FILTER: i32 = -11;      // FilterActs: stride greater than filter size (ValueError)
export const E_POOL_GT_IMAGE: i32 = -12;         // MaxPool: ds must be <= image size (ValueError)
export const E_EMPTY_OUTPUT: i32 = -13;          // an output length would be zero or negative (ValueError)

// MaxPool2DCCLayer constructor checks, in Lasagne's order.
export const E_POOL_PADDING: i32 = -20;          // NotImplementedError
export const E_POOL_NONPOSITIVE: i32 = -21;      // pool_size <= 0 (pylearn2 asserts ds > 0)
export const E_POOL_NOT_SQUARE: i32 = -22;       // NotImplementedError
export const E_POOL_STRIDE_NONPOSITIVE: i32 = -23;
export const E_POOL_STRIDE_NOT_SQUARE: i32 = -24;// NotImplementedError
export const E_POOL_STRIDE_GT_POOL: i32 = -25;   // NotImplementedError
export const E_POOL_IGNORE_BORDER: i32 = -26;    // NotImplementedError

// Shape functions.
export const E_BAD_PAD_MODE: i32 = -30;          // conv_output_length: ValueError 'Invalid pad: ...'

// partial_sum (weight gradient).
export const E_PARTIAL_SUM: i32 = -40;           // partialSum must divide numModules (ValueError)
export const E_PARTIAL_SUM_NEGATIVE: i32 = -41;
export const E_PARTIAL_SUM_TOO_LARGE: i32 = -42;   // the module grid has more than 2^31 - 1 positions

// Arena planner.
export const E_ARENA_TOO_MANY: i32 = -50;        // more tensors than the static table holds
export const E_ARENA_INDEX: i32 = -51;           // tensor index out of range
export const E_ARENA_LIFETIME: i32 = -52;        // first > last or negative step
export const E_ARENA_SIZE: i32 = -53;            // negative, fractional or too large byte size
export const E_ARENA_ALIGNMENT: i32 = -54;       // alignment not a power of two >= 4
