// nin_grad.wgsl: the gradients of NINLayer_c01b's GEMM (src/ops/backward.ts NinGradInputStep,
// NinGradWeightStep) as one strided GEMM out(I, J) = A(I, K) x B(K, J) with split K. With x viewed
// as (C, N), W (U, C) and dz (U, N), N = positions * B:
//
//   input gradient:  dx[c, n] = sum_u W[u, c] dz[u, n]     A = W^T (from `weights` or the arena), B = dz
//   weight gradient: dW[u, c] = sum_n dz[u, n] x[c, n]     A = dz, B = x^T (K = N: long, so split)
//
// A[i, k] = src_a[params.a_off + i * a_si + k * a_sk], B[k, j] = arena[params.b_off + k * b_sk + j * b_sj],
// out[i, j] at params.out_off + i * J + j.
//
// Bindings (group 0):
//   0  arena    storage, read_write  array<f32>: B, the output, the slices' partial outputs at
//                                    params.scratch_off + s * I * J (SLICES > 1), and A when A_WEIGHTS is false
//   1  weights  storage, read        array<f32>: A when A_WEIGHTS is true (W as uploaded for the forward)
//   2  params   uniform              Params
// Overrides: W_ARENA (1: with A_WEIGHTS, W from the arena at params.a_off, a training plan); A_WEIGHTS (bool); B_K_FAST (bool): stage B with the threads along k instead of j (for
//   the weight gradient, whose B = x^T is contiguous along k).
// Entry points: main, reduce (slices > 1: out = slice 0 + slice 1 + ... in order, one thread per element;
//   slot_sum.wgsl, which the host prepends).
// Geometry: a workgroup of 16 x 16 threads computes a 64 x 64 tile of out over one slice of K
//   (params.k_per rows, a multiple of 16), in chunks of 16 staged in workgroup memory (8 KiB); a
//   thread computes 4 rows x 4 consecutive columns (vec4 along j) with 16 vec4 FMAs per 2
//   workgroup-memory reads. Staging loads run along k for A and along j for B, or along k with
//   B_K_FAST: the contiguous axis of each operand (coalesced). Tiles:
//   i_tiles * j_tiles * slices; workgroup id wg.x + wg.y * num_workgroups.x, i tile fastest, then
//   j, then the slice. Summation per element: K ascending within a slice, then the slices in order.

struct Params {
  a_off: u32,
  a_si: u32,
  a_sk: u32,
  b_off: u32,
  b_sk: u32,
  b_sj: u32,
  out_off: u32,
  scratch_off: u32,
  rows: u32,
  cols: u32,
  depth: u32,
  i_tiles: u32,
  j_tiles: u32,
  k_per: u32,
  slices: u32,
  tiles: u32,
}

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override A_WEIGHTS: bool = false;
override B_K_FAST: bool = false;
// with A_WEIGHTS: 1 reads W from the arena (a training plan, whose W (U, C) is an arena tensor) at
// params.a_off, not from binding 1
override W_ARENA: u32 = 0u;

const WG: u32 = 16u;
const TILE: u32 = 64u;
const K_CHUNK: u32 = 16u;

// a_stage[kk * WG + t] = A[i0 + 4t .. + 3, k0 + kk];  b_stage[kk * WG + t] = B[k0 + kk, j0 + 4t .. + 3]
var<workgroup> a_stage: array<vec4<f32>, K_CHUNK * WG>;
var<workgroup> b_stage: array<vec4<f32>, K_CHUNK * WG>;

fn a_at(i: u32, k: u32, k_stop: u32) -> f32 {
  if (i >= params.rows || k >= k_stop) {
    return 0.0;
  }
  let e = params.a_off + i * params.a_si + k * params.a_sk;
  if (A_WEIGHTS && W_ARENA == 0u) {
    return weights[e];
  }
  return arena[e];
}

fn b_at(k: u32, j: u32, k_stop: u32) -> f32 {
  if (j >= params.cols || k >= k_stop) {
    return 0.0;
  }
  return arena[params.b_off + k * params.b_sk + j * params.b_sj];
}

@compute @workgroup_size(WG, WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= params.tiles) {
    return;
  }
  let i0 = (wid % params.i_tiles) * TILE;
  let rest = wid / params.i_tiles;
  let j0 = (rest % params.j_tiles) * TILE;
  let slice = rest / params.j_tiles;
  let k_begin = slice * params.k_per;
  let k_stop = min(params.depth, k_begin + params.k_per);
  let tid = lid.y * WG + lid.x;
  // A staged along k (kk fastest), B along j (t fastest)
  let a_kk = tid % K_CHUNK;
  let a_t = tid / K_CHUNK;
  var b_t = tid % WG;
  var b_kk = tid / WG;
  if (B_K_FAST) {
    b_kk = tid % K_CHUNK;
    b_t = tid / K_CHUNK;
  }
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var k0 = k_begin; k0 < k_stop; k0 += K_CHUNK) {
    var av = vec4<f32>(0.0);
    var bv = vec4<f32>(0.0);
    for (var e = 0u; e < 4u; e++) {
      av[e] = a_at(i0 + 4u * a_t + e, k0 + a_kk, k_stop);
      bv[e] = b_at(k0 + b_kk, j0 + 4u * b_t + e, k_stop);
    }
    a_stage[a_kk * WG + a_t] = av;
    b_stage[b_kk * WG + b_t] = bv;
    workgroupBarrier();
    for (var kk = 0u; kk < K_CHUNK; kk++) {
      let a = a_stage[kk * WG + lid.y];
      let b = b_stage[kk * WG + lid.x];
      a0 += a.x * b;
      a1 += a.y * b;
      a2 += a.z * b;
      a3 += a.w * b;
    }
    workgroupBarrier();
  }
  let acc = array<vec4<f32>, 4>(a0, a1, a2, a3);
  var out = params.out_off;
  if (params.slices > 1u) {
    out = params.scratch_off + slice * params.rows * params.cols;
  }
  let j = j0 + 4u * lid.x;
  for (var r = 0u; r < 4u; r++) {
    let i = i0 + 4u * lid.y + r;
    if (i < params.rows) {
      for (var e = 0u; e < 4u; e++) {
        if (j + e < params.cols) {
          arena[out + i * params.cols + j + e] = acc[r][e];
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
  let size = params.rows * params.cols;
  if (e >= size) {
    return;
  }
  arena[params.out_off + e] = slot_sum(params.scratch_off, size, params.slices, e);
}
