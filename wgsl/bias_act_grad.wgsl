// bias_act_grad.wgsl: the first backward step of a conv or NIN layer (src/ops/backward.ts
// BiasActGradStep): the derivative of the nonlinearity the forward fused, read from the forward
// output y, fused with the bias gradient in one pass. Layout (F, P, B): F filters or units, P
// positions, batch innermost (a c01b conv output, NIN's (U, N)):
//
//   dz[f, p, b] = dy[f, p, b] * act'(y[f, p, b])            (dz may be dy: in place)
//   tied:   db[f]    = sum_{p, b} dz[f, p, b]
//   untied: db[f, p] = sum_b dz[f, p, b]
//
// act' from y (the x <= 0 side at a kink): linear 1; rectify y > 0; leaky_rectify y > 0 ? 1 : p.x;
// sigmoid y (1 - y); tanh 1 - y^2; scaled_tanh p.x p.y (1 - (y / p.y)^2) (0 for p.y = 0); elu
// y > 0 ? 1 : y + 1; selu y > 0 ? p.x : y + p.x p.y; softplus -expm1(-y). Compiled with
// epilogue.wgsl prepended (ACT codes, expm1_accurate).
//
// Bindings (group 0):
//   0  arena    storage, read_write  array<f32>: y at params.y_off, dy at params.dy_off, dz at
//                                    params.dz_off, db at params.db_off, the segments' partial sums
//                                    (rows, segs) at params.scratch_off (element offsets)
//   1  weights  storage, read        array<f32>: not read (the backward kernels share one layout)
//   2  params   uniform              Params
// Overrides: ACT (epilogue.wgsl); BIAS 0 none, 1 tied, 2 untied.
// Entry points: main, reduce (segs > 1 with a bias: db[row] = the row's segment sums in order, one
//   thread per row).
// Geometry: F rows of P*B elements (BIAS 0, 1) or F*P rows of B (BIAS 2), each cut into
//   params.segs segments of params.seg_len elements (a multiple of WG), so that a tied bias over a
//   long row still spreads over many workgroups. One workgroup of WG = 256 threads per segment:
//   workgroup id wg.x + wg.y * num_workgroups.x = row * segs + seg (the host splits beyond 65535).
//   Thread t sums elements t, t + 256, ... of its segment in order, then a fixed tree over the 256
//   partial sums; the segment's sum is db[row] (one segment) or scratch[row * segs + seg]
//   (deterministic throughout). Global loads are coalesced across the threads.

struct Params {
  y_off: u32,
  dy_off: u32,
  dz_off: u32,
  db_off: u32,
  rows: u32,
  row_len: u32,
  act_p0: f32,
  act_p1: f32,
  segs: u32,
  seg_len: u32,
  scratch_off: u32,
}

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override BIAS: u32 = 0u;

const WG: u32 = 256u;

var<workgroup> partial: array<f32, WG>;

fn act_grad(y: f32) -> f32 {
  let p = vec2<f32>(params.act_p0, params.act_p1);
  switch ACT {
    case ACT_RECTIFY: {
      return select(0.0, 1.0, y > 0.0);
    }
    case ACT_LEAKY_RECTIFY: {
      return select(p.x, 1.0, y > 0.0);
    }
    case ACT_SIGMOID: {
      return y * (1.0 - y);
    }
    case ACT_TANH: {
      return 1.0 - y * y;
    }
    case ACT_SCALED_TANH: {
      if (p.y == 0.0) {
        return 0.0;
      }
      let t = y / p.y;
      return p.x * p.y * (1.0 - t * t);
    }
    case ACT_ELU: {
      return select(y + 1.0, 1.0, y > 0.0);
    }
    case ACT_SELU: {
      return select(y + p.x * p.y, p.x, y > 0.0);
    }
    case ACT_SOFTPLUS: {
      return -expm1_accurate(-y);
    }
    case ACT_LINEAR, default: {
      return 1.0;
    }
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let wid = wg.x + wg.y * nwg.x;
  // uniform per workgroup: every thread of a workgroup takes the same branch
  if (wid >= params.rows * params.segs) {
    return;
  }
  let row = wid / params.segs;
  let seg = wid - row * params.segs;
  let base = row * params.row_len;
  let stop = min(params.row_len, (seg + 1u) * params.seg_len);
  var s = 0.0;
  for (var e = seg * params.seg_len + li; e < stop; e += WG) {
    var g = arena[params.dy_off + base + e];
    if (ACT != ACT_LINEAR) {
      g *= act_grad(arena[params.y_off + base + e]);
    }
    if (ACT != ACT_LINEAR || params.dz_off != params.dy_off) {
      arena[params.dz_off + base + e] = g;
    }
    s += g;
  }
  if (BIAS == 0u) {
    return;
  }
  partial[li] = s;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (li < half) {
      partial[li] += partial[li + half];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    if (params.segs == 1u) {
      arena[params.db_off + row] = partial[0];
    } else {
      arena[params.scratch_off + wid] = partial[0];
    }
  }
}

@compute @workgroup_size(WG)
fn reduce(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let row = (wg.x + wg.y * nwg.x) * WG + li;
  if (row >= params.rows) {
    return;
  }
  var s = 0.0;
  for (var seg = 0u; seg < params.segs; seg++) {
    s += arena[params.scratch_off + row * params.segs + seg];
  }
  arena[params.db_off + row] = s;
}
