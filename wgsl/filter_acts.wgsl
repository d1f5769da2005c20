// filter_acts.wgsl: forward convolution, cuda-convnet's FilterActs as Lasagne's Conv2DCCLayer runs it
// (pylearn2 sandbox/cuda_convnet/filter_acts.cu; lasagne/layers/cuda_convnet.py get_output_for):
// a correlation with zero padding in c01b, on Lasagne's (truncated) output grid, fused with the bias
// and the nonlinearity:
//
//   out[f, oy, ox, b] = act(bias + sum_{c, i, j} in[c, oy*s + i - pad, ox*s + j - pad, b] * w[c, i, j, f])
//
// with `in` outside [0, H) x [0, W) read as 0; bias b[f] (tied) or b[f, oy, ox] (untied). Compiled
// with stage_rows.wgsl (the stage: a row per K) and gemm.wgsl (the staged GEMM core: loads, w_fetch, w_put, x_put) and epilogue.wgsl
// (activate(), override ACT) prepended.
//
// Bindings (group 0):
//   0  arena    storage, read_write  declared by the prepended arena_vec4.wgsl or arena_scalar.wgsl:
//                                    all tensors; input c01b (C, H, W, B) at params.in_off, output c01b
//                                    (F, OH, OW, B) at params.out_off, both element offsets into the
//                                    bound range (multiples of 4 with arena_vec4.wgsl)
//   1  weights  storage, read        array<vec4<f32>>: (C, k, k, F) row-major, the GEMM's (K, F) with
//                                    K = C*k*k, rows params.w_stride (= F) floats apart; already flipped
//                                    when the layer has flipFilters (src/ops/weights.ts kernelWeights)
//   2  bias     storage, read        array<f32>: b[f] (BIAS 1) or b[f, oy, ox] (BIAS 2); not read for
//                                    BIAS 0 (bind any buffer)
//   3  params   uniform              Params
// Overrides: W_ARENA (1: weight and bias from the arena at params.w_off, b_off, a training plan); ACT (epilogue.wgsl); BIAS one of BIAS_NONE, BIAS_TIED, BIAS_UNTIED (the generated codes); WG_N, WG_F: workgroup size
//   (WG_N, WG_F), WG_N * WG_F <= 256; RF: 1 or 2 groups of 4 filters per thread; K_CHUNK: rows of K
//   per stage. Each thread loads at most 4 vec4s of weights and 4 of inputs per chunk (the host
//   keeps K_CHUNK * RF * WG_F and K_CHUNK * WG_N within 4 * WG_N * WG_F). Workgroup memory:
//   16 * (K_CHUNK * (RF * WG_F + WG_N) + WG_N) bytes (arena_vec4; arena_scalar keeps 4 * WG_N column
//   records), which the host keeps within the device limit. Every element is written before it is
//   read.
// Entry points: main, and split_sum (the second pass of split K). One source for both paths: the
//   host prepends arena_vec4.wgsl (needs B % 4 == 0 and 16-byte aligned offsets: a vec4 of columns
//   shares a position) or arena_scalar.wgsl (any B): load4(i, COLS_PER_RECORD) and put_record take a
//   record of columns (a vec4, or one column).
// Geometry: an implicit GEMM out(F, N) = w(K, F)^T x im2col(K, N), N = OH*OW*B, batch innermost.
//   A workgroup computes TILE_F = 4*RF*WG_F filters by TILE_N = 4*WG_N columns in chunks of K_CHUNK
//   rows of K staged in workgroup memory; a thread computes 4*RF filters (f0 + 4*ly + 4*WG_F*r,
//   r < RF, 4 each) by 4 consecutive columns n0 + 4*lx .. + 3 (one vec4 along the batch with
//   arena_vec4). Software pipelined: the global loads of chunk i+1 are issued into registers before
//   chunk i is multiplied, so their latency hides behind the FMAs (on an H100 this made L2 15%
//   faster; a second stage buffer in workgroup memory, one barrier per chunk, and 8 x 8 register
//   tiles were both slower, and are not kept).
//   Tiles: params.f_tiles = ceil(F / TILE_F) times ceil(N / TILE_N) = params.tiles; workgroup id
//   wid = wg.x + wg.y * num_workgroups.x (the host splits wid over x and y beyond 65535 workgroups),
//   filter tile wid % f_tiles (fastest, so neighbours share input columns), column tile wid / f_tiles.

