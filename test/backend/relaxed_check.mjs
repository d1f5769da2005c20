// Run by relaxed_simd.test.mjs in a child `node --experimental-wasm-relaxed-simd` (not a test file
// itself): the relaxed-SIMD kernels are chosen when the engine validates them, run on the calling
// thread and in worker threads (the chosen Module is posted to them), and agree with the plain
// build within the float32 summation tolerance; LASAGNE_WASM_SIMD=plain / setWasmSimd force the
// plain build. Prints one JSON line with what it saw; exits 1 with the reason on any failure.
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b } from 'lasagne-webgpu/layers/cuda_convnet';
import { kernelsBuild, relaxedSimdSupported, setWasmSimd, wasmSimdChoice } from '../../dist/backend/wasm/index.js';
import { mulberry32 } from '../reference/random.mjs';

const fail = (why) => {
  console.error(`relaxed_check: ${why}`);
  process.exit(1);
};
const seen = { env: process.env.LASAGNE_WASM_SIMD ?? null, supported: relaxedSimdSupported(), choice: wasmSimdChoice(), build: kernelsBuild() };

// a conv (C k^2 = 4*9 = 36 terms; batch 6: the quad and the lane micro-kernels), a pool, a NIN
const B = 6;
const rnd = mulberry32(7);
const l0 = new lasagne.layers.InputLayer([4, 9, 9, B]);
const c = new Conv2DCCLayer(l0, 16, 3, { dimshuffle: false, pad: 1 });
const p = new MaxPool2DCCLayer(c, 2, { dimshuffle: false });
const n = new NINLayer_c01b(p, 5, { nonlinearity: lasagne.nonlinearities.linear });
for (const param of [c.W, c.b, n.W, n.b]) {
  const v = param.getValue();
  param.setValue(lasagne.ndarray(Float32Array.from(v.data, () => rnd() - 0.5), v.shape));
}
const x = lasagne.ndarray(Float32Array.from({ length: 4 * 81 * B }, () => rnd() * 2 - 1), [4, 9, 9, B]);

async function outputs(build, threads) {
  setWasmSimd(build);
  const net = await lasagne.compile([c, n], { backend: 'wasm', threads });
  setWasmSimd(null);
  const outs = await net.run(x);
  const device = net.device;
  net.dispose();
  return { device, outs: outs.map((o) => o.data) };
}

const auto1 = await outputs(null, 1);
const auto2 = await outputs(null, 2);
const plain1 = await outputs('plain', 1);
seen.devices = { auto1: auto1.device, auto2: auto2.device, plain1: plain1.device };

// the worker split changes no bit: every thread runs the same build
auto1.outs.forEach((o, i) => o.forEach((v, j) => {
  if (!Object.is(v, auto2.outs[i][j])) fail(`output ${i} element ${j}: ${auto2.outs[i][j]} with 2 worker threads, ${v} on the calling thread (${auto2.device})`);
}));
// relaxed vs plain: conv sums of 36 terms of |w x| <= 0.5, then a NIN of 16 terms; float32 rounding only
let maxDiff = 0;
let maxAbs = 0;
auto1.outs.forEach((o, i) => o.forEach((v, j) => {
  maxDiff = Math.max(maxDiff, Math.abs(v - plain1.outs[i][j]));
  maxAbs = Math.max(maxAbs, Math.abs(v));
}));
if (!(maxAbs > 0.1)) fail(`outputs are degenerate (max |value| ${maxAbs})`);
if (!(maxDiff <= 4e-6 * maxAbs)) fail(`relaxed and plain differ by ${maxDiff} (max |value| ${maxAbs}): more than float32 rounding`);
seen.maxDiff = maxDiff;
seen.maxAbs = maxAbs;
console.log(JSON.stringify(seen));
