// epilogue.wgsl: the elementwise nonlinearities of lasagne.nonlinearities (Theano's formulas, as
// src/nonlinearities.ts applyScalar defines them), fused into the GEMM epilogues of filter_acts.wgsl
// and nin.wgsl. Not a kernel on its own: the backend compiles `epilogue.wgsl + <kernel>.wgsl` as one
// module, so each formula is written once.
//
// Bindings: none.
// Overrides: ACT (u32, one of the ACT_* codes of src/ops/codes.ts, prepended as the generated
// `codes` consts; default linear).
// Uniform data: the kernel passes its `act` parameters as a vec2<f32>:
//   scaled_tanh (scaleIn, scaleOut); leaky_rectify (leakiness, -); selu (scale, scaleNeg); others unused.

override ACT: u32 = 0u;


// The functions below use exp and arithmetic only: WGSL lets log err by 2^-21 absolute near 1 and
// tanh inherit sinh/cosh's absolute error, which is a large relative error near 0 (SwiftShader's
// tanh(2e-8) is off by 180%). exp is good to 3 + 2|x| ulps everywhere.

// e^x - 1 to a few ulps: a degree-8 Taylor polynomial for |x| < 0.5 (remainder below 2e-8
// relative), exp(x) - 1 beyond, where the subtraction magnifies exp's error by at most 1.6.
fn expm1_accurate(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (1.0 / 2.0 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0
      + x * (1.0 / 720.0 + x * (1.0 / 5040.0 + x * (1.0 / 40320.0))))))));
  }
  return exp(x) - 1.0;
}

// log(1 + v) for 0 <= v <= 1 to a few ulps: 2 atanh(s) with s = v / (2 + v) <= 1/3, by the odd
// series up to s^17 (remainder below 2e-10 relative).
fn log1p_accurate(v: f32) -> f32 {
  let s = v / (2.0 + v);
  let s2 = s * s;
  return 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0
    + s2 * (1.0 / 11.0 + s2 * (1.0 / 13.0 + s2 * (1.0 / 15.0 + s2 * (1.0 / 17.0)))))))));
}

// tanh(x) = sign(x) t / (t + 2) with t = e^{2|x|} - 1; float32 tanh is exactly +-1 beyond |x| = 9.1.
fn tanh_accurate(x: f32) -> f32 {
  let t = expm1_accurate(2.0 * min(abs(x), 10.0));
  return sign(x) * (t / (t + 2.0));
}

fn activate(x: f32, p: vec2<f32>) -> f32 {
  switch ACT {
    case ACT_SIGMOID: {
      // sigmoid 1/(1+e^{-x}); e^x/(1+e^x) for x < 0 so that e^{-x} never overflows
      if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
      }
      let e = exp(x);
      return e / (1.0 + e);
    }
    case ACT_TANH: {
      return tanh_accurate(x);
    }
    case ACT_SCALED_TANH: {
      // tanh(scaleIn*x)*scaleOut
      return tanh_accurate(p.x * x) * p.y;
    }
    case ACT_RECTIFY: {
      // max(0, x); NaN stays NaN
      return select(x, 0.0, x <= 0.0);
    }
    case ACT_LEAKY_RECTIFY: {
      // x if x > 0 else leakiness*x
      return select(x, p.x * x, x <= 0.0);
    }
    case ACT_ELU: {
      // x if x > 0 else e^x - 1
      if (x <= 0.0) {
        return expm1_accurate(x);
      }
      return x;
    }
    case ACT_SELU: {
      // scale * (x if x > 0 else scaleNeg*(e^x - 1))
      if (x <= 0.0) {
        return p.x * (p.y * expm1_accurate(x));
      }
      return p.x * x;
    }
    case ACT_SOFTPLUS: {
      // log(1+e^x) = x + log1p(e^{-x}) for x > 0, so e^x never overflows; the argument of log1p is in (0, 1]
      if (x > 0.0) {
        return x + log1p_accurate(exp(-x));
      }
      return log1p_accurate(exp(x));
    }
    case ACT_LINEAR, default: {
      return x;
    }
  }
}

// One call site of activate() (a loop, not four inlined copies) keeps the code small for JIT
// compilers that do not fold the switch; GPU compilers unroll it.
fn activate4(v: vec4<f32>, p: vec2<f32>) -> vec4<f32> {
  var r = v;
  for (var e = 0u; e < 4u; e++) {
    r[e] = activate(r[e], p);
  }
  return r;
}
