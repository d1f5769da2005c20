// The backward step descriptions of src/ops/backward.ts: the transposes' gradients are the inverse
// permutations (checked on data with the reference transpose), cuda-convnet's untruncated grid,
// and weightActsStep's partialSum bookkeeping (M from the untruncated grid, groups, scratch bytes).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { transposeGradStep, ccGridLength, weightActsStep } from '../../dist/ops/backward.js';
import { transpose } from '../reference/array.mjs';
import { transposeGrad } from '../reference/backward.mjs';
import { uniform } from '../reference/random.mjs';

const Steps = suite('backward step descriptions');

Steps('transposeGradStep: the inverse permutation over the forward output shape', () => {
  const forward = [
    { op: 'transpose', index: 3, layer: 'in', input: 0, output: 1, perm: [1, 2, 3, 0], inShape: [2, 3, 4, 5] },
    { op: 'transpose', index: 4, layer: 'out', input: 1, output: 2, perm: [3, 0, 1, 2], inShape: [3, 4, 5, 2] },
  ];
  for (const f of forward) {
    const g = transposeGradStep(f, 7, 8, 9);
    assert.equal([g.input, g.output, g.index, g.layer, g.op], [7, 8, 9, f.layer, 'transpose']);
    const x = uniform(f.inShape, 1);
    const y = transpose(x, f.perm);
    assert.equal(g.inShape, y.shape, 'the gradient step reads a tensor of the forward output shape');
    const dy = uniform(y.shape, 2);
    const back = transpose(dy, g.perm);
    assert.equal(back.shape, f.inShape);
    assert.equal(Array.from(back.data), Array.from(transposeGrad(dy, f.perm).data));
  }
});

Steps("ccGridLength is cuda-convnet's untruncated grid; weightActsStep counts modules on it", () => {
  assert.is(ccGridLength(6, 3, 2, 0), 3); // Lasagne keeps ceil((6 - 3 + 1) / 2) = 2
  assert.is(ccGridLength(32, 5, 1, 2), 32);
  assert.is(ccGridLength(7, 3, 3, 1), 3);
  const geo = { layer: 'c', channels: 4, rows: 6, cols: 7, batch: 8, filters: 32, filterSize: 3, stride: 2, pad: 0, outRows: 2, outCols: 3 };
  const s = weightActsStep(geo, 3, { index: 5, input: 1, preActGrad: 2, weightGrad: 3 });
  assert.equal([s.rowsCC, s.colsCC, s.modules, s.groups, s.effectivePartialSum, s.partialSum], [3, 3, 9, 3, 3, 3]);
  assert.is(s.scratchBytes, 4 * 3 * 4 * 9 * 32);
  assert.equal([s.index, s.input, s.preActGrad, s.weightGrad, s.op], [5, 1, 2, 3, 'weight_acts']);
  const all = weightActsStep(geo, 0, { index: 0, input: 0, preActGrad: 0, weightGrad: 0 });
  assert.equal([all.groups, all.scratchBytes, all.effectivePartialSum], [1, 0, 9]);
  assert.throws(() => weightActsStep(geo, 1.5, { index: 0, input: 0, preActGrad: 0, weightGrad: 0 }), /partial_sum to be an integer, but partial_sum=1.5/);
});

Steps.run();
