// update.wgsl: one parameter's update with Lasagne's rules (lasagne/updates.py; src/ops/training.ts
// UpdateStep), elementwise, and the regularization penalty (regularize_network_params with l2 and
// l1 weights; PenaltyStep), both in place in the arena:
//
//   sgd                p -= lr g
//   momentum           v = m v - lr g;  p += v
//   nesterov_momentum  v = m v - lr g;  p += m v - lr g
//   adagrad            a += g^2;  p -= lr g / sqrt(a + eps)
//   rmsprop            a = rho a + (1 - rho) g^2;  p -= lr g / sqrt(a + eps)
//   adadelta           a = rho a + (1 - rho) g^2;  u = g sqrt(d + eps) / sqrt(a + eps);  p -= lr u;
//                      d = rho d + (1 - rho) u^2                                  (s0 = a, s1 = d)
//   adam               m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr m / (sqrt(v) + eps)
//   adamax             m = b1 m + (1 - b1) g;  u = max(b2 u, |g|);  p -= lr m / (u + eps)
//   penalty            g += 2 l2 p + l1 sign(p);  loss[0] += sum_i (l2 p_i^2 + l1 |p_i|)
//
// lr is the run's (adam's and adamax's bias-corrected lrT, src/ops/training.ts updateScalar): the
// host writes it into this step's uniform before each run. The penalty's sum is deterministic: ONE
// workgroup of 256 threads, thread t takes i = t, t + 256, ... ascending, then a fixed tree.
//
// Bindings (group 0):
//   0  arena   storage, read_write  array<f32>: p, g, the rule's state and the loss at the params'
//                                   element offsets
//   1  params  uniform              Params
// Overrides: RULE (update: 0 sgd, 1 momentum, 2 nesterov_momentum, 3 adagrad, 4 rmsprop,
//   5 adadelta, 6 adam, 7 adamax).
// Geometry: update: workgroups of 256, element i = (wg.x + wg.y * num_workgroups.x) * 256 + local
//   index (flat.wgsl, which the host prepends: FLAT, element()); penalty: one workgroup of FLAT.

struct Params {
  p_off: u32,
  g_off: u32,
  s0_off: u32,
  s1_off: u32,
  count: u32,
  loss_off: u32,
  pad0: u32,
  pad1: u32,
  // written each run
  lr: f32,
  momentum: f32,
  rho: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  l1: f32,
  l2: f32,
  // 1 - rho, 1 - beta1, 1 - beta2 computed in float64 on the host (as the C kernels get them): in
  // float32 here 1 - 0.999 would be off by 1.3e-5 relative, and the backends would differ
  om_rho: f32,
  om_beta1: f32,
  om_beta2: f32,
  pad2: f32,
}

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

override RULE: u32 = 0u;

@compute @workgroup_size(FLAT)
fn update(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = element(wg, nwg, li);
  if (i >= params.count) {
    return;
  }
  let g = arena[params.g_off + i];
  let lr = params.lr;
  let eps = params.eps;
  let pi = params.p_off + i;
  let s0 = params.s0_off + i;
  let s1 = params.s1_off + i;
  switch RULE {
    case 1u: {
      let v = params.momentum * arena[s0] - lr * g;
      arena[s0] = v;
      arena[pi] += v;
    }
    case 2u: {
      let v = params.momentum * arena[s0] - lr * g;
      arena[s0] = v;
      arena[pi] += params.momentum * v - lr * g;
    }
    case 3u: {
      let a = arena[s0] + g * g;
      arena[s0] = a;
      arena[pi] -= lr * g / sqrt(a + eps);
    }
    case 4u: {
      let a = params.rho * arena[s0] + params.om_rho * g * g;
      arena[s0] = a;
      arena[pi] -= lr * g / sqrt(a + eps);
    }
    case 5u: {
      let a = params.rho * arena[s0] + params.om_rho * g * g;
      arena[s0] = a;
      let d = arena[s1];
      let u = g * sqrt(d + eps) / sqrt(a + eps);
      arena[pi] -= lr * u;
      arena[s1] = params.rho * d + params.om_rho * u * u;
    }
    case 6u: {
      let m = params.beta1 * arena[s0] + params.om_beta1 * g;
      let v = params.beta2 * arena[s1] + params.om_beta2 * g * g;
      arena[s0] = m;
      arena[s1] = v;
      arena[pi] -= lr * m / (sqrt(v) + eps);
    }
    case 7u: {
      let m = params.beta1 * arena[s0] + params.om_beta1 * g;
      let u = max(params.beta2 * arena[s1], abs(g));
      arena[s0] = m;
      arena[s1] = u;
      arena[pi] -= lr * m / (u + eps);
    }
    case 0u, default: {
      arena[pi] -= lr * g;
    }
  }
}

var<workgroup> sums: array<f32, FLAT>;

@compute @workgroup_size(FLAT)
fn penalty(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < params.count; i += FLAT) {
    let w = arena[params.p_off + i];
    arena[params.g_off + i] += 2.0 * params.l2 * w + params.l1 * sign(w);
    s += params.l2 * w * w + params.l1 * abs(w);
  }
  sums[li] = s;
  workgroupBarrier();
  for (var width = FLAT / 2u; width > 0u; width /= 2u) {
    if (li < width) {
      sums[li] += sums[li + width];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    arena[params.loss_off] += sums[0];
  }
}
