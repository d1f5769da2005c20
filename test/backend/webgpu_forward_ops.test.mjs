// The forward ops around the cuda-convnet layers in the WebGPU INFERENCE executor (prepareWebGpu on
// hand-written step plans, in the style of webgpu_backend.test.mjs): copy, activation, softmax,
// global_pool, and nin with a DenseLayer's (C, U) weight ('cu', uploaded transposed), compared with
// the float64 oracles of test/reference/training_ops.mjs: element counts, then values. Tolerances:
// copy exact; activations 8 ulps of the value plus exp's absolute error (3 + 2|x| ulps); softmax 64
// ulps relative; sums of N terms (global pool, nin) tolerance(N, 1, magnitude, value) of
// test/reference/layers.mjs with the magnitude the same sum over absolute values.
//
// The device part skips, saying why, when the `webgpu` package or an adapter is missing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testDevice, rejects } from './env.mjs';
import { Param } from '../../dist/layers/base.js';
import { ValueError } from '../../dist/errors.js';
import { launchOf, prepareWebGpu, stepPlan } from '../../dist/backend/webgpu/index.js';
import { activationRef, globalPoolRef, softmaxRef } from '../reference/training_ops.mjs';
import { tolerance } from '../reference/layers.mjs';
import { rand, expectClose } from '../support/check.mjs';

const ULP = 2 ** -23;
const LIMITS = { minStorageBufferOffsetAlignment: 256, maxStorageBufferBindingSize: 1 << 27, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535 };

const geometry = suite('webgpu forward ops: launches (no device)');

geometry('the new ops launch one thread per element (softmax and the loss one per example) and check their counts', () => {
  const plan = stepPlan([[3, 700], [2100]], [], [0], [1]);
  const copy = launchOf(plan, { op: 'copy', index: 0, layer: 'flat', input: 0, output: 1, count: 2100, batch: 700 }, LIMITS);
  assert.is(copy.family, 'elementwise');
  assert.is(copy.entryPoint, 'copy');
  assert.equal(copy.workgroups, [9, 1]);
  const act = launchOf(plan, { op: 'activation', index: 0, layer: 'nl', input: 0, output: 1, nonlinearity: { kind: 'leaky_rectify', params: [0.2] }, count: 2100, batch: 700 }, LIMITS);
  assert.is(act.constants.ACT, 5);
  assert.is(new Float32Array(act.uniform)[14], Math.fround(0.2));
  const sm = launchOf(plan, { op: 'softmax', index: 0, layer: 'sm', input: 0, output: 1, units: 3, batch: 700 }, LIMITS);
  assert.equal([sm.family, sm.entryPoint, sm.workgroups], ['softmax', 'softmax', [11, 1]]);
  assert.throws(() => launchOf(plan, { op: 'copy', index: 0, layer: 'flat', input: 0, output: 1, count: 2000, batch: 700 }, LIMITS), (e) => e instanceof ValueError && /flat/.test(e.message) && /2000/.test(e.message));
  assert.throws(
    () => launchOf(plan, { op: 'activation', index: 0, layer: 'nl', input: 0, output: 1, nonlinearity: { kind: 'softmax', params: [] }, count: 2100, batch: 700 }, LIMITS),
    (e) => e instanceof ValueError && /softmax/.test(e.message),
  );
  const pool = stepPlan([[4, 9, 5], [4, 5]], [], [0], [1]);
  const gp = launchOf(pool, { op: 'global_pool', index: 0, layer: 'gp', input: 0, output: 1, channels: 4, positions: 9, batch: 5 }, LIMITS);
  const words = new Uint32Array(gp.uniform);
  assert.is(words[2], 20, 'one thread per output (C B)');
  assert.equal(Array.from(words.slice(6, 9)), [4, 9, 5], 'channels, positions, batch');
});

geometry.run();

const { device, reason } = await testDevice();
if (reason) console.log(`  SKIP webgpu forward ops: ${reason}`);
const it = suite('webgpu forward ops: inference executor');

