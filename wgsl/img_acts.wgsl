// img_acts.wgsl: the input gradient of cuda-convnet's FilterActs (pylearn2 ImageActs; src/ops/backward.ts
// ImgActsStep), in c01b. dz (F, OH, OW, B) on Lasagne's output grid, w the kernel-layout (C, k, k, F)
// weight the forward used (already flipped when the layer flips; src/ops/weights.ts kernelWeights),
// dx (C, H, W, B):
//
//   dx[c, y, x, b] = sum over taps (i, j) and filters f of w[c, i, j, f] * dz[f, oy, ox, b]
//                    where y = oy*s + i - pad, x = ox*s + j - pad, 0 <= oy < OH, 0 <= ox < OW
//
// Bindings (group 0):
//   0  arena    storage, read_write  array<f32> (main_scalar) or array<vec4<f32>> (main_vec4): dz at
//                                    params.dz_off, dx at params.dx_off (element offsets; multiples
//                                    of 4 for main_vec4)
//   1  weights  storage, read        array<f32>: w (C, k, k, F) at params.w_off
//   2  params   uniform              Params
// Overrides: W_ARENA (1: w from the arena at params.w_off, a training plan); WG_C, WG_N: workgroup size (WG_N, WG_C), WG_N * WG_C = 256 (a thread computes 4
//   channels x 4 columns, so the tile is TILE_C = 4 WG_C channels by TILE_N = 4 WG_N columns);
//   K_CHUNK: filters per stage. The host (src/backend/webgpu/backward.ts imgActsTile) picks
//   (16, 16, 16), or narrower channel tiles for layers with few channels (a first layer's C = 3
//   would leave 61 of 64 tile rows idle): (4, 64, 8) for C <= 16, (2, 128, 2) for C <= 8.
//   Workgroup memory 16 (K_CHUNK (WG_C + WG_N) + 4 WG_N) bytes, within 16 KiB for all three.
// Entry points: main_vec4 (needs B % 4 == 0 and 16-byte aligned offsets: a thread's 4 columns are
//   4 batch entries of one position, read and written as one vec4), main_scalar (any B).
// Geometry: a GEMM dx(C, N) = w(C, K) x dzcol(K, N), N = H*W*B (batch innermost), K = k*k*F taps x
//   filters, dzcol[(i, j, f), (y, x, b)] = dz[f, (y + pad - i) / s, (x + pad - j) / s, b] where that
//   divides evenly and lands on the grid, else 0 (the col2im of cuda-convnet's ImageActs, never
//   materialised). A workgroup computes a TILE_C x TILE_N tile, K in chunks of K_CHUNK filters of
//   one tap staged in workgroup memory; a thread computes 4 channels x 4 consecutive columns (a
//   vec4 along the batch) with 16 vec4 FMAs per 2 workgroup-memory vec4 reads. The staging loads
//   are coalesced: the weight stage's threads run along f (contiguous in w), the dz stage's along
//   the columns (b, then x: contiguous in dz; one vec4 load per thread in main_vec4). Per column
//   the tile keeps (y + pad, x + pad, b) so that a tap's source module costs two compares and two
//   divisions. Tiles: params.c_tiles = ceil(C / TILE_C) times ceil(N / TILE_N) = params.tiles;
//   workgroup id wg.x + wg.y * num_workgroups.x, channel tile fastest.
//   Summation order per output: taps (i, j) ascending, then f ascending (float32).

struct Params {
  dz_off: u32,
  dx_off: u32,
  w_off: u32,
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
  n_total: u32,
  c_tiles: u32,
  tiles: u32,
}

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;
@group(0) @binding(0) var<storage, read_write> arena4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// 1: w is read from the arena at params.w_off (a training plan, whose kernel-form weight is an arena
// tensor), not from binding 1
override W_ARENA: u32 = 0u;

// (main_scalar binds the arena as `arena`, main_vec4 as `arena4`: an entry point may use only one, so
// each has its own weight reader and stage loader)
fn w_at(i: u32) -> f32 {
  if (W_ARENA == 1u) {
    return arena[i];
  }
  return weights[i];
}