struct Params {
  in_off: u32,
  out_off: u32,
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
  // K = C*k*k and N = OH*OW*B
  k_total: u32,
  n_total: u32,
  f_tiles: u32,
  tiles: u32,
  // OH*OW: the untied bias is b[f * positions + n / batch]
  positions: u32,
  w_stride: u32,
  // split K (SPLIT > 1): raw partial sums of slice s at scratch_off + (s * filters + f) * n_total + n,
  // slices of k_per rows (a multiple of K_CHUNK), base_tiles = f_tiles * column tiles per slice
  scratch_off: u32,
  k_per: u32,
  slices: u32,
  base_tiles: u32,
  act: vec2<f32>,
  // W_ARENA 1 (a training plan): the weight (C, k, k, F) and the bias are arena tensors at these
  // element offsets of the bound range
  w_off: u32,
  b_off: u32,
}

@group(0) @binding(1) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override BIAS: u32 = 0u;
override WG_N: u32 = 16u;
override WG_F: u32 = 16u;
override RF: u32 = 1u;
// 1 or 2 groups of 4 columns per thread: n0 + 4*cx and, with 2, n0 + 4*(cx + WG_N)
override RN: u32 = 1u;
// 1: a workgroup sums all of K and writes the output; > 1: it sums one slice of K into scratch, and
// split_sum_* adds the slices, the bias and the nonlinearity (more workgroups for layers with few tiles)
override SPLIT: u32 = 1u;
// 1: the weight and bias are read from the arena at params.w_off and params.b_off (a training plan,
// whose parameters are arena tensors), not from bindings 1 and 2
override W_ARENA: u32 = 0u;

const MAX_LOADS: u32 = 4u;

// Per column n of the tile: (oy*s - pad, ox*s - pad, b, 1 if n < N else 0); one record per
// COLS_PER_RECORD columns (arena_vec4: a vec4 of columns shares a position).
var<workgroup> col_info: array<vec4<i32>, 4u * RN * WG_N / COLS_PER_RECORD>;

// A thread's 4*RF x 4 accumulators: a<r> holds filter f0 + 4*ly + 4*WG_F*(r / 4) + r % 4.
struct Acc {
  a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>,
  a4: vec4<f32>, a5: vec4<f32>, a6: vec4<f32>, a7: vec4<f32>,
  // the second column group (RN 2)
  b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>,
  b4: vec4<f32>, b5: vec4<f32>, b6: vec4<f32>, b7: vec4<f32>,
}

fn threads() -> u32 {
  return WG_N * WG_F;
}

fn w_stage() -> u32 {
  return K_CHUNK * RF * WG_F;
}

fn x_stage() -> u32 {
  return K_CHUNK * RN * WG_N;
}

fn column_info(n: u32) -> vec4<i32> {
  if (n >= params.n_total) {
    return vec4<i32>(0, 0, 0, 0);
  }
  let p = n / params.batch;
  let b = n - p * params.batch;
  let oy = p / params.out_cols;
  let ox = p - oy * params.out_cols;
  let s = i32(params.stride);
  let pad = i32(params.pad);
  return vec4<i32>(i32(oy) * s - pad, i32(ox) * s - pad, i32(b), 1);
}

// GEMM row k = (c*fs + i)*fs + j (fs = filter_size) as (k, c, i, j): one per input load slot of a
// thread, decomposed once and then advanced by K_CHUNK rows per stage without dividing.
struct Rows {
  s0: vec4<u32>, s1: vec4<u32>, s2: vec4<u32>, s3: vec4<u32>,
}

