// objectives: Lasagne's formulas against closed forms and the float64 loss oracle, targets, errors, aggregate.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { throwsWith } from './layers/support.mjs';
import { lossRef } from './reference/training_ops.mjs';
import { uniform, toFloat32 } from './reference/random.mjs';
import { transpose } from './reference/array.mjs';

const { objectives } = lasagne;
const { ValueError } = lasagne.errors;
const nd = (values, shape) => ({ data: Float32Array.from(values), shape });
const close = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

const C = suite('objectives: closed forms');

C('categoricalCrossentropy: -log p of the target, from indices, from one-hot and soft targets', () => {
  const p = nd([0.25, 0.75, 0.5, 0.5, 0.1, 0.9], [3, 2]);
  const a = objectives.categoricalCrossentropy(p, Int32Array.of(1, 0, 0));
  assert.equal(a.shape, [3]);
  [-Math.log(0.75), -Math.log(0.5), -Math.log(0.1)].forEach((v, i) => close(a.data[i], v, 1e-6, `row ${i}`));
  const b = objectives.categoricalCrossentropy(p, nd([0, 1, 1, 0, 1, 0], [3, 2]));
  assert.equal(Array.from(b.data), Array.from(a.data));
  const soft = objectives.categoricalCrossentropy(nd([0.25, 0.75], [1, 2]), nd([0.5, 0.5], [1, 2]));
  close(soft.data[0], -0.5 * Math.log(0.25) - 0.5 * Math.log(0.75), 1e-6, 'soft');
});

C('binaryCrossentropy, squaredError, binaryHingeLoss (every option), multiclassHingeLoss', () => {
  const p = nd([0.2, 0.9], [2, 1]);
  const bce = objectives.binaryCrossentropy(p, nd([0, 1], [2, 1]));
  close(bce.data[0], -Math.log(0.8), 1e-6, 'bce 0');
  close(bce.data[1], -Math.log(0.9), 1e-6, 'bce 1');
  // align_targets: (N, 1) predictions with (N) targets
  assert.equal(objectives.binaryCrossentropy(p, nd([0, 1], [2])), bce);
  assert.equal(Array.from(objectives.squaredError(nd([1, 2, 3], [3]), nd([1.5, 2, 1], [3])).data), [0.25, 0, 4]);
  const z = nd([0.5, -2, 3], [3]);
  const t = nd([1, 0, 0], [3]);
  assert.equal(Array.from(objectives.binaryHingeLoss(z, t).data), [0.5, 0, 4]);
  assert.equal(Array.from(objectives.binaryHingeLoss(z, t, { delta: 2 }).data), [1.5, 0, 5]);
  assert.equal(Array.from(objectives.binaryHingeLoss(z, nd([1, -1, -1], [3]), { binary: false }).data), [0.5, 0, 4]);
  const probs = nd([0.5, 0.8], [2]);
  const h = objectives.binaryHingeLoss(probs, nd([1, 0], [2]), { logOdds: false });
  close(h.data[0], 1, 1e-6, 'log-odds of 0.5 is 0');
  close(h.data[1], 1 + Math.log(4), 1e-6, 'log-odds of 0.8');
  const m = objectives.multiclassHingeLoss(nd([0.2, 0.5, 0.3, 2, 0, 0], [2, 3]), Int32Array.of(0, 0));
  assert.equal(m.shape, [2]);
  close(m.data[0], 0.5 - 0.2 + 1, 1e-6, 'row 0');
  close(m.data[1], 0, 0, 'row 1');
  assert.equal(objectives.multiclassHingeLoss(nd([0.2, 0.5, 0.3], [1, 3]), Int32Array.of(1), { delta: 0.1 }).data[0], 0);
  assert.equal(objectives.multiclassHingeLoss(nd([0.2, 0.5, 0.3, 2, 0, 0], [2, 3]), nd([1, 0, 0, 1, 0, 0], [2, 3])), m);
});

C('categoricalAccuracy (top 1, top k, one-hot targets) and binaryAccuracy (threshold)', () => {
  const p = nd([0.1, 0.6, 0.3, 0.5, 0.2, 0.3], [2, 3]);
  assert.equal(Array.from(objectives.categoricalAccuracy(p, Int32Array.of(1, 2)).data), [1, 0]);
  assert.equal(Array.from(objectives.categoricalAccuracy(p, Int32Array.of(2, 2), { topK: 2 }).data), [1, 1]);
  assert.equal(Array.from(objectives.categoricalAccuracy(p, Int32Array.of(0, 1), { topK: 2 }).data), [0, 0]);
  assert.equal(Array.from(objectives.categoricalAccuracy(p, Int32Array.of(0, 1), { topK: 3 }).data), [1, 1]);
  assert.equal(Array.from(objectives.categoricalAccuracy(p, nd([0, 1, 0, 0, 0, 1], [2, 3])).data), [1, 0]);
  assert.equal(Array.from(objectives.binaryAccuracy(nd([0.2, 0.5, 0.7], [3]), nd([0, 1, 0], [3])).data), [1, 1, 0]);
  assert.equal(Array.from(objectives.binaryAccuracy(nd([0.2, 0.5, 0.7], [3]), nd([0, 0, 1], [3]), { threshold: 0.6 }).data), [1, 1, 1]);
});

