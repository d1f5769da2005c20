// winograd.wgsl: forward convolution as filter_acts.wgsl defines it (cuda-convnet's FilterActs, c01b,
// zero padding, bias and nonlinearity fused), for 3x3 filters at stride 1, by Winograd's minimal
// filtering F(m x m, 3x3) (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks"),
// in two variants, m = 2 and m = 4 (geometry.ts winogradFor chooses; n = m + 2):
//
//   out tile (m x m outputs at oy = m ty, ox = m tx) = A^T [ sum_c (G g_c G^T) . (B^T d_c B) ] A
//
// with g_c the 3x3 filter of channel c and d_c the n x n input patch at (m ty - pad, m tx - pad)
// (zero outside the image). The elementwise product summed over c is, for each of the n^2 points
// xi = n*r + s of the n x n transform (params.xi_count: 16 or 36), a GEMM:
// M[xi](F, N) = U[xi]^T (F, C) x V[xi](C, N) with N = T*B columns (tile t = ty * tiles_w + tx, batch
// innermost), so a step is four dispatches:
//
//   weight_transform  U[xi][c][f] = (G g G^T)[r][s]           (n^2, C, F) at params.u_off
//   input_transform   V[xi][c][t*B + b] = (B^T d B)[r][s]     (n^2, C, N) at params.v_off
//   gemm              M[xi][f][n] = sum_c U[xi][c][f] V[xi][c][n]   (n^2, F, N) at params.m_off
//   output_transform  out[f, oy, ox, b] = act(bias + (A^T M A)[dy][dx]), clipped at OH, OW
//
// F(2x2, 3x3) (entry points weight_transform, input_transform, gemm, output_transform; 4x4 patches
// at stride 2):
//   G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// F(4x4, 3x3) (weight_transform_f4, input_transform_f4, gemm, output_transform_f4; 6x6 patches at
// stride 4; interpolation points 0, 1, -1, 2, -2 and infinity):
//   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
// The gemm entry point serves both (params.xi_count GEMMs).
//
// U, V and M live in the step's scratch tensor (src/backend/webgpu/ops/winograd.ts). Exact in exact
// arithmetic; in float32 the transforms add a little rounding, F(4x4)'s larger constants more (see
// the tests' tolerance).
// Compiled like nin.wgsl, with arena_vec4.wgsl (only: B % 4 == 0, F % 4 == 0, 16-byte aligned
// offsets; the host runs the direct kernel otherwise), the codes, epilogue.wgsl, stage_flat.wgsl,
// gemm.wgsl and gemm_units.wgsl (nin's register tile and inner loop) prepended.
//
// Bindings (group 0), as filter_acts.wgsl:
//   0  arena    storage, read_write  input c01b (C, H, W, B) at in_off, output c01b (F, OH, OW, B) at
//                                    out_off, U, V, M at u_off, v_off, m_off (element offsets into
//                                    the bound range, multiples of 4)
//   1  weights  storage, read        array<vec4<f32>>: (C, 3, 3, F) row-major, already flipped
//   2  bias     storage, read        array<f32>: b[f] (BIAS 1) or b[f, oy, ox] (BIAS 2); not read for BIAS 0
//   3  params   uniform              Params
// Overrides: W_ARENA (1: weight (C, 3, 3, F) and bias from the arena at params.w_off, b_off: a
//   training plan); ACT (epilogue.wgsl), BIAS (output_transform*); WG_N, WG_U, RU, K_CHUNK (gemm: as
//   nin.wgsl, units = filters, channels = C). Host consts W_ROW = RU * WG_U, X_ROW = WG_N.
// Entry points: weight_transform* (one thread per channel and 4 filters), input_transform* (one per
//   channel, tile and 4 batch items), gemm (xi_count * params.tiles workgroups: xi = wid / tiles, then
//   filter tile fastest as in nin), output_transform* (one per filter, tile and 4 batch items). The
//   transforms run TRANSFORM_GROUP threads per workgroup, wid = wg.x + wg.y * num_workgroups.x.

