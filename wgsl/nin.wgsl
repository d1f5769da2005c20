// nin.wgsl: NINLayer_c01b (lasagne/layers/cuda_convnet.py NINLayer_c01b.get_output_for), a GEMM over
// the leading axis fused with the bias and the nonlinearity. The input c01b (C, rows, cols, B) is
// viewed as (C, N) with N = positions * B (batch innermost), the output as (U, N):
//
//   out[u, n] = act(bias + sum_c W[u, c] * in[c, n]),  bias b[u] (tied) or b[u, n / B] (untied)
//
// Compiled with stage_flat.wgsl, gemm.wgsl (the staged GEMM core it shares with filter_acts.wgsl),
// gemm_units.wgsl (the register tile and inner loop it shares with winograd.wgsl's gemm) and
// epilogue.wgsl (activate(), override ACT) prepended.
//
// Bindings (group 0):
//   0  arena    storage, read_write  declared by the prepended arena_vec4.wgsl or arena_scalar.wgsl:
//                                    all tensors; input (C, N) at params.in_off, output (U, N) at
//                                    params.out_off, element offsets into the bound range (multiples of
//                                    4 with arena_vec4.wgsl)
//   1  weights  storage, read        array<vec4<f32>>: W transposed to (C, U4), U4 = U rounded up to a
//                                    multiple of 4 (= params.w_stride), padding columns 0
//   2  bias     storage, read        array<f32>: b[u] (BIAS 1) or b[u, p] (BIAS 2); not read for BIAS 0
//   3  params   uniform              Params
// Overrides: W_ARENA (1: W (U, C) and bias from the arena at params.w_off, b_off, a training plan); ACT (epilogue.wgsl); BIAS one of BIAS_NONE, BIAS_TIED, BIAS_UNTIED (the generated codes); WG_N, WG_U: workgroup size
//   (WG_N, WG_U), WG_N * WG_U <= 256; RU: 1..5 groups of 4 units per thread; K_CHUNK: channels per
//   stage (a thread loads at most 4 vec4s of each operand per stage: the host keeps
//   K_CHUNK * RU * WG_U and K_CHUNK * WG_N within 4 * WG_N * WG_U). Workgroup memory: 16 * K_CHUNK * (RU * WG_U + WG_N) bytes, which the host keeps within
//   the device limit. Every element is written before it is read.
// Entry point: main. One source for both paths: the host prepends arena_vec4.wgsl (needs N % 4 == 0
//   and 16-byte aligned offsets) or arena_scalar.wgsl (any N).
// Geometry: a workgroup computes TILE_U = 4*RU*WG_U units by TILE_N = 4*WG_N columns in chunks of
//   K_CHUNK channels staged in workgroup memory; a thread computes 4*RU units (u0 + 4*ly + 4*WG_U*g,
//   g < RU, 4 each) x 4 consecutive columns. The RU groups' weights are the same for a warp's
//   threads (broadcast), so a thread reads 1 + RU vec4s of workgroup memory per 16*RU FMAs.
//   params.tiles = params.u_tiles * ceil(N / TILE_N); wid = wg.x + wg.y * num_workgroups.x, unit
//   tile wid % u_tiles (of TILE_U units), column tile wid / u_tiles.

struct Params {
  in_off: u32,
  out_off: u32,
  channels: u32,
  units: u32,
  n_total: u32,
  batch: u32,
  positions: u32,
  u_tiles: u32,
  tiles: u32,
  w_stride: u32,
  act: vec2<f32>,
  // W_ARENA 1 (a training plan): W (U, C) as stored and the bias are arena tensors at these element
  // offsets of the bound range
  w_off: u32,
  b_off: u32,
}

@group(0) @binding(1) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override BIAS: u32 = 0u;
// 1: W is read from the arena in its (U, C) form at params.w_off, the bias at params.b_off (a
// training plan, whose parameters are arena tensors), not from bindings 1 and 2
override W_ARENA: u32 = 0u;

// The stage (stage_flat.wgsl): w_tile[kk * W_ROW + t] = W^T[k0 + kk, u0 + 4t .. u0 + 4t + 3] (W_ROW = RU * WG_U),
// x_tile[kk * X_ROW + t] = in[k0 + kk, n0 + 4t .. n0 + 4t + 3] (X_ROW = WG_N).

