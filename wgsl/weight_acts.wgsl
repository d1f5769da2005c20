// weight_acts.wgsl: the weight gradient of cuda-convnet's FilterActs with its partial sums (pylearn2
// WeightActs, weight_acts.cu; src/ops/backward.ts WeightActsStep), in c01b. x (C, H, W, B) the
// layer's input, dz (F, OH, OW, B) on Lasagne's output grid, dw the kernel-layout (C, k, k, F)
// gradient:
//
//   module m = oy * cols_cc + ox of cuda-convnet's UNTRUNCATED grid (rows_cc, cols_cc); P = the
//   effective partialSum (M = rows_cc * cols_cc when 0), groups G = M / P;
//   partial[g, c, i, j, f] = sum over m in [gP, gP + P) with oy < OH, ox < OW (Lasagne's truncated
//                            modules have dz = 0), and over b, of x[c, oy*s + i - pad, ox*s + j - pad, b] * dz[f, oy, ox, b]
//   dw = sum_{g = 0 .. G-1} partial[g]       (one slot: written directly, no scratch)
//
// Bindings (group 0):
//   0  arena    storage, read_write  array<f32>: x at params.x_off, dz at params.dz_off, dw at
//                                    params.dw_off, the partials (G * slices, C, k, k, F) at
//                                    params.scratch_off (element offsets); to_param_layout: dw ->
//                                    params.param_off
//   1  weights  storage, read        array<f32>: not read
//   2  params   uniform              Params
// Overrides: WG_F, WG_Q: workgroup size (WG_F, WG_Q), WG_F * WG_Q = 256 (a thread computes 4 taps x
//   4 filters, so a tile is TILE_Q = 4 WG_Q taps by TILE_F = 4 WG_F filters); K_CHUNK: rows of K per
//   stage (8 or 16: each thread stages at most two tap vec4s and one filter vec4 per chunk, all of
//   one row of K). The host (src/backend/webgpu/backward.ts weightActsTile) fits TILE_F to F:
//   (16, 16, 16) when 64 divides F, (8, 32, 16) when 32 does, else (4, 64, 8); workgroup memory
//   16 K_CHUNK (WG_Q + WG_F) bytes, at most 10 KiB.
// Entry points: main (any B), reduce (G * slices > 1: dw = slot 0 + slot 1 + ... in order, one
//   thread per element), to_param_layout (dw back to the parameter's layout, WeightGradLayoutStep;
//   the host prepends weight_layout.wgsl for its index map, and slot_sum.wgsl for reduce's sum).
// Geometry (main): per group, a GEMM dw(Q, F) = xcol(Q, K) x dzcol(K, F), Q = C*k*k taps, K = P*B
//   (the group's modules, batch innermost). A workgroup computes a TILE_Q x TILE_F tile of one
//   group, K in chunks of K_CHUNK staged in workgroup memory; a thread computes 4 taps x 4 filters
//   (a vec4 along f, the layout of dw), 16 vec4 FMAs per 2 workgroup-memory vec4 reads. Both stages are loaded with the threads running
//   along K, i.e. along the batch, which is contiguous in x and in dz: coalesced. This replaces the
//   one-thread-per-weight serial loop over batch x positions of tfjs-webgpu's conv2DBackpropFilter
//   by a tiled GEMM with 4 x 4 register blocking, and the groups give M/P times more workgroups.
//   Slices: when the groups give too few workgroups for a GPU (P = M has one group of K = M*B), the
//   host cuts each group's K into params.slices slices of params.k_per (a multiple of 16) and the
//   partials become (G * slices, C, k, k, F), slot g * slices + s; reduce then sums all slots, so
//   partial[g] of cuda-convnet is the sum of its slices. The host counts that scratch in the plan
//   (src/backend/webgpu/backward.ts weightActsSplit); with G * slices == 1 dw is written directly.
//   Tiles: q_tiles = ceil(Q / TILE_Q), f_tiles = ceil(F / TILE_F), tiles = q_tiles * f_tiles * G *
//   slices; workgroup id wg.x + wg.y * num_workgroups.x: q tile fastest, then f tile, then the slot.
//   A thread's taps (c, i, j) are decoded once, before the K loop.
//   Summation order per element and slot: K ascending (modules, then b) in float32; then the slots.