C("aggregate: mean, sum, normalized_sum with weights, and Lasagne's errors", () => {
  const l = nd([1, 2, 3, 4], [2, 2]);
  assert.is(objectives.aggregate(l), 2.5);
  assert.is(objectives.aggregate(l, { mode: 'sum' }), 10);
  const w = nd([1, 0, 1, 2], [2, 2]);
  assert.is(objectives.aggregate(l, { weights: w }), (1 + 3 + 8) / 4);
  assert.is(objectives.aggregate(l, { weights: w, mode: 'normalized_sum' }), 12 / 4);
  assert.is(objectives.aggregate(l, { weights: 2, mode: 'sum' }), 20);
  throwsWith(() => objectives.aggregate(l, { mode: 'normalized_sum' }), ValueError, "require weights for mode='normalized_sum'");
  throwsWith(() => objectives.aggregate(l, { mode: 'max' }), ValueError, "mode must be 'mean', 'sum' or 'normalized_sum', got 'max'");
  throwsWith(() => objectives.aggregate(l, { weights: nd([1, 2], [2]) }), ValueError, 'weights of the loss');
});

const O = suite('objectives against the float64 loss oracle (lossRef)');

O('every loss kind, index and dense targets, mean and sum: aggregate(objective) equals lossRef within float32 rounding', () => {
  const N = 5;
  const U = 4;
  const labels = Int32Array.of(0, 3, 1, 1, 2);
  const probs = toFloat32(uniform([N, U], 11, 0.05, 0.95));
  const logits = toFloat32(uniform([N, U], 12, -3, 3));
  const bin = toFloat32({ data: Float64Array.from({ length: N * U }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0), shape: [N, U] });
  const cases = [
    ['categorical_crossentropy', objectives.categoricalCrossentropy, probs, labels, 'index'],
    ['categorical_crossentropy', objectives.categoricalCrossentropy, probs, toFloat32(uniform([N, U], 13)), 'dense'],
    ['binary_crossentropy', objectives.binaryCrossentropy, probs, bin, 'dense'],
    ['squared_error', objectives.squaredError, logits, toFloat32(uniform([N, U], 14, -1, 1)), 'dense'],
    ['binary_hinge', objectives.binaryHingeLoss, logits, bin, 'dense'],
    ['multiclass_hinge', objectives.multiclassHingeLoss, logits, labels, 'index'],
  ];
  for (const [kind, fn, pred, targets, targetForm] of cases) {
    assert.is(fn.lossKind, kind);
    assert.is(objectives.lossKindOf(fn), kind);
    const predUB = transpose({ data: Float64Array.from(pred.data), shape: [N, U] }, [1, 0]).data;
    const tUB = targetForm === 'index' ? Array.from(targets) : transpose({ data: Float64Array.from(targets.data), shape: [N, U] }, [1, 0]).data;
    for (const mode of ['mean', 'sum']) {
      const want = lossRef({ kind, targetForm, aggregate: mode }, predUB, tUB, U, N).loss;
      const have = objectives.aggregate(fn(pred, targets), { mode });
      close(have, want, 1e-6 * Math.max(1, Math.abs(want)), `${kind} ${targetForm} ${mode}`);
    }
  }
});

O('the fused softmax + cross-entropy loss equals categoricalCrossentropy of the softmax', () => {
  const logits = toFloat32(uniform([3, 5], 15, -4, 4));
  const labels = Int32Array.of(4, 0, 2);
  const want = lossRef({ kind: 'categorical_crossentropy', fusedSoftmax: true, targetForm: 'index' }, transpose({ data: Float64Array.from(logits.data), shape: [3, 5] }, [1, 0]).data, Array.from(labels), 5, 3).loss;
  close(objectives.aggregate(objectives.categoricalCrossentropy(lasagne.nonlinearities.softmax(logits), labels)), want, 1e-6, 'fused');
});

const E = suite('objectives: errors');

E('rank mismatches are TypeErrors as in Theano/Lasagne; bad indices, shapes, options and non-objectives are refused', () => {
  const p = nd([0.5, 0.5], [1, 2]);
  throwsWith(() => objectives.categoricalCrossentropy(p, nd([1], [1, 1, 1])), TypeError, 'rank mismatch between coding and true distributions');
  throwsWith(() => objectives.categoricalAccuracy(p, nd([1], [1, 1, 1])), TypeError, 'rank mismatch between targets and predictions');
  throwsWith(() => objectives.multiclassHingeLoss(p, nd([1], [1, 1, 1])), TypeError, 'rank mismatch between targets and predictions');
  throwsWith(() => objectives.categoricalCrossentropy(p, Int32Array.of(2)), ValueError, 'class indices in [0, 2)', 'targets[0]=2');
  throwsWith(() => objectives.categoricalCrossentropy(p, Int32Array.of(0, 1)), ValueError, 'one class index per row');
  throwsWith(() => objectives.multiclassHingeLoss(p, nd([0.5, 0.5], [1, 2])), ValueError, 'one-hot');
  throwsWith(() => objectives.squaredError(p, nd([1, 2, 3], [3])), ValueError, 'targets of the predictions\' shape (1, 2)');
  throwsWith(() => objectives.squaredError({ data: [1, 2], shape: [2] }, nd([1, 2], [2])), ValueError, 'predictions.data must be a Float32Array');
  throwsWith(() => objectives.binaryHingeLoss(p, p, { log_odds: true }), TypeError, "did you mean 'logOdds'");
  throwsWith(() => objectives.categoricalAccuracy(p, Int32Array.of(0), { topK: 0 }), ValueError, 'topK=0');
  throwsWith(() => objectives.lossKindOf((a) => a), TypeError, 'loss must be one of');
  throwsWith(() => objectives.lossKindOf(objectives.categoricalAccuracy), TypeError, 'categoricalAccuracy');
  assert.throws(() => { 'use strict'; objectives.squaredError.lossKind = 'x'; });
  assert.is(objectives.squaredError.lossKind, 'squared_error');
});

C.run();
O.run();
E.run();