fn row_of(k: u32) -> vec4<u32> {
  let ksq = params.filter_size * params.filter_size;
  let c = k / ksq;
  let r = k - c * ksq;
  let i = r / params.filter_size;
  return vec4<u32>(k, c, i, r - i * params.filter_size);
}

// step = row_of(K_CHUNK): (K_CHUNK, dc, di, dj); i and j stay below fs with at most one carry each
fn row_next(r: vec4<u32>, step: vec4<u32>) -> vec4<u32> {
  let fs = params.filter_size;
  var j = r.w + step.w;
  var i = r.z + step.z;
  var c = r.y + step.y;
  if (j >= fs) {
    j -= fs;
    i += 1u;
  }
  if (i >= fs) {
    i -= fs;
    c += 1u;
  }
  return vec4<u32>(r.x + step.x, c, i, j);
}

// The rows of the first stage's input loads tid + s * threads() (s < 4), the stage at row k0.
fn rows_first(k0: u32, tid: u32) -> Rows {
  var r: Rows;
  r.s0 = row_of(k0 + tid / (RN * WG_N));
  if (x_stage() > threads()) {
    r.s1 = row_of(k0 + (tid + threads()) / (RN * WG_N));
  }
  if (x_stage() > 2u * threads()) {
    r.s2 = row_of(k0 + (tid + 2u * threads()) / (RN * WG_N));
  }
  if (x_stage() > 3u * threads()) {
    r.s3 = row_of(k0 + (tid + 3u * threads()) / (RN * WG_N));
  }
  return r;
}

fn rows_next(r: Rows, step: vec4<u32>) -> Rows {
  var n = r;
  n.s0 = row_next(r.s0, step);
  if (x_stage() > threads()) {
    n.s1 = row_next(r.s1, step);
  }
  if (x_stage() > 2u * threads()) {
    n.s2 = row_next(r.s2, step);
  }
  if (x_stage() > 3u * threads()) {
    n.s3 = row_next(r.s3, step);
  }
  return n;
}

// Element offset of in[c, y0 + i, x0 + j, 0] for row (k, c, i, j) and a column's (y0, x0), or -1
// where the row does not exist or the position is padding.
fn row_base(row: vec4<u32>, col: vec4<i32>, k_stop: u32) -> i32 {
  if (row.x >= k_stop || col.w == 0) {
    return -1;
  }
  let y = col.x + i32(row.z);
  let x = col.y + i32(row.w);
  if (y < 0 || y >= i32(params.rows) || x < 0 || x >= i32(params.cols)) {
    return -1;
  }
  return i32(((row.y * params.rows + u32(y)) * params.cols + u32(x)) * params.batch);
}

// Weight vec4 t of the stage starting at row k0 (0 outside w or the stage).
fn w_load(k0: u32, f0: u32, t: u32, k_stop: u32) -> vec4<f32> {
  if (t >= w_stage()) {
    return vec4<f32>(0.0);
  }
  let k = k0 + t / (RF * WG_F);
  let f = f0 + 4u * (t % (RF * WG_F));
  if (k < k_stop && f < params.filters) {
    if (W_ARENA == 1u) {
      return load4(params.w_off + k * params.w_stride + f, 4u);
    }
    return weights[(k * params.w_stride + f) / 4u];
  }
  return vec4<f32>(0.0);
}

// im2col vec4 t of a stage, in row `row`: 4 consecutive columns, one record per COLS_PER_RECORD
// of them (arena_vec4: one batch-consecutive vec4 load; arena_scalar: gathered one by one). Written
// without a VEC4 branch: a dead branch of the other path made the vec4 kernel 5-13% slower on the
// H200 (scripts/bench_webgpu.mjs, L1 and C1), though the driver should drop it.
fn x_load(row: vec4<u32>, t: u32, k_stop: u32) -> vec4<f32> {
  var x = vec4<f32>(0.0);
  if (t >= x_stage()) {
    return x;
  }
  let first = (4u / COLS_PER_RECORD) * (t % (RN * WG_N));
  for (var e = 0u; e < 4u / COLS_PER_RECORD; e++) {
    let col = col_info[first + e];
    let base = row_base(row, col, k_stop);
    if (base >= 0) {
      x = put_record(x, e, load4(params.in_off + u32(base) + u32(col.z), COLS_PER_RECORD));
    }
  }
  return x;
}