it('activation -> global_pool -> dense (nin, weight (C, U) as DenseLayer stores it) -> softmax -> copy, against the float64 oracles', async () => {
  if (!device) return;
  const [C, P, B, U] = [3, 4, 5, 6];
  const x = rand(C * P * B, 1, -2, 2);
  const w = rand(C * U, 2); // (C, U)
  const b = rand(U, 3, -0.5, 0.5);
  const lin = { kind: 'linear', params: [] };
  const plan = stepPlan(
    [[C, P, B], [C, P, B], [C, B], [U, B], [U, B], [U * B]],
    [
      { op: 'activation', index: 0, layer: 'nl', input: 0, output: 1, nonlinearity: { kind: 'elu', params: [] }, count: C * P * B, batch: B },
      { op: 'global_pool', index: 1, layer: 'gp', input: 1, output: 2, channels: C, positions: P, batch: B },
      { op: 'nin', index: 2, layer: 'dense', input: 2, output: 3, weight: 0, bias: 1, biasMode: 'tied', nonlinearity: lin, channels: C, units: U, positions: 1, batch: B, weightLayout: 'cu' },
      { op: 'softmax', index: 3, layer: 'sm', input: 3, output: 4, units: U, batch: B },
      { op: 'copy', index: 4, layer: 'flat', input: 4, output: 5, count: U * B, batch: B },
    ],
    [0],
    [1, 2, 3, 4, 5],
  );
  const net = await prepareWebGpu(plan, [new Param('W', { data: w, shape: [C, U] }), new Param('b', { data: b, shape: [U] })], { device });
  try {
    const [a, g, h, s, flat] = await net.run([x]);
    const aRef = activationRef('elu', [], x);
    expectClose(a, aRef, (i) => 8 * ULP * Math.abs(aRef[i]) + (3 + 2 * Math.abs(x[i])) * 2 * ULP, 'activation elu');
    // the next ops from the device's own inputs: each op's arithmetic on its own
    const gRef = globalPoolRef(a, C, P, B);
    const gMag = globalPoolRef(a.map(Math.abs), C, P, B);
    expectClose(g, gRef, (i) => tolerance(P, 1, gMag[i], gRef[i]), 'global_pool');
    const hRef = new Float64Array(U * B);
    const hMag = new Float64Array(U * B);
    for (let u = 0; u < U; u++) for (let n = 0; n < B; n++) {
      hRef[u * B + n] = b[u];
      hMag[u * B + n] = Math.abs(b[u]);
      for (let c = 0; c < C; c++) {
        hRef[u * B + n] += w[c * U + u] * g[c * B + n];
        hMag[u * B + n] += Math.abs(w[c * U + u] * g[c * B + n]);
      }
    }
    expectClose(h, hRef, (i) => tolerance(C + 1, 1, hMag[i], hRef[i]), "dense (nin, 'cu' weight)");
    const sRef = softmaxRef(h, U, B);
    expectClose(s, sRef, (i) => 64 * ULP * Math.abs(sRef[i]) + 1e-9, 'softmax');
    assert.equal(Array.from(flat), Array.from(s), 'copy is exact');
    // the same parameter in the 'uc' layout is the transposed array: same outputs
    const wt = new Float32Array(U * C);
    for (let c = 0; c < C; c++) for (let u = 0; u < U; u++) wt[u * C + c] = w[c * U + u];
    const uc = stepPlan([[C, B], [U, B]], [{ ...plan.steps[2], index: 0, input: 0, output: 1, weightLayout: 'uc' }], [0], [1]);
    const net2 = await prepareWebGpu(uc, [new Param('W', { data: wt, shape: [U, C] }), new Param('b', { data: b, shape: [U] })], { device });
    const [h2] = await net2.run([g]);
    net2.dispose();
    assert.equal(Array.from(h2), Array.from(h), "'uc' with the transposed weight gives the same bits");
  } finally {
    net.dispose();
  }
});

it('a step whose count does not match its tensors is refused at prepare, naming the layer', async () => {
  if (!device) return;
  const plan = stepPlan([[8], [8]], [{ op: 'copy', index: 0, layer: 'reshape1', input: 0, output: 1, count: 6, batch: 2 }], [0], [1]);
  await rejects(() => prepareWebGpu(plan, [], { device }), (e) => e instanceof ValueError && /reshape1/.test(e.message), 'copy count 6 of 8');
});

it.run();