struct Params {
  in_off: u32,
  out_off: u32,
  channels: u32,
  rows: u32,
  cols: u32,
  batch: u32,
  filters: u32,
  pad: u32,
  out_rows: u32,
  out_cols: u32,
  tiles_h: u32,
  tiles_w: u32,
  // N = tiles_h * tiles_w * batch, the columns of each GEMM
  n_total: u32,
  u_off: u32,
  v_off: u32,
  m_off: u32,
  // the GEMM's tiles per point xi: u_tiles filter tiles times the column tiles
  u_tiles: u32,
  tiles: u32,
  // OH*OW: the untied bias is b[f * positions + oy * OW + ox]
  positions: u32,
  // the points of the transform, (m + 2)^2: 16 for F(2x2, 3x3), 36 for F(4x4, 3x3) (gemm's batch)
  xi_count: u32,
  act: vec2<f32>,
  w_off: u32,
  b_off: u32,
}

@group(0) @binding(1) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override BIAS: u32 = 0u;
override W_ARENA: u32 = 0u;

const TRANSFORM_GROUP: u32 = 64u;

fn linear_id(wg: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.x + wg.y * nwg.x) * TRANSFORM_GROUP + lid.x;
}

// ---- weight_transform: U = G g G^T for filters f .. f + 3 of channel c ----

fn weight4(i: u32) -> vec4<f32> {
  if (W_ARENA == 1u) {
    let a = params.w_off + i;
    return vec4<f32>(load1(a), load1(a + 1u), load1(a + 2u), load1(a + 3u));
  }
  return weights[i / 4u];
}

@compute @workgroup_size(TRANSFORM_GROUP)
fn weight_transform(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let F = params.filters;
  let C = params.channels;
  let f4 = F / 4u;
  let idx = linear_id(wg, nwg, lid);
  if (idx >= C * f4) {
    return;
  }
  let c = idx / f4;
  let f = 4u * (idx - c * f4);
  // t = G g: 4 x 3
  var t: array<vec4<f32>, 12>;
  for (var j = 0u; j < 3u; j++) {
    let g0 = weight4(((c * 3u + 0u) * 3u + j) * F + f);
    let g1 = weight4(((c * 3u + 1u) * 3u + j) * F + f);
    let g2 = weight4(((c * 3u + 2u) * 3u + j) * F + f);
    t[j] = g0;
    t[3u + j] = 0.5 * (g0 + g1 + g2);
    t[6u + j] = 0.5 * (g0 - g1 + g2);
    t[9u + j] = g2;
  }
  // U = t G^T: 4 x 4
  for (var r = 0u; r < 4u; r++) {
    let a = t[3u * r];
    let b = t[3u * r + 1u];
    let d = t[3u * r + 2u];
    let base = params.u_off + (4u * r * C + c) * F + f;
    store4(base, a, 4u);
    store4(base + C * F, 0.5 * (a + b + d), 4u);
    store4(base + 2u * C * F, 0.5 * (a - b + d), 4u);
    store4(base + 3u * C * F, d, 4u);
  }
}

// ---- input_transform: V = B^T d B for batch items b .. b + 3, channel c, tile t ----

fn input4(c: u32, y: i32, x: i32, b: u32) -> vec4<f32> {
  if (y < 0 || x < 0 || y >= i32(params.rows) || x >= i32(params.cols)) {
    return vec4<f32>(0.0);
  }
  return load4(params.in_off + ((c * params.rows + u32(y)) * params.cols + u32(x)) * params.batch + b, 4u);
}

@compute @workgroup_size(TRANSFORM_GROUP)
fn input_transform(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let B = params.batch;
  let b4 = B / 4u;
  let T = params.tiles_h * params.tiles_w;
  let idx = linear_id(wg, nwg, lid);
  if (idx >= params.channels * T * b4) {
    return;
  }
  let q = idx / b4;
  let b = 4u * (idx - q * b4);
  let c = q / T;
  let t = q - c * T;
  let ty = t / params.tiles_w;
  let tx = t - ty * params.tiles_w;
  let y0 = i32(2u * ty) - i32(params.pad);
  let x0 = i32(2u * tx) - i32(params.pad);
  // e = B^T d, column by column
  var e: array<vec4<f32>, 16>;
  for (var j = 0u; j < 4u; j++) {
    let x = x0 + i32(j);
    let d0 = input4(c, y0, x, b);
    let d1 = input4(c, y0 + 1, x, b);
    let d2 = input4(c, y0 + 2, x, b);
    let d3 = input4(c, y0 + 3, x, b);
    e[j] = d0 - d2;
    e[4u + j] = d1 + d2;
    e[8u + j] = d2 - d1;
    e[12u + j] = d1 - d3;
  }
  // V = e B, row by row
  let C = params.channels;
  let N = params.n_total;
  for (var r = 0u; r < 4u; r++) {
    let e0 = e[4u * r];
    let e1 = e[4u * r + 1u];
    let e2 = e[4u * r + 2u];
    let e3 = e[4u * r + 3u];
    let base = params.v_off + (4u * r * C + c) * N + t * B + b;
    store4(base, e0 - e2, 4u);
    store4(base + C * N, e1 + e2, 4u);
    store4(base + 2u * C * N, e2 - e1, 4u);
    store4(base + 3u * C * N, e1 - e3, 4u);
  }
}