fn x_fetch(r: Rows, tid: u32, k_stop: u32) -> Loads {
  var l: Loads;
  l.v0 = x_load(r.s0, tid, k_stop);
  if (x_stage() > threads()) {
    l.v1 = x_load(r.s1, tid + threads(), k_stop);
  }
  if (x_stage() > 2u * threads()) {
    l.v2 = x_load(r.s2, tid + 2u * threads(), k_stop);
  }
  if (x_stage() > 3u * threads()) {
    l.v3 = x_load(r.s3, tid + 3u * threads(), k_stop);
  }
  return l;
}

fn accumulate(acc_in: Acc, lx: u32, ly: u32) -> Acc {
  var acc = acc_in;
  for (var kk = 0u; kk < K_CHUNK; kk++) {
    let w = w_tile[kk][ly];
    let x = x_tile[kk][lx];
    acc.a0 += w.x * x;
    acc.a1 += w.y * x;
    acc.a2 += w.z * x;
    acc.a3 += w.w * x;
    var w1 = vec4<f32>(0.0);
    if (RF == 2u) {
      w1 = w_tile[kk][WG_F + ly];
      acc.a4 += w1.x * x;
      acc.a5 += w1.y * x;
      acc.a6 += w1.z * x;
      acc.a7 += w1.w * x;
    }
    if (RN == 2u) {
      let x1 = x_tile[kk][WG_N + lx];
      acc.b0 += w.x * x1;
      acc.b1 += w.y * x1;
      acc.b2 += w.z * x1;
      acc.b3 += w.w * x1;
      if (RF == 2u) {
        acc.b4 += w1.x * x1;
        acc.b5 += w1.y * x1;
        acc.b6 += w1.z * x1;
        acc.b7 += w1.w * x1;
      }
    }
  }
  return acc;
}

fn zero_acc() -> Acc {
  let z = vec4<f32>(0.0);
  return Acc(z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z);
}

// The accumulators of column group g: 8 filter rows (RF 1 uses the first 4).
fn rows_of(acc: Acc, g: u32) -> array<vec4<f32>, 8> {
  if (g == 1u) {
    return array<vec4<f32>, 8>(acc.b0, acc.b1, acc.b2, acc.b3, acc.b4, acc.b5, acc.b6, acc.b7);
  }
  return array<vec4<f32>, 8>(acc.a0, acc.a1, acc.a2, acc.a3, acc.a4, acc.a5, acc.a6, acc.a7);
}

fn bias_elem(i: u32) -> f32 {
  if (W_ARENA == 1u) {
    return load1(params.b_off + i);
  }
  return bias[i];
}

fn bias_at(f: u32, n: u32) -> f32 {
  if (BIAS == BIAS_TIED) {
    return bias_elem(f);
  }
  if (BIAS == BIAS_UNTIED) {
    return bias_elem(f * params.positions + n / params.batch);
  }
  return 0.0;
}

// The bias of columns n .. n+3 of filter f (with arena_vec4 all four share a position).
fn bias4(f: u32, n: u32) -> vec4<f32> {
  var b = vec4<f32>(0.0);
  for (var e = 0u; e < 4u / COLS_PER_RECORD; e++) {
    b = put_record(b, e, vec4<f32>(bias_at(f, n + e)));
  }
  return b;
}

// Columns n .. n + count - 1 (count <= 4) of filter f: bias, nonlinearity, store.
fn store_cols(f: u32, n: u32, v: vec4<f32>, count: u32) {
  if (f < params.filters) {
    var x = v;
    if (BIAS != BIAS_NONE) {
      x += bias4(f, n);
    }
    store4(params.out_off + f * params.n_total + n, activate4(x, params.act), count);
  }
}

