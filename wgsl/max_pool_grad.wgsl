// max_pool_grad.wgsl: the gradient of cuda-convnet's max pooling with partial windows (pylearn2
// MaxPoolGrad, conv_util.cu kLocalMaxUndo; src/ops/backward.ts MaxPoolGradStep), in c01b. x
// (C, H, W, B) the pooled input, y (C, OH, OW, B) the forward output, dy its gradient, dx (C, H, W, B):
//
//   dx[c, yy, xx, b] = sum over the windows (oy, ox) containing (yy, xx) of (x[c, yy, xx, b] == y[c, oy, ox, b]) * dy[c, oy, ox, b]
//
// with windows [oy*s, min(oy*s + P, H)) x [ox*s, min(ox*s + P, W)). Every tied maximum receives the
// gradient; no multiple-of-16 channel limit (a limit of the CUDA kernel, lifted). A gather, not a
// scatter: each dx element is written once by one thread (no atomics, deterministic), summing its
// windows with oy, then ox ascending.
//
// Bindings (group 0):
//   0  arena    storage, read_write  array<f32> (main_scalar) or array<vec4<f32>> (main_vec4): x at
//                                    params.x_off, y at params.y_off, dy at params.dy_off, dx at
//                                    params.dx_off (element offsets; multiples of 4 for main_vec4)
//   1  weights  storage, read        array<f32>: not read
//   2  params   uniform              Params
// Overrides: none.
// Entry points: main_vec4 (needs B % 4 == 0 and 16-byte aligned offsets: a thread computes a vec4
//   along the batch, comparing four lanes at once), main_scalar (any B; one element per thread).
// Geometry: workgroup size 64; params.items = C*H*W*B (/4 for main_vec4) items, item
//   (wg.x + wg.y * num_workgroups.x) * 64 + local index (the host splits beyond 65535).

struct Params {
  x_off: u32,
  y_off: u32,
  dy_off: u32,
  dx_off: u32,
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
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const WG: u32 = 64u;

// The windows containing input row (or column) v: [lo, hi] along an axis of `out` windows.
fn window_range(v: u32, out: u32) -> vec2<u32> {
  let s = params.stride;
  let p = params.pool_size;
  var lo = 0u;
  if (v + 1u > p) {
    lo = (v + 1u - p + s - 1u) / s;
  }
  let hi = min(v / s, out - 1u);
  return vec2<u32>(lo, hi);
}

// The item's (c, yy, xx, b) for `lanes` items per batch row.
fn coords(item: u32, lanes: u32) -> vec4<u32> {
  let b = item % lanes;
  let q = item / lanes;
  let xx = q % params.cols;
  let r = q / params.cols;
  let yy = r % params.rows;
  return vec4<u32>(r / params.rows, yy, xx, b);
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
  let p = coords(item, lanes);
  let xv = arena4[params.x_off / 4u + item];
  let ry = window_range(p.y, params.out_rows);
  let rx = window_range(p.z, params.out_cols);
  var g = vec4<f32>(0.0);
  for (var oy = ry.x; oy <= ry.y; oy++) {
    for (var ox = rx.x; ox <= rx.y; ox++) {
      let o = ((p.x * params.out_rows + oy) * params.out_cols + ox) * lanes + p.w;
      g += select(vec4<f32>(0.0), arena4[params.dy_off / 4u + o], xv == arena4[params.y_off / 4u + o]);
    }
  }
  arena4[params.dx_off / 4u + item] = g;
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
  let p = coords(item, lanes);
  let xv = arena[params.x_off + item];
  let ry = window_range(p.y, params.out_rows);
  let rx = window_range(p.z, params.out_cols);
  var g = 0.0;
  for (var oy = ry.x; oy <= ry.y; oy++) {
    for (var ox = rx.x; ox <= rx.y; ox++) {
      let o = ((p.x * params.out_rows + oy) * params.out_cols + ox) * lanes + p.w;
      if (xv == arena[params.y_off + o]) {
        g += arena[params.dy_off + o];
      }
    }
  }
  arena[params.dx_off + item] = g;
}