// ---- gemm: M[xi] (F, N) = U[xi]^T V[xi], nin.wgsl's tiling (stage_flat.wgsl, gemm.wgsl, gemm_units.wgsl) ----

// The point xi of this workgroup (set in gemm before any load).
var<private> xi: u32;

// U[xi][k0 + t / (RU*WG_U)][u0 + 4 * (t % (RU*WG_U)) .. + 3] (0 outside)
fn w_load(k0: u32, u0: u32, t: u32, k_stop: u32) -> vec4<f32> {
  if (t >= w_stage()) {
    return vec4<f32>(0.0);
  }
  let k = k0 + t / (RU * WG_U);
  let u = u0 + 4u * (t % (RU * WG_U));
  if (k < k_stop && u < params.filters) {
    return load4(params.u_off + (xi * params.channels + k) * params.filters + u, 4u);
  }
  return vec4<f32>(0.0);
}

// V[xi][k0 + t / WG_N][n0 + 4 * (t % WG_N) .. + 3] (0 outside)
fn x_load(k0: u32, n0: u32, t: u32) -> vec4<f32> {
  let k = k0 + t / WG_N;
  let n = n0 + 4u * (t % WG_N);
  if (t < x_stage() && k < params.channels && n < params.n_total) {
    return load4(params.v_off + (xi * params.channels + k) * params.n_total + n, 4u);
  }
  return vec4<f32>(0.0);
}

fn m_store(a: Acc, u: u32, n: u32) {
  if (u < params.filters) {
    let base = params.m_off + (xi * params.filters + u) * params.n_total + n;
    store4(base, a.r0, 4u);
    store4(base + params.n_total, a.r1, 4u);
    store4(base + 2u * params.n_total, a.r2, 4u);
    store4(base + 3u * params.n_total, a.r3, 4u);
  }
}

@compute @workgroup_size(WG_N, WG_U)
fn gemm(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= params.xi_count * params.tiles) {
    return;
  }
  xi = wid / params.tiles;
  let lt = wid - xi * params.tiles;
  let u0 = (lt % params.u_tiles) * (4u * RU * WG_U);
  let n0 = (lt / params.u_tiles) * (4u * WG_N);
  let tid = lid.y * WG_N + lid.x;
  let C = params.channels;
  clear_acc();
  w_put(w_fetch(0u, u0, tid, C), tid);
  x_put(x_fetch(0u, n0, tid), tid);
  workgroupBarrier();
  for (var k0 = 0u; k0 < C; k0 += K_CHUNK) {
    // chunk k0 is staged; the next one's loads are in flight while it is multiplied
    let next = k0 + K_CHUNK;
    var wl: Loads;
    var xl: Loads;
    if (next < C) {
      wl = w_fetch(next, u0, tid, C);
      xl = x_fetch(next, n0, tid);
    }
    accumulate(lid.x, lid.y);
    workgroupBarrier();
    if (next < C) {
      w_put(wl, tid);
      x_put(xl, tid);
    }
    workgroupBarrier();
  }
  let n = n0 + 4u * lid.x;
  let u = u0 + 4u * lid.y;
  if (n < params.n_total) {
    m_store(a0, u, n);
    if (RU > 1u) {
      m_store(a1, u + 4u * WG_U, n);
    }
    if (RU > 2u) {
      m_store(a2, u + 8u * WG_U, n);
    }
    if (RU > 3u) {
      m_store(a3, u + 12u * WG_U, n);
    }
    if (RU > 4u) {
      m_store(a4, u + 16u * WG_U, n);
    }
  }
}

// ---- output_transform: Y = A^T M A, bias, nonlinearity, for filter f, tile t, batch b .. b + 3 ----

fn bias_elem(i: u32) -> f32 {
  if (W_ARENA == 1u) {
    return load1(params.b_off + i);
  }
  return bias[i];
}