// SPLIT > 1: the raw sums of one K slice into scratch (no bias, no nonlinearity).
fn store_partial(acc: Acc, slice: u32, f0: u32, n0: u32, cell: vec2<u32>) {
  for (var g = 0u; g < RN; g++) {
    let n = n0 + 4u * (cell.x + WG_N * g);
    if (n < params.n_total) {
      let rows = rows_of(acc, g);
      for (var r = 0u; r < 4u * RF; r++) {
        let f = f0 + 4u * (cell.y + WG_F * (r / 4u)) + r % 4u;
        if (f < params.filters) {
          store4(params.scratch_off + (slice * params.filters + f) * params.n_total + n, rows[r], min(4u, params.n_total - n));
        }
      }
    }
  }
}

@compute @workgroup_size(WG_N, WG_F)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= params.tiles) {
    return;
  }
  // slice of K (0 without SPLIT) and tile within it
  let slice = wid / params.base_tiles;
  let tile = wid - slice * params.base_tiles;
  let k_begin = slice * params.k_per;
  let k_stop = min(params.k_total, k_begin + params.k_per);
  let f0 = (tile % params.f_tiles) * (4u * RF * WG_F);
  let n0 = (tile / params.f_tiles) * (4u * RN * WG_N);
  let tid = lid.y * WG_N + lid.x;
  let cell = lid.xy;
  for (var t = tid; t < 4u * RN * WG_N / COLS_PER_RECORD; t += threads()) {
    col_info[t] = column_info(n0 + COLS_PER_RECORD * t);
  }
  workgroupBarrier();
  let step = row_of(K_CHUNK);
  var rows = rows_first(k_begin, tid);
  w_put(w_fetch(k_begin, f0, tid, k_stop), tid);
  x_put(x_fetch(rows, tid, k_stop), tid);
  workgroupBarrier();
  var acc = zero_acc();
  for (var k0 = k_begin; k0 < k_stop; k0 += K_CHUNK) {
    // chunk k0 is staged; the next one's loads are in flight while it is multiplied
    let next = k0 + K_CHUNK;
    var wl: Loads;
    var xl: Loads;
    if (next < k_stop) {
      rows = rows_next(rows, step);
      wl = w_fetch(next, f0, tid, k_stop);
      xl = x_fetch(rows, tid, k_stop);
    }
    acc = accumulate(acc, cell.x, cell.y);
    workgroupBarrier();
    if (next < k_stop) {
      w_put(wl, tid);
      x_put(xl, tid);
    }
    workgroupBarrier();
  }
  if (SPLIT > 1u) {
    store_partial(acc, slice, f0, n0, cell);
    return;
  }
  for (var g = 0u; g < RN; g++) {
    let n = n0 + 4u * (cell.x + WG_N * g);
    if (n < params.n_total) {
      let rows = rows_of(acc, g);
      for (var r = 0u; r < 4u * RF; r++) {
        store_cols(f0 + 4u * (cell.y + WG_F * (r / 4u)) + r % 4u, n, rows[r], min(4u, params.n_total - n));
      }
    }
  }
}

// The second pass of split K: out[f, n] = act(bias + sum over slices, in order, of the partial
// sums); one invocation per record of COLS_PER_RECORD columns (a vec4 with arena_vec4, one column
// with arena_scalar), SPLIT_GROUP invocations per workgroup, linear id over x and y like the GEMM.
const SPLIT_GROUP: u32 = 256u;

@compute @workgroup_size(SPLIT_GROUP)
fn split_sum(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let item = (wg.x + wg.y * nwg.x) * SPLIT_GROUP + li;
  let per_filter = params.n_total / COLS_PER_RECORD;
  if (item >= params.filters * per_filter) {
    return;
  }
  let f = item / per_filter;
  let n = COLS_PER_RECORD * (item - f * per_filter);
  var v = vec4<f32>(0.0);
  for (var s = 0u; s < params.slices; s++) {
    v += load4(params.scratch_off + (s * params.filters + f) * params.n_total + n, COLS_PER_RECORD);
  }
  store_cols(f, n, v, COLS_PER_RECORD);
}
