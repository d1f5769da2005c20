// regularization: l1/l2 penalties and the layer/network helpers, on the host.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { throwsWith } from './layers/support.mjs';

const { regularization } = lasagne;
const { InputLayer, DenseLayer } = lasagne.layers;
const nd = (values, shape) => ({ data: Float32Array.from(values), shape });

const R = suite('regularization');

R('l1 = sum |x| and l2 = sum x^2 of an NDArray or a parameter; penaltyKind names them', () => {
  const x = nd([1, -2, 0.5], [3]);
  assert.is(regularization.l1(x), 3.5);
  assert.is(regularization.l2(x), 5.25);
  assert.is(regularization.l1.penaltyKind, 'l1');
  assert.is(regularization.l2.penaltyKind, 'l2');
  const layer = new DenseLayer(new InputLayer([2, 3]), 2, { W: nd([1, 2, 3, 4, 5, 6], [3, 2]), b: nd([10, 10], [2]) });
  assert.is(regularization.l2(layer.W), 91);
  assert.is(regularization.applyPenalty([layer.W, x], regularization.l1), 21 + 3.5);
});

R('regularizeNetworkParams and regularizeLayerParams use the regularizable params (weights, not biases) by default', () => {
  const l_in = new InputLayer([2, 3]);
  const a = new DenseLayer(l_in, 2, { W: nd([1, 1, 1, 1, 1, 1], [3, 2]), b: nd([5, 5], [2]) });
  const b = new DenseLayer(a, 1, { W: nd([2, 3], [2, 1]) });
  assert.is(regularization.regularizeNetworkParams(b, regularization.l2), 6 + 13);
  assert.is(regularization.regularizeNetworkParams(b, regularization.l2, { tags: {} }), 6 + 50 + 13);
  assert.is(regularization.regularizeLayerParams(b, regularization.l1), 5);
  assert.is(regularization.regularizeLayerParams([a, b], regularization.l1), 11);
  assert.is(regularization.regularizeLayerParamsWeighted(new Map([[a, 0.5], [b, 2]]), regularization.l2), 3 + 26);
});

R('bad penalties, layers and coefficients are refused', () => {
  const layer = new DenseLayer(new InputLayer([2, 3]), 2);
  throwsWith(() => regularization.regularizeNetworkParams(layer, 'l2'), TypeError, 'requires a penalty function');
  throwsWith(() => regularization.regularizeLayerParams([layer, 3], regularization.l2), TypeError, 'item 1');
  throwsWith(() => regularization.regularizeLayerParamsWeighted(new Map([[layer, 'a']]), regularization.l2), TypeError, 'finite number');
  throwsWith(() => regularization.l2([1, 2]), lasagne.errors.ValueError, 'l2: x');
});

R.run();
