// The WASM inference executor on the forward ops around the cuda-convnet ones (copy, activation,
// softmax, global_pool, nin with a (C, U) dense weight), through prepareWasm with hand-written
// plans: every stage against the float64 oracles of test/reference/training_ops.mjs applied to our
// own float32 input to that stage (shape first, then values), the batch split over worker threads
// bit for bit against the calling thread, and the plan checks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rejects } from './env.mjs';
import { prepareWasm, wasmBackend, batchAxes, subBatchPlan, kernelsModule } from '../../dist/backend/wasm/index.js';
import { RuntimeError } from '../../dist/errors.js';
import { activationRef, globalPoolRef, softmaxRef } from '../reference/training_ops.mjs';
import { lipschitz, tolerance } from '../reference/layers.mjs';
import { size, rand, expectClose, expectExact } from '../support/check.mjs';

const u = 2 ** -24;
const available = await wasmBackend.available();
if (!available) {
  const reason = await kernelsModule().then(() => 'no WebAssembly SIMD', (e) => e.message);
  const s = suite('wasm forward extras');
  s(`skipped: the WASM backend is not available here (${reason})`, () => console.log(`  SKIP wasm forward extras: ${reason}`));
  s.run();
}

function param(name, data, shape) {
  return { name, version: 0, getValue: () => ({ data: data.slice(), shape: [...shape] }) };
}

/** A plan over `shapes` (tensor id = index), laid out one after the other, 64-byte aligned. */
function planOf(shapes, steps, inputs, outputs) {
  let offset = 0;
  const tensors = shapes.map((shape, id) => {
    const bytes = 4 * size(shape);
    const t = { id, shape, bytes, offset };
    offset += Math.ceil(bytes / 64) * 64;
    return t;
  });
  return { steps: steps.map((s, index) => ({ layer: `l${index}`, index, ...s })), tensors, inputs, outputs, arenaBytes: offset, alignment: 64 };
}

const C = 3;
const P = 4;
const U = 5;

/**
 * x (C, P, B) -> global_pool (C, B) -> nin 'cu' (W (C, U), tied b) -> (U, B) -> activation tanh ->
 * copy into a (U, 1, B) tensor -> softmax (U, B); every tensor is an output.
 */
function chain(B, layout = 'cu') {
  const shapes = [[C, P, B], [C, B], [U, B], [U, B], [U, 1, B], [U, B]];
  const steps = [
    { op: 'global_pool', input: 0, output: 1, channels: C, positions: P, batch: B },
    { op: 'nin', input: 1, output: 2, weight: 0, bias: 1, biasMode: 'tied', nonlinearity: { kind: 'linear', params: [] }, channels: C, units: U, positions: 1, batch: B, weightLayout: layout },
    { op: 'activation', input: 2, output: 3, nonlinearity: { kind: 'tanh', params: [] }, count: U * B, batch: B },
    { op: 'copy', input: 3, output: 4, count: U * B, batch: B },
    { op: 'softmax', input: 4, output: 5, units: U, batch: B },
  ];
  return planOf(shapes, steps, [0], [1, 2, 3, 4, 5]);
}

const wCU = rand(C * U, 11);
const bias = rand(U, 12);
const wUC = Float32Array.from({ length: U * C }, (_, i) => wCU[(i % C) * U + Math.floor(i / C)]);

async function run(plan, params, x, options) {
  const net = await prepareWasm(plan, params, options);
  try {
    return await net.run([x]);
  } finally {
    net.dispose();
  }
}

const S = suite('wasm inference: extra forward ops');

S('global_pool -> nin (C, U) weight -> activation -> copy -> softmax, each stage within its float32 bound', async () => {
  for (const B of [1, 4, 7]) {
    const x = rand(C * P * B, B);
    const [pool, dense, act, copied, soft] = await run(chain(B), [param('W', wCU, [C, U]), param('b', bias, [U])], x, { threads: 1 });
    // global_pool: P terms then / P
    const poolRef = globalPoolRef(x, C, P, B);
    const poolMag = globalPoolRef(Float64Array.from(x, Math.abs), C, P, B);
    expectClose(pool, poolRef, (i) => tolerance(P, 1, poolMag[i], poolRef[i]), `global_pool B=${B}`);
    // dense: out[u, b] = b[u] + sum_c W[c, u] pool[c, b] (from our pool), C terms
    const denseRef = new Float64Array(U * B);
    const denseMag = new Float64Array(U * B);
    for (let un = 0; un < U; un++) for (let b = 0; b < B; b++) {
      let s = bias[un];
      let m = Math.abs(bias[un]);
      for (let c = 0; c < C; c++) {
        s += wCU[c * U + un] * pool[c * B + b];
        m += Math.abs(wCU[c * U + un] * pool[c * B + b]);
      }
      denseRef[un * B + b] = s;
      denseMag[un * B + b] = m;
    }
    expectClose(dense, denseRef, (i) => tolerance(C, 1, denseMag[i], denseRef[i]), `nin cu B=${B}`);
    const actRef = activationRef('tanh', [], dense);
    expectClose(act, actRef, (i) => 16 * u * (Math.abs(actRef[i]) + lipschitz('tanh', []) * Math.abs(dense[i])), `activation B=${B}`);
    expectExact(copied, act, `copy B=${B}`);
    const softRef = softmaxRef(copied, U, B);
    expectClose(soft, softRef, (i) => Math.abs(softRef[i]) * (u * 4 + (U + 6) * u), `softmax B=${B}`);
  }
});