fn w_at4(i: u32) -> f32 {
  if (W_ARENA == 1u) {
    return arena4[i / 4u][i % 4u];
  }
  return weights[i];
}

override WG_C: u32 = 16u;
override WG_N: u32 = 16u;
override K_CHUNK: u32 = 16u;

const THREADS: u32 = 256u;

// w_stage[kk * WG_C + t] = w[c0 + 4t .. c0 + 4t + 3, tap, f0 + kk]
var<workgroup> w_stage: array<vec4<f32>, K_CHUNK * WG_C>;
// d_stage[kk * WG_N + t] = dzcol[(tap, f0 + kk), n0 + 4t .. n0 + 4t + 3]
var<workgroup> d_stage: array<vec4<f32>, K_CHUNK * WG_N>;
// per column n0 + t (main_scalar), or per 4 columns n0 + 4t (main_vec4): (y + pad, x + pad, b, 1 if it exists)
var<workgroup> col_info: array<vec4<i32>, 4u * WG_N>;

fn column_info(n: u32) -> vec4<i32> {
  if (n >= params.n_total) {
    return vec4<i32>(0, 0, 0, 0);
  }
  let p = n / params.batch;
  let b = n - p * params.batch;
  let y = p / params.cols;
  let x = p - y * params.cols;
  return vec4<i32>(i32(y + params.pad), i32(x + params.pad), i32(b), 1);
}

// Element offset of dz[f, oy, ox, b] for the module that tap (i, j) of column info `col` comes from,
// or -1 when there is none (padding, stride, beyond the grid, or past the last filter or column).
fn dz_index(col: vec4<i32>, i: i32, j: i32, f: u32) -> i32 {
  let ty = col.x - i;
  let tx = col.y - j;
  let s = i32(params.stride);
  if (col.w == 0 || f >= params.filters || ty < 0 || tx < 0 || ty % s != 0 || tx % s != 0) {
    return -1;
  }
  let oy = u32(ty / s);
  let ox = u32(tx / s);
  if (oy >= params.out_rows || ox >= params.out_cols) {
    return -1;
  }
  return i32(params.dz_off + ((f * params.out_rows + oy) * params.out_cols + ox) * params.batch + u32(col.z));
}

// The weight stage: w[c0 + 4 w_t .. + 3, tap (i, j), f]
fn w_stage_load(c0: u32, w_t: u32, i: u32, j: u32, f: u32) -> vec4<f32> {
  var wv = vec4<f32>(0.0);
  let k = params.filter_size;
  for (var e = 0u; e < 4u; e++) {
    let c = c0 + 4u * w_t + e;
    if (c < params.channels && f < params.filters) {
      wv[e] = w_at(params.w_off + ((c * k + i) * k + j) * params.filters + f);
    }
  }
  return wv;
}

// The weight stage (main_vec4): w[c0 + 4 w_t .. + 3, tap (i, j), f]
fn w_stage_load4(c0: u32, w_t: u32, i: u32, j: u32, f: u32) -> vec4<f32> {
  var wv = vec4<f32>(0.0);
  let k = params.filter_size;
  for (var e = 0u; e < 4u; e++) {
    let c = c0 + 4u * w_t + e;
    if (c < params.channels && f < params.filters) {
      wv[e] = w_at4(params.w_off + ((c * k + i) * k + j) * params.filters + f);
    }
  }
  return wv;
}

// One chunk's products: a thread's 4 channels (rows 4 ly ..) x 4 columns (4 lx ..).
struct Acc {
  a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>,
}

fn accumulate(acc_in: Acc, lx: u32, ly: u32) -> Acc {
  var acc = acc_in;
  for (var kk = 0u; kk < K_CHUNK; kk++) {
    let w = w_stage[kk * WG_C + ly];
    let d = d_stage[kk * WG_N + lx];
    acc.a0 += w.x * d;
    acc.a1 += w.y * d;
    acc.a2 += w.z * d;
    acc.a3 += w.w * d;
  }
  return acc;
}