fn put_output(f: u32, oy: u32, ox: u32, b: u32, v: vec4<f32>) {
  if (oy >= params.out_rows || ox >= params.out_cols) {
    return;
  }
  var x = v;
  if (BIAS == BIAS_TIED) {
    x += vec4<f32>(bias_elem(f));
  } else if (BIAS == BIAS_UNTIED) {
    x += vec4<f32>(bias_elem(f * params.positions + oy * params.out_cols + ox));
  }
  store4(params.out_off + ((f * params.out_rows + oy) * params.out_cols + ox) * params.batch + b, activate4(x, params.act), 4u);
}

@compute @workgroup_size(TRANSFORM_GROUP)
fn output_transform(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let B = params.batch;
  let b4 = B / 4u;
  let T = params.tiles_h * params.tiles_w;
  let F = params.filters;
  let N = params.n_total;
  let idx = linear_id(wg, nwg, lid);
  if (idx >= F * T * b4) {
    return;
  }
  let q = idx / b4;
  let b = 4u * (idx - q * b4);
  let f = q / T;
  let t = q - f * T;
  let ty = t / params.tiles_w;
  let tx = t - ty * params.tiles_w;
  // s = A^T M: 2 x 4, column by column
  var s: array<vec4<f32>, 8>;
  let base = params.m_off + f * N + t * B + b;
  for (var j = 0u; j < 4u; j++) {
    let m0 = load4(base + j * F * N, 4u);
    let m1 = load4(base + (4u + j) * F * N, 4u);
    let m2 = load4(base + (8u + j) * F * N, 4u);
    let m3 = load4(base + (12u + j) * F * N, 4u);
    s[j] = m0 + m1 + m2;
    s[4u + j] = m1 - m2 - m3;
  }
  // Y = s A
  let oy = 2u * ty;
  let ox = 2u * tx;
  for (var r = 0u; r < 2u; r++) {
    let s0 = s[4u * r];
    let s1 = s[4u * r + 1u];
    let s2 = s[4u * r + 2u];
    let s3 = s[4u * r + 3u];
    put_output(f, oy + r, ox, b, s0 + s1 + s2);
    put_output(f, oy + r, ox + 1u, b, s1 - s2 - s3);
  }
}

// ---- F(4x4, 3x3): the 6x6 transforms (gemm above with params.xi_count = 36) ----
//
// Each 1-D transform below is one matrix applied to six (or three) vec4s; the 2-D transforms apply
// it to the columns, then to the rows of the result. Evaluation depth (roundings along any path, the
// tests' tolerance counts them): g6 4, bt6 3, at4 3.

// G (g0, g1, g2): G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
fn g6(g0: vec4<f32>, g1: vec4<f32>, g2: vec4<f32>) -> array<vec4<f32>, 6> {
  let p = g0 + g2;
  let q = (1.0 / 24.0) * g0 + (1.0 / 6.0) * g2;
  let h = (1.0 / 12.0) * g1;
  return array<vec4<f32>, 6>(0.25 * g0, (-1.0 / 6.0) * (p + g1), (-1.0 / 6.0) * (p - g1), q + h, q - h, g2);
}

// B^T d: B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
fn bt6(d: array<vec4<f32>, 6>) -> array<vec4<f32>, 6> {
  let a = d[3] + d[4];
  let b = d[4] - d[3];
  let c = d[4] - d[2];
  let e = 2.0 * (d[3] - d[1]);
  return array<vec4<f32>, 6>(
    (4.0 * d[0] - 5.0 * d[2]) + d[4],
    a - 4.0 * (d[1] + d[2]),
    b + 4.0 * (d[1] - d[2]),
    c + e,
    c - e,
    (4.0 * d[1] - 5.0 * d[3]) + d[5],
  );
}

// A^T m: A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
fn at4(m: array<vec4<f32>, 6>) -> array<vec4<f32>, 4> {
  let p = m[1] + m[2];
  let q = m[1] - m[2];
  let r = m[3] + m[4];
  let s = m[3] - m[4];
  return array<vec4<f32>, 4>((m[0] + p) + r, q + 2.0 * s, p + 4.0 * r, (q + 8.0 * s) + m[5]);
}