struct Params {
  x_off: u32,
  dz_off: u32,
  dw_off: u32,
  scratch_off: u32,
  channels: u32,
  rows: u32,
  cols: u32,
  batch: u32,
  filters: u32,
  filter_size: u32,
  stride: u32,
  pad: u32,
  out_rows: u32,
  out_cols: u32,
  cols_cc: u32,
  partial_sum: u32,
  groups: u32,
  // K = partial_sum * batch per group, cut into `slices` of k_per
  slices: u32,
  k_per: u32,
  q_total: u32,
  q_tiles: u32,
  f_tiles: u32,
  tiles: u32,
  // to_param_layout: destination, 0 = (F, C, k, k), 1 = (C, k, k, F); flip 0 | 1
  param_off: u32,
  dst_layout: u32,
  flip: u32,
}

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override WG_F: u32 = 16u;
override WG_Q: u32 = 16u;
override K_CHUNK: u32 = 16u;

const THREADS: u32 = 256u;

// x_stage[kk * WG_Q + t] = xcol[q0 + 4t .. q0 + 4t + 3, k0 + kk]
var<workgroup> x_stage: array<vec4<f32>, K_CHUNK * WG_Q>;
// d_stage[kk * WG_F + t] = dzcol[k0 + kk, f0 + 4t .. f0 + 4t + 3]
var<workgroup> d_stage: array<vec4<f32>, K_CHUNK * WG_F>;

// Column kk of group g's K: (oy, ox, b, 1 if it exists and is inside Lasagne's grid).
fn module_of(g: u32, kk: u32) -> vec4<u32> {
  if (kk >= params.partial_sum * params.batch) {
    return vec4<u32>(0u);
  }
  let mi = kk / params.batch;
  let b = kk - mi * params.batch;
  let m = g * params.partial_sum + mi;
  let oy = m / params.cols_cc;
  let ox = m - oy * params.cols_cc;
  if (oy >= params.out_rows || ox >= params.out_cols) {
    return vec4<u32>(0u);
  }
  return vec4<u32>(oy, ox, b, 1u);
}

// Tap q as (c * rows, i - pad, j - pad, 1 if q exists).
fn tap_of(q: u32) -> vec4<i32> {
  if (q >= params.q_total) {
    return vec4<i32>(0);
  }
  let k = params.filter_size;
  let c = q / (k * k);
  let r = q - c * k * k;
  let i = r / k;
  let j = r - i * k;
  return vec4<i32>(i32(c * params.rows), i32(i) - i32(params.pad), i32(j) - i32(params.pad), 1);
}

fn x_at(tap: vec4<i32>, md: vec4<u32>) -> f32 {
  if (md.w == 0u || tap.w == 0) {
    return 0.0;
  }
  let y = i32(md.x * params.stride) + tap.y;
  let x = i32(md.y * params.stride) + tap.z;
  if (y < 0 || x < 0 || y >= i32(params.rows) || x >= i32(params.cols)) {
    return 0.0;
  }
  return arena[params.x_off + ((u32(tap.x) + u32(y)) * params.cols + u32(x)) * params.batch + md.z];
}

fn dz_at(f: u32, md: vec4<u32>) -> f32 {
  if (md.w == 0u || f >= params.filters) {
    return 0.0;
  }
  return arena[params.dz_off + ((f * params.out_rows + md.x) * params.out_cols + md.y) * params.batch + md.z];
}

// The 4 taps q .. q + 3, decoded.
fn taps_of(q: u32) -> array<vec4<i32>, 4> {
  return array<vec4<i32>, 4>(tap_of(q), tap_of(q + 1u), tap_of(q + 2u), tap_of(q + 3u));
}