// Weight vec4 t of the stage at channel k0 (0 outside W^T or the stage).
fn w_load(k0: u32, u0: u32, t: u32, k_stop: u32) -> vec4<f32> {
  if (t >= w_stage()) {
    return vec4<f32>(0.0);
  }
  let k = k0 + t / (RU * WG_U);
  let u = u0 + 4u * (t % (RU * WG_U));
  if (k < k_stop && u < params.w_stride) {
    if (W_ARENA == 1u) {
      var w = vec4<f32>(0.0);
      for (var e = 0u; e < 4u; e++) {
        if (u + e < params.units) {
          w[e] = load1(params.w_off + (u + e) * params.channels + k);
        }
      }
      return w;
    }
    return weights[(k * params.w_stride + u) / 4u];
  }
  return vec4<f32>(0.0);
}

// in[k0 + t / WG_N, n0 + 4 * (t % WG_N) .. + 3] (those at or past N read as 0)
fn x_load(k0: u32, n0: u32, t: u32) -> vec4<f32> {
  let k = k0 + t / WG_N;
  let n = n0 + 4u * (t % WG_N);
  if (t < x_stage() && k < params.channels && n < params.n_total) {
    return load4(params.in_off + k * params.n_total + n, min(4u, params.n_total - n));
  }
  return vec4<f32>(0.0);
}

fn bias_elem(i: u32) -> f32 {
  if (W_ARENA == 1u) {
    return load1(params.b_off + i);
  }
  return bias[i];
}

fn bias_at(u: u32, n: u32) -> f32 {
  if (BIAS == BIAS_TIED) {
    return bias_elem(u);
  }
  if (BIAS == BIAS_UNTIED) {
    return bias_elem(u * params.positions + n / params.batch);
  }
  return 0.0;
}

// Columns n .. n + count - 1 (count <= 4) of unit u: bias, nonlinearity, store. The four columns
// may straddle two positions when B % 4 != 0, so an untied bias is read per column.
fn store_cols(u: u32, n: u32, v: vec4<f32>, count: u32) {
  if (u < params.units) {
    var x = v;
    if (BIAS == BIAS_TIED) {
      x += vec4<f32>(bias_elem(u));
    } else if (BIAS == BIAS_UNTIED) {
      x += vec4<f32>(bias_at(u, n), bias_at(u, n + 1u), bias_at(u, n + 2u), bias_at(u, n + 3u));
    }
    store4(params.out_off + u * params.n_total + n, activate4(x, params.act), count);
  }
}

fn store_group(a: Acc, u: u32, n: u32) {
  let count = min(4u, params.n_total - n);
  store_cols(u, n, a.r0, count);
  store_cols(u + 1u, n, a.r1, count);
  store_cols(u + 2u, n, a.r2, count);
  store_cols(u + 3u, n, a.r3, count);
}

@compute @workgroup_size(WG_N, WG_U)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= params.tiles) {
    return;
  }
  let u0 = (wid % params.u_tiles) * (4u * RU * WG_U);
  let n0 = (wid / params.u_tiles) * (4u * WG_N);
  let tid = lid.y * WG_N + lid.x;
  clear_acc();
  w_put(w_fetch(0u, u0, tid, params.channels), tid);
  x_put(x_fetch(0u, n0, tid), tid);
  workgroupBarrier();
  for (var k0 = 0u; k0 < params.channels; k0 += K_CHUNK) {
    // chunk k0 is staged; the next one's loads are in flight while it is multiplied
    let next = k0 + K_CHUNK;
    var wl: Loads;
    var xl: Loads;
    if (next < params.channels) {
      wl = w_fetch(next, u0, tid, params.channels);
      xl = x_fetch(next, n0, tid);
    }
    accumulate(lid.x, lid.y);
    workgroupBarrier();
    if (next < params.channels) {
      w_put(wl, tid);
      x_put(xl, tid);
    }
    workgroupBarrier();
  }
  let n = n0 + 4u * lid.x;
  let u = u0 + 4u * lid.y;
  if (n < params.n_total) {
    store_group(a0, u, n);
    if (RU > 1u) {
      store_group(a1, u + 4u * WG_U, n);
    }
    if (RU > 2u) {
      store_group(a2, u + 8u * WG_U, n);
    }
    if (RU > 3u) {
      store_group(a3, u + 12u * WG_U, n);
    }
    if (RU > 4u) {
      store_group(a4, u + 16u * WG_U, n);
    }
  }
}
