// max_pool.wgsl: cuda-convnet's max pooling as Lasagne's MaxPool2DCCLayer runs it (pylearn2
// sandbox/cuda_convnet/pool.py MaxPool, conv_util.cuh kLocalPool with start 0), in c01b, with
// partial windows at the bottom and right edges:
//
//   out[c, oy, ox, b] = max over y in [oy*s, min(oy*s + P, H)), x in [ox*s, min(ox*s + P, W)) of in[c, y, x, b]
//
// Positions outside the image are excluded (never read as 0 or -inf); a window is never empty.
// Non-square images work (the CUDA op required H == W).
//
// NaN, infinities and zeros follow cuda-convnet's kernel exactly: its running maximum starts at
// the seed -2e38 (f32 bits 0xff167699) and takes fmaxf of each element, so a NaN element never
// wins (the other operand does) and the result is never below the seed:
//
//   out = max(seed, max of the window's non-NaN elements), with -0 < +0
//
// (an all-NaN window, or one of -inf and values below -2e38 only, gives the seed). WGSL lets an
// implementation assume floats are never NaN, so the comparison runs on integer keys: the f32
// bits with the magnitude bits flipped for negatives order like the floats (-0 just below +0),
// and a NaN is replaced by the seed's key before it is compared. The result is one of the inputs
// or the seed, so it is exact.
//
// Bindings (group 0):
//   0  arena   storage, read_write  array<f32> (main_scalar) or array<vec4<f32>> (main_vec4): input
//                                   c01b (C, H, W, B) at params.in_off, output c01b (C, OH, OW, B) at
//                                   params.out_off, element offsets into the bound range (multiples of 4
//                                   for main_vec4)
//   1  params  uniform              Params
// Overrides: POOL = params.pool_size (whole windows take a loop of constant trip counts, which the
//   compiler unrolls: on the H200, P1 0.0612 -> 0.0550 ms; partial windows at the edges loop to
//   their clipped extent).
// Entry points: main_vec4 (needs B % 4 == 0 and 16-byte aligned offsets; a thread computes a vec4
//   along the batch), main_scalar (any B; a thread computes one element).
// Geometry: workgroup size 256; params.items = C*OH*OW*B (/4 for main_vec4) outputs, item
//   (wg.x + wg.y * num_workgroups.x) * 64 + local index (the host splits the workgroups over x and y
//   beyond 65535).

struct Params {
  in_off: u32,
  out_off: u32,
  channels: u32,
  rows: u32,
  cols: u32,
  batch: u32,
  pool_size: u32,
  stride: u32,
  out_rows: u32,
  out_cols: u32,
  items: u32,
}

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;
@group(0) @binding(0) var<storage, read_write> arena4: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> params: Params;

const WG: u32 = 256u;

// The pool size, params.pool_size (the host sets both): whole windows loop to this constant.
override POOL: u32 = 3u;

// The key of the seed, f32(-2e38) (bits 0xff167699).
const SEED_KEY: i32 = -2132178586i;

// Order-preserving integer keys of f32 (NaN -> the seed's key); key_value inverts key_of.
fn key_of(x: vec4<f32>) -> vec4<i32> {
  let b = bitcast<vec4<i32>>(x);
  let nan = (b & vec4<i32>(0x7fffffff)) > vec4<i32>(0x7f800000);
  let k = b ^ ((b >> vec4<u32>(31u)) & vec4<i32>(0x7fffffff));
  return select(k, vec4<i32>(SEED_KEY), nan);
}

fn key_value(k: vec4<i32>) -> vec4<f32> {
  return bitcast<vec4<f32>>(k ^ ((k >> vec4<u32>(31u)) & vec4<i32>(0x7fffffff)));
}

fn key_of1(x: f32) -> i32 {
  let b = bitcast<i32>(x);
  let k = b ^ ((b >> 31u) & 0x7fffffff);
  return select(k, SEED_KEY, (b & 0x7fffffff) > 0x7f800000);
}

fn key_value1(k: i32) -> f32 {
  return bitcast<f32>(k ^ ((k >> 31u) & 0x7fffffff));
}

// Output item `item` = (c, oy, ox, b) for a batch axis of `lanes` items: `base` is the offset of
// in[c, oy*s, ox*s, b] and `out` of out[c, oy, ox, b], in items; (rows, cols) is the window's
// extent clipped to the image.
struct Window {
  base: u32,
  out: u32,
  rows: u32,
  cols: u32,
}

fn window(item: u32, lanes: u32) -> Window {
  let b = item % lanes;
  let q = item / lanes;
  let ox = q % params.out_cols;
  let r = q / params.out_cols;
  let oy = r % params.out_rows;
  let c = r / params.out_rows;
  let y0 = oy * params.stride;
  let x0 = ox * params.stride;
  var w: Window;
  w.base = ((c * params.rows + y0) * params.cols + x0) * lanes + b;
  w.out = item;
  w.rows = min(y0 + params.pool_size, params.rows) - y0;
  w.cols = min(x0 + params.pool_size, params.cols) - x0;
  return w;
}

@compute @workgroup_size(WG)
fn main_vec4(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let item = (wg.x + wg.y * nwg.x) * WG + li;
  if (item >= params.items) {
    return;
  }
  let lanes = params.batch / 4u;
  let w = window(item, lanes);
  let in0 = params.in_off / 4u + w.base;
  let row_step = params.cols * lanes;
  var m = vec4<i32>(SEED_KEY);
  if (w.rows == POOL && w.cols == POOL) {
    // a whole window: constant trip counts, so the loads are unrolled and issued together
    for (var i = 0u; i < POOL; i++) {
      for (var j = 0u; j < POOL; j++) {
        m = max(m, key_of(arena4[in0 + i * row_step + j * lanes]));
      }
    }
  } else {
    for (var i = 0u; i < w.rows; i++) {
      for (var j = 0u; j < w.cols; j++) {
        m = max(m, key_of(arena4[in0 + i * row_step + j * lanes]));
      }
    }
  }
  arena4[params.out_off / 4u + w.out] = key_value(m);
}

@compute @workgroup_size(WG)
fn main_scalar(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let item = (wg.x + wg.y * nwg.x) * WG + li;
  if (item >= params.items) {
    return;
  }
  let lanes = params.batch;
  let w = window(item, lanes);
  let in0 = params.in_off + w.base;
  let row_step = params.cols * lanes;
  var m = SEED_KEY;
  if (w.rows == POOL && w.cols == POOL) {
    for (var i = 0u; i < POOL; i++) {
      for (var j = 0u; j < POOL; j++) {
        m = max(m, key_of1(arena[in0 + i * row_step + j * lanes]));
      }
    }
  } else {
    for (var i = 0u; i < w.rows; i++) {
      for (var j = 0u; j < w.cols; j++) {
        m = max(m, key_of1(arena[in0 + i * row_step + j * lanes]));
      }
    }
  }
  arena[params.out_off + w.out] = key_value1(m);
}