@compute @workgroup_size(WG_F, WG_Q)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= params.tiles) {
    return;
  }
  let q0 = (wid % params.q_tiles) * (4u * WG_Q);
  let rest = wid / params.q_tiles;
  let f0 = (rest % params.f_tiles) * (4u * WG_F);
  let slot = rest / params.f_tiles;
  let g = slot / params.slices;
  let k_begin = (slot - g * params.slices) * params.k_per;
  let k_stop = min(params.partial_sum * params.batch, k_begin + params.k_per);
  let tid = lid.y * WG_F + lid.x;
  // staging slots of this thread, all in row kk_l of the chunk (K fastest: along the batch,
  // coalesced): tap groups t_a and t_b (the second when the stage has more than 256 vec4s) and
  // filter group t_a; THREADS is a multiple of K_CHUNK, so every slot of a thread has the same kk
  let kk_l = tid % K_CHUNK;
  let t_a = tid / K_CHUNK;
  let t_b = (tid + THREADS) / K_CHUNK;
  let x_slots = K_CHUNK * WG_Q;
  let taps_a = taps_of(q0 + 4u * t_a);
  var taps_b = taps_a;
  if (tid + THREADS < x_slots) {
    taps_b = taps_of(q0 + 4u * t_b);
  }
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var k0 = k_begin; k0 < k_stop; k0 += K_CHUNK) {
    var md = vec4<u32>(0u);
    if (k0 + kk_l < k_stop) {
      md = module_of(g, k0 + kk_l);
    }
    var xa = vec4<f32>(0.0);
    var xb = vec4<f32>(0.0);
    var dv = vec4<f32>(0.0);
    for (var e = 0u; e < 4u; e++) {
      xa[e] = x_at(taps_a[e], md);
      if (tid + THREADS < x_slots) {
        xb[e] = x_at(taps_b[e], md);
      }
      if (tid < K_CHUNK * WG_F) {
        dv[e] = dz_at(f0 + 4u * t_a + e, md);
      }
    }
    if (tid < x_slots) {
      x_stage[kk_l * WG_Q + t_a] = xa;
    }
    if (tid + THREADS < x_slots) {
      x_stage[kk_l * WG_Q + t_b] = xb;
    }
    if (tid < K_CHUNK * WG_F) {
      d_stage[kk_l * WG_F + t_a] = dv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < K_CHUNK; kk++) {
      let xq = x_stage[kk * WG_Q + lid.y];
      let d = d_stage[kk * WG_F + lid.x];
      a0 += xq.x * d;
      a1 += xq.y * d;
      a2 += xq.z * d;
      a3 += xq.w * d;
    }
    workgroupBarrier();
  }
  let acc = array<vec4<f32>, 4>(a0, a1, a2, a3);
  var out = params.dw_off;
  if (params.groups * params.slices > 1u) {
    out = params.scratch_off + slot * params.q_total * params.filters;
  }
  let f = f0 + 4u * lid.x;
  for (var r = 0u; r < 4u; r++) {
    let q = q0 + 4u * lid.y + r;
    if (q < params.q_total) {
      for (var e = 0u; e < 4u; e++) {
        if (f + e < params.filters) {
          arena[out + q * params.filters + f + e] = acc[r][e];
        }
      }
    }
  }
}

@compute @workgroup_size(FLAT)
fn reduce(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let e = element(wg, nwg, li);
  let size = params.q_total * params.filters;
  if (e >= size) {
    return;
  }
  arena[params.dw_off + e] = slot_sum(params.scratch_off, size, params.groups * params.slices, e);
}

@compute @workgroup_size(FLAT)
fn to_param_layout(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let e = element(wg, nwg, li);
  let F = params.filters;
  if (e >= params.q_total * F) {
    return;
  }
  // (weight_layout.wgsl: e of the kernel layout, dst of the parameter's)
  let dst = param_index_of_kernel(e, params.channels, params.filter_size, F, params.flip == 1u, params.dst_layout == 0u);
  arena[params.param_off + dst] = arena[params.dw_off + e];
}
