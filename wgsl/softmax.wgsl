// softmax.wgsl: the ops over the units of each example of a (U, B) batch-last tensor
// (src/ops/training.ts): softmax, its gradient where no loss fuses it, and the loss with its gradient
// (Lasagne's objectives; with fused softmax, categorical cross-entropy on the logits through
// log-softmax). Per example b, units u, element (u, b) at u * B + b:
//
//   softmax       out[u, b] = exp(x[u, b] - m_b) / sum_v exp(x[v, b] - m_b),  m_b = max_v x[v, b]
//   softmax_grad  dz[u, b] = p[u, b] (g[u, b] - sum_v g[v, b] p[v, b])
//   loss          l_b (per example, or the sum over u of the per-element losses) and dp: LossStep's
//                 formulas (kind codes below); loss[0] = w * sum_b l_b, w = params.weight
//
// The loss's sum is deterministic: ONE workgroup of 256 threads, thread t takes the examples
// t, t + 256, ... in ascending order, then a fixed tree over the 256 partial sums (the same order
// every run, on every device).
//
// Bindings (group 0):
//   0  arena   storage, read_write  array<f32>: operands at the params' element offsets
//   1  params  uniform              Params
// Overrides: none.
// Geometry: softmax, softmax_grad: one thread per example, workgroups of 64 (wg.x + wg.y * nwg.x);
//   loss: one workgroup of 256.

struct Params {
  // softmax: x; softmax_grad: p (the softmax output); loss: the prediction (logits when fused)
  in_off: u32,
  // softmax: out; softmax_grad: dz; loss: dp (written whole)
  out_off: u32,
  // softmax_grad: g; loss: the targets ((B) indices as floats, or (U, B))
  aux_off: u32,
  // loss: the one-float loss tensor
  loss_off: u32,
  units: u32,
  batch: u32,
  // loss: kind (0 categorical_crossentropy, 1 binary_crossentropy, 2 squared_error, 3 binary_hinge,
  // 4 multiclass_hinge), fused softmax (0 | 1), index targets (0 | 1)
  kind: u32,
  fused: u32,
  index_targets: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
  // loss: w, 1 / (number of loss values) for 'mean', 1 for 'sum'
  weight: f32,
}

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

const COLUMN_GROUP: u32 = 64u;
const LOSS_THREADS: u32 = 256u;

const LOSS_CCE: u32 = 0u;
const LOSS_BCE: u32 = 1u;
const LOSS_SE: u32 = 2u;
const LOSS_BINARY_HINGE: u32 = 3u;
const LOSS_MULTICLASS_HINGE: u32 = 4u;

fn col_at(off: u32, u: u32, b: u32) -> f32 {
  return arena[off + u * params.batch + b];
}

@compute @workgroup_size(COLUMN_GROUP)
fn softmax(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let b = (wg.x + wg.y * nwg.x) * COLUMN_GROUP + li;
  if (b >= params.batch) {
    return;
  }
  var m = col_at(params.in_off, 0u, b);
  for (var u = 1u; u < params.units; u++) {
    m = max(m, col_at(params.in_off, u, b));
  }
  var s = 0.0;
  for (var u = 0u; u < params.units; u++) {
    s += exp(col_at(params.in_off, u, b) - m);
  }
  for (var u = 0u; u < params.units; u++) {
    arena[params.out_off + u * params.batch + b] = exp(col_at(params.in_off, u, b) - m) / s;
  }
}

@compute @workgroup_size(COLUMN_GROUP)
fn softmax_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let b = (wg.x + wg.y * nwg.x) * COLUMN_GROUP + li;
  if (b >= params.batch) {
    return;
  }
  var s = 0.0;
  for (var u = 0u; u < params.units; u++) {
    s += col_at(params.aux_off, u, b) * col_at(params.in_off, u, b);
  }
  for (var u = 0u; u < params.units; u++) {
    let p = col_at(params.in_off, u, b);
    arena[params.out_off + u * params.batch + b] = p * (col_at(params.aux_off, u, b) - s);
  }
}