S("nin with weightLayout 'cu' and a (C, U) weight gives the bits of 'uc' with the (U, C) weight", async () => {
  const B = 6;
  const x = rand(C * P * B, 3);
  const cu = await run(chain(B, 'cu'), [param('W', wCU, [C, U]), param('b', bias, [U])], x, { threads: 1 });
  const uc = await run(chain(B, 'uc'), [param('W', wUC, [U, C]), param('b', bias, [U])], x, { threads: 1 });
  cu.forEach((o, i) => expectExact(o, uc[i], `output ${i}`));
});

S('the batch split over worker threads changes no bit (copy and activation counts scale with the sub-batch)', async () => {
  for (const [B, threads] of [[7, 2], [7, 3], [9, 4]]) {
    const x = rand(C * P * B, 100 + B);
    const params = [param('W', wCU, [C, U]), param('b', bias, [U])];
    const one = await run(chain(B), params, x, { threads: 1 });
    const net = await prepareWasm(chain(B), params, { threads });
    try {
      assert.match(net.description, new RegExp(`${threads} worker threads`));
      const many = await net.run([x]);
      many.forEach((o, i) => expectExact(o, one[i], `B=${B} threads=${threads} output ${i}`));
    } finally {
      net.dispose();
    }
  }
});

S('batchAxes reads a hand-written plan: elementwise steps take the axis at their other end', () => {
  const plan = chain(4);
  assert.equal(batchAxes(plan), ['last', 'last', 'last', 'last', 'last', 'last']);
  // a bc01 input flattened batch-first by a copy, then shuffled: the copy's tensors are 'first'
  const B = 3;
  const flat = planOf([[B, 2, 2, 2], [B, 2, 2, 2], [2, 2, 2, B]], [
    { op: 'activation', input: 0, output: 1, nonlinearity: { kind: 'rectify', params: [] }, count: 8 * B, batch: B },
    { op: 'transpose', input: 1, output: 2, perm: [1, 2, 3, 0], inShape: [B, 2, 2, 2] },
  ], [0], [2]);
  assert.equal(batchAxes(flat), ['first', 'first', 'last']);
  const sub = subBatchPlan({ ...flat, slots: [], stepSlots: [] }, batchAxes(flat), B, 2);
  assert.is(sub.steps[0].count, 16);
  assert.is(sub.steps[0].batch, 2);
});

S('plan checks: dropout in an inference plan, an in-place softmax, a count that is no multiple of the batch', async () => {
  const B = 2;
  const drop = planOf([[4, B], [4, B]], [{ op: 'dropout', input: 0, output: 1, count: 4 * B, batch: B, p: 0.5, threshold: 2 ** 23, scale: 2, seed: 1 }], [0], [1]);
  await rejects(() => prepareWasm(drop, [], { threads: 1 }), (e) => e instanceof RuntimeError && /dropout/.test(e.message) && /training plans only/.test(e.message), 'dropout');
  const inPlace = planOf([[4, B]], [{ op: 'softmax', input: 0, output: 0, units: 4, batch: B }], [0], [0]);
  await rejects(() => prepareWasm(inPlace, [], { threads: 1 }), (e) => e instanceof RuntimeError && /in place/.test(e.message), 'softmax in place');
  const count = planOf([[7], [7]], [{ op: 'copy', input: 0, output: 1, count: 7, batch: 2 }], [0], [1]);
  await rejects(() => prepareWasm(count, [], { threads: 1 }), (e) => e instanceof RuntimeError && /count 7, not a multiple of its batch 2/.test(e.message), 'count');
  const wrong = planOf([[3, 4, B], [3, 3]], [{ op: 'global_pool', input: 0, output: 1, channels: 3, positions: 4, batch: B }], [0], [1]);
  await rejects(() => prepareWasm(wrong, [], { threads: 1 }), (e) => e instanceof RuntimeError && /writes 6 elements/.test(e.message), 'output size');
  const act = planOf([[4, B], [4, B]], [{ op: 'activation', input: 0, output: 1, nonlinearity: { kind: 'softmax', params: [] }, count: 4 * B, batch: B }], [0], [1]);
  await rejects(() => prepareWasm(act, [], { threads: 1 }), (e) => /softmax/.test(e.message), 'activation softmax');
});

S.run();