@compute @workgroup_size(WG_N, WG_C)
fn main_vec4(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= params.tiles) {
    return;
  }
  let c0 = (wid % params.c_tiles) * (4u * WG_C);
  let n0 = (wid / params.c_tiles) * (4u * WG_N);
  let tid = lid.y * WG_N + lid.x;
  // one record per 4 columns: they are 4 batch entries of one position
  for (var t = tid; t < WG_N; t += THREADS) {
    col_info[t] = column_info(n0 + 4u * t);
  }
  workgroupBarrier();
  let k = params.filter_size;
  var acc = Acc(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var tap = 0u; tap < k * k; tap++) {
    let i = tap / k;
    let j = tap - i * k;
    for (var f0 = 0u; f0 < params.filters; f0 += K_CHUNK) {
      // weights along f (kk fastest), dz along the columns (t fastest)
      for (var t = tid; t < K_CHUNK * WG_C; t += THREADS) {
        w_stage[(t % K_CHUNK) * WG_C + t / K_CHUNK] = w_stage_load4(c0, t / K_CHUNK, i, j, f0 + t % K_CHUNK);
      }
      for (var t = tid; t < K_CHUNK * WG_N; t += THREADS) {
        let at = dz_index(col_info[t % WG_N], i32(i), i32(j), f0 + t / WG_N);
        var dv = vec4<f32>(0.0);
        if (at >= 0) {
          dv = arena4[u32(at) / 4u];
        }
        d_stage[t] = dv;
      }
      workgroupBarrier();
      acc = accumulate(acc, lid.x, lid.y);
      workgroupBarrier();
    }
  }
  let rows = array<vec4<f32>, 4>(acc.a0, acc.a1, acc.a2, acc.a3);
  let n = n0 + 4u * lid.x;
  if (n < params.n_total) {
    for (var r = 0u; r < 4u; r++) {
      let c = c0 + 4u * lid.y + r;
      if (c < params.channels) {
        arena4[(params.dx_off + c * params.n_total + n) / 4u] = rows[r];
      }
    }
  }
}

@compute @workgroup_size(WG_N, WG_C)
fn main_scalar(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= params.tiles) {
    return;
  }
  let c0 = (wid % params.c_tiles) * (4u * WG_C);
  let n0 = (wid / params.c_tiles) * (4u * WG_N);
  let tid = lid.y * WG_N + lid.x;
  for (var t = tid; t < 4u * WG_N; t += THREADS) {
    col_info[t] = column_info(n0 + t);
  }
  workgroupBarrier();
  let k = params.filter_size;
  var acc = Acc(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var tap = 0u; tap < k * k; tap++) {
    let i = tap / k;
    let j = tap - i * k;
    for (var f0 = 0u; f0 < params.filters; f0 += K_CHUNK) {
      // weights along f (kk fastest), dz along the columns (t fastest)
      for (var t = tid; t < K_CHUNK * WG_C; t += THREADS) {
        w_stage[(t % K_CHUNK) * WG_C + t / K_CHUNK] = w_stage_load(c0, t / K_CHUNK, i, j, f0 + t % K_CHUNK);
      }
      for (var t = tid; t < K_CHUNK * WG_N; t += THREADS) {
        let d_t = t % WG_N;
        var dv = vec4<f32>(0.0);
        for (var e = 0u; e < 4u; e++) {
          let at = dz_index(col_info[4u * d_t + e], i32(i), i32(j), f0 + t / WG_N);
          if (at >= 0) {
            dv[e] = arena[u32(at)];
          }
        }
        d_stage[t] = dv;
      }
      workgroupBarrier();
      acc = accumulate(acc, lid.x, lid.y);
      workgroupBarrier();
    }
  }
  let rows = array<vec4<f32>, 4>(acc.a0, acc.a1, acc.a2, acc.a3);
  let n = n0 + 4u * lid.x;
  for (var r = 0u; r < 4u; r++) {
    let c = c0 + 4u * lid.y + r;
    if (c < params.channels) {
      for (var e = 0u; e < 4u; e++) {
        if (n + e < params.n_total) {
          arena[params.dx_off + c * params.n_total + n + e] = rows[r][e];
        }
      }
    }
  }
}