// Target t[u, b]: one-hot of the index (stored as a float) or the dense value.
fn target_of(u: u32, b: u32) -> f32 {
  if (params.index_targets == 1u) {
    return select(0.0, 1.0, f32(u) == arena[params.aux_off + b]);
  }
  return col_at(params.aux_off, u, b);
}

// The loss of example b (summed over its units for the elementwise kinds); writes dp of column b.
fn example_loss(b: u32) -> f32 {
  let U = params.units;
  let w = params.weight;
  let pred = params.in_off;
  let grad = params.out_off;
  let B = params.batch;
  var l = 0.0;
  if (params.kind == LOSS_CCE && params.fused == 1u) {
    var m = col_at(pred, 0u, b);
    for (var u = 1u; u < U; u++) {
      m = max(m, col_at(pred, u, b));
    }
    var s = 0.0;
    for (var u = 0u; u < U; u++) {
      s += exp(col_at(pred, u, b) - m);
    }
    let lse = m + log(s);
    for (var u = 0u; u < U; u++) {
      let z = col_at(pred, u, b);
      let t = target_of(u, b);
      l -= t * (z - lse);
      arena[grad + u * B + b] = w * (exp(z - m) / s - t);
    }
  } else if (params.kind == LOSS_CCE) {
    for (var u = 0u; u < U; u++) {
      let p = col_at(pred, u, b);
      let t = target_of(u, b);
      if (t != 0.0) {
        l -= t * log(p);
      }
      arena[grad + u * B + b] = -w * t / p;
    }
  } else if (params.kind == LOSS_BCE) {
    for (var u = 0u; u < U; u++) {
      let p = col_at(pred, u, b);
      let t = target_of(u, b);
      l += -t * log(p) - (1.0 - t) * log(1.0 - p);
      arena[grad + u * B + b] = w * (p - t) / (p * (1.0 - p));
    }
  } else if (params.kind == LOSS_SE) {
    for (var u = 0u; u < U; u++) {
      let d = col_at(pred, u, b) - target_of(u, b);
      l += d * d;
      arena[grad + u * B + b] = 2.0 * w * d;
    }
  } else if (params.kind == LOSS_BINARY_HINGE) {
    for (var u = 0u; u < U; u++) {
      let s = 2.0 * target_of(u, b) - 1.0;
      let h = max(0.0, 1.0 - col_at(pred, u, b) * s);
      l += h;
      arena[grad + u * B + b] = select(0.0, -w * s, h > 0.0);
    }
  } else if (params.kind == LOSS_MULTICLASS_HINGE) {
    // the target class: the first maximum of t; u*: the first maximum of p over u != target
    var tc = 0u;
    for (var u = 1u; u < U; u++) {
      if (target_of(u, b) > target_of(tc, b)) {
        tc = u;
      }
    }
    var best = select(0u, 1u, tc == 0u);
    for (var u = 0u; u < U; u++) {
      arena[grad + u * B + b] = 0.0;
      if (u != tc && col_at(pred, u, b) > col_at(pred, best, b)) {
        best = u;
      }
    }
    if (U > 1u) {
      l = max(0.0, col_at(pred, best, b) - col_at(pred, tc, b) + 1.0);
      if (l > 0.0) {
        arena[grad + best * B + b] = w;
        arena[grad + tc * B + b] = -w;
      }
    }
  }
  return l;
}

var<workgroup> sums: array<f32, LOSS_THREADS>;

@compute @workgroup_size(LOSS_THREADS)
fn loss(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var b = li; b < params.batch; b += LOSS_THREADS) {
    s += example_loss(b);
  }
  sums[li] = s;
  workgroupBarrier();
  for (var width = LOSS_THREADS / 2u; width > 0u; width /= 2u) {
    if (li < width) {
      sums[li] += sums[li + width];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    arena[params.loss_off] = params.weight * sums[0];
  }
}
