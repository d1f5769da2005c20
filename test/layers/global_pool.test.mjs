// GlobalPoolLayer: shapes, errors, and its global_pool step.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { throwsWith } from './support.mjs';
import { runPlan } from './plan_run.mjs';
import { uniform, toFloat32 } from '../reference/random.mjs';

const { InputLayer, GlobalPoolLayer } = lasagne.layers;
const { ValueError, NotImplementedError } = lasagne.errors;

const G = suite('GlobalPoolLayer');

G('test_get_output_shape_for: the first two axes; poolFunction mean by default; no params', () => {
  const layer = new GlobalPoolLayer(new InputLayer([null, 8, 4, 5]));
  assert.equal(layer.outputShape, [null, 8]);
  assert.equal(layer.getOutputShapeFor([2, 3, 4, 5, 6]), [2, 3]);
  assert.is(layer.poolFunction, 'mean');
  assert.equal(layer.getParams(), []);
  assert.equal(new GlobalPoolLayer([2, 3, 7]).outputShape, [2, 3]);
});

G('other pool functions are NotImplementedError; a 2-D input and bad options are refused', () => {
  throwsWith(() => new GlobalPoolLayer([2, 3, 4], { poolFunction: 'max' }), NotImplementedError, "GlobalPoolLayer only supports poolFunction='mean', but poolFunction='max'");
  throwsWith(() => new GlobalPoolLayer([2, 3, 4], { poolFunction: Math.max }), TypeError, "option 'poolFunction'");
  throwsWith(() => new GlobalPoolLayer([2, 3]), ValueError, 'at least 3 dimensions', '(2, 3)');
  throwsWith(() => new GlobalPoolLayer([2, 3, 4], { pool_function: 'mean' }), TypeError, "did you mean 'poolFunction'");
});

const L = suite('GlobalPoolLayer lowering');

L('after a conv: one global_pool step on (C, H*W, N), output (C, N); values are the means', () => {
  const l_in = new InputLayer([2, 4, 5, 5]);
  const conv = new Conv2DCCLayer(l_in, 16, 3);
  const p = lasagne.plan(new GlobalPoolLayer(conv));
  assert.equal(p.steps.map((s) => s.op), ['transpose', 'filter_acts', 'global_pool', 'transpose']);
  const g = p.steps[2];
  assert.equal([g.channels, g.positions, g.batch], [16, 9, 2]);
  assert.equal(p.tensors[g.output].shape, [16, 2]);
  const direct = lasagne.plan(new GlobalPoolLayer(new InputLayer([3, 2, 4])));
  const x = toFloat32(uniform([3, 2, 4], 8));
  const [y] = runPlan(direct, [], [x]);
  assert.equal(y.shape, [3, 2]);
  for (let n = 0; n < 3; n++) for (let c = 0; c < 2; c++) {
    const want = x.data.slice((n * 2 + c) * 4, (n * 2 + c + 1) * 4).reduce((s, v) => s + v, 0) / 4;
    assert.ok(Math.abs(y.data[n * 2 + c] - want) < 1e-12);
  }
});

G.run();
L.run();