// U = G g G^T for filters f .. f + 3 of channel c: U[6r + s][c][f]
@compute @workgroup_size(TRANSFORM_GROUP)
fn weight_transform_f4(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let F = params.filters;
  let C = params.channels;
  let f4 = F / 4u;
  let idx = linear_id(wg, nwg, lid);
  if (idx >= C * f4) {
    return;
  }
  let c = idx / f4;
  let f = 4u * (idx - c * f4);
  // t = G g: 6 x 3, t[3r + j]
  var t: array<vec4<f32>, 18>;
  for (var j = 0u; j < 3u; j++) {
    var col = g6(weight4(((c * 3u + 0u) * 3u + j) * F + f), weight4(((c * 3u + 1u) * 3u + j) * F + f), weight4(((c * 3u + 2u) * 3u + j) * F + f));
    for (var r = 0u; r < 6u; r++) {
      t[3u * r + j] = col[r];
    }
  }
  // U = t G^T: 6 x 6
  for (var r = 0u; r < 6u; r++) {
    var row = g6(t[3u * r], t[3u * r + 1u], t[3u * r + 2u]);
    let base = params.u_off + (6u * r * C + c) * F + f;
    for (var s = 0u; s < 6u; s++) {
      store4(base + s * C * F, row[s], 4u);
    }
  }
}

// V = B^T d B for batch items b .. b + 3, channel c, tile t (d the 6x6 patch at (4ty - pad, 4tx - pad))
@compute @workgroup_size(TRANSFORM_GROUP)
fn input_transform_f4(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let B = params.batch;
  let b4 = B / 4u;
  let T = params.tiles_h * params.tiles_w;
  let idx = linear_id(wg, nwg, lid);
  if (idx >= params.channels * T * b4) {
    return;
  }
  let q = idx / b4;
  let b = 4u * (idx - q * b4);
  let c = q / T;
  let t = q - c * T;
  let ty = t / params.tiles_w;
  let tx = t - ty * params.tiles_w;
  let y0 = i32(4u * ty) - i32(params.pad);
  let x0 = i32(4u * tx) - i32(params.pad);
  // e = B^T d, column by column: e[6r + j]
  var e: array<vec4<f32>, 36>;
  for (var j = 0u; j < 6u; j++) {
    let x = x0 + i32(j);
    var d: array<vec4<f32>, 6>;
    for (var i = 0u; i < 6u; i++) {
      d[i] = input4(c, y0 + i32(i), x, b);
    }
    var col = bt6(d);
    for (var r = 0u; r < 6u; r++) {
      e[6u * r + j] = col[r];
    }
  }
  // V = e B, row by row
  let C = params.channels;
  let N = params.n_total;
  for (var r = 0u; r < 6u; r++) {
    var d: array<vec4<f32>, 6>;
    for (var j = 0u; j < 6u; j++) {
      d[j] = e[6u * r + j];
    }
    var row = bt6(d);
    let base = params.v_off + (6u * r * C + c) * N + t * B + b;
    for (var s = 0u; s < 6u; s++) {
      store4(base + s * C * N, row[s], 4u);
    }
  }
}

// Y = A^T M A, bias, nonlinearity, for filter f, tile t, batch b .. b + 3 (clipped at OH, OW)
@compute @workgroup_size(TRANSFORM_GROUP)
fn output_transform_f4(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let B = params.batch;
  let b4 = B / 4u;
  let T = params.tiles_h * params.tiles_w;
  let F = params.filters;
  let N = params.n_total;
  let idx = linear_id(wg, nwg, lid);
  if (idx >= F * T * b4) {
    return;
  }
  let q = idx / b4;
  let b = 4u * (idx - q * b4);
  let f = q / T;
  let t = q - f * T;
  let ty = t / params.tiles_w;
  let tx = t - ty * params.tiles_w;
  // s = A^T M: 4 x 6, column by column: s[6r + j]
  var s: array<vec4<f32>, 24>;
  let base = params.m_off + f * N + t * B + b;
  for (var j = 0u; j < 6u; j++) {
    var m: array<vec4<f32>, 6>;
    for (var r = 0u; r < 6u; r++) {
      m[r] = load4(base + (6u * r + j) * F * N, 4u);
    }
    var col = at4(m);
    for (var r = 0u; r < 4u; r++) {
      s[6u * r + j] = col[r];
    }
  }
  // Y = s A, row by row
  let oy = 4u * ty;
  let ox = 4u * tx;
  for (var r = 0u; r < 4u; r++) {
    var m: array<vec4<f32>, 6>;
    for (var j = 0u; j < 6u; j++) {
      m[j] = s[6u * r + j];
    }
    var y = at4(m);
    for (var dx = 0u; dx < 4u; dx++) {
      put_output(f, oy + r, ox + dx, b, y[dx]);
    }
  }
}
