// The plans of networks built from every layer kind compute what the trainer's float64 network
// oracle (test/reference/network.mjs) computes: the layers' lowering (rotations, weight layouts,
// copies, the dropout mask on the batch-last form and its seed) run by the float64 plan
// interpreter, deterministic and with dropout active at several run counters.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, ShuffleC01BToBC01Layer } from 'lasagne-webgpu/layers/cuda_convnet';
import { runPlan } from '../layers/plan_run.mjs';
import { networkForward } from '../reference/network.mjs';
import { uniform, toFloat32 } from '../reference/random.mjs';

const { layers, nonlinearities: nl, init } = lasagne;
const bias = () => new init.Uniform({ range: [-0.1, 0.1] });

const cases = [
  ['conv (pad) -> max-pool (partial windows) -> dense softmax', [4, 1, 7, 7], () => {
    let n = new layers.InputLayer([4, 1, 7, 7]);
    n = new Conv2DCCLayer(n, 16, 3, { pad: 1, b: bias() });
    n = new MaxPool2DCCLayer(n, 3, { stride: 2 });
    return new layers.DenseLayer(n, 5, { nonlinearity: nl.softmax });
  }],
  ['conv (stride 2, untied, tanh, flip) -> dropout -> dense sigmoid', [3, 3, 9, 9], () => {
    let n = new layers.InputLayer([3, 3, 9, 9]);
    n = new Conv2DCCLayer(n, 16, 3, { stride: 2, untieBiases: true, nonlinearity: nl.tanh, flipFilters: true, b: bias() });
    n = new layers.DropoutLayer(n, { p: 0.25 });
    return new layers.DenseLayer(n, 4, { nonlinearity: nl.sigmoid });
  }],
  ['input dropout -> dense elu -> dropout -> nonlinearity (leaky) -> dense softmax', [6, 10], () => {
    let n = new layers.InputLayer([6, 10]);
    n = new layers.DropoutLayer(n, { p: 0.2 });
    n = new layers.DenseLayer(n, 8, { nonlinearity: nl.elu, b: bias() });
    n = new layers.DropoutLayer(n, { p: 0.3, rescale: false });
    n = new layers.NonlinearityLayer(n, { nonlinearity: new nl.LeakyRectify({ leakiness: 0.1 }) });
    return new layers.DenseLayer(n, 3, { nonlinearity: nl.softmax });
  }],
  ['conv (softplus) -> global mean pool -> dense linear', [4, 4, 5, 5], () => {
    let n = new layers.InputLayer([4, 4, 5, 5]);
    n = new Conv2DCCLayer(n, 16, 3, { nonlinearity: nl.softplus });
    n = new layers.GlobalPoolLayer(n);
    return new layers.DenseLayer(n, 2, { nonlinearity: null });
  }],
  ['c01b input -> NIN (untied) -> shuffle to bc01 -> flatten -> dense', [8, 3, 3, 4], () => {
    let n = new layers.InputLayer([8, 3, 3, 4]);
    n = new NINLayer_c01b(n, 16, { untieBiases: true, b: bias(), nonlinearity: nl.sigmoid });
    n = new ShuffleC01BToBC01Layer(n);
    n = new layers.FlattenLayer(n);
    return new layers.DenseLayer(n, 3, { nonlinearity: null });
  }],
  ['reshape -> dense -> dropout -> reshape -> nonlinearity (tanh) -> flatten -> dense', [5, 12], () => {
    let n = new layers.InputLayer([5, 12]);
    n = new layers.ReshapeLayer(n, [[0], 3, 4]);
    n = new layers.DenseLayer(n, 6, { b: bias() });
    n = new layers.DropoutLayer(n, { p: 0.5 });
    n = new layers.ReshapeLayer(n, [[0], 2, -1]);
    n = new layers.NonlinearityLayer(n, { nonlinearity: nl.tanh });
    n = new layers.FlattenLayer(n);
    return new layers.DenseLayer(n, 3, { nonlinearity: null });
  }],
];

const O = suite('plans against the float64 network oracle');

for (const [name, shape, build] of cases) {
  O(`${name}: deterministic and dropout at counters 1, 2, 9`, () => {
    lasagne.random.setRng(new lasagne.random.RandomState(3));
    const net = build();
    const all = layers.getAllLayers(net);
    const params = lasagne.getAllParams(net);
    const values = new Map(params.map((p) => [p, Float64Array.from(p.getValue().data)]));
    const x = toFloat32(uniform(shape, 17, -1, 1));
    const runs = [[true, 1], [false, 1], [false, 2], [false, 9]];
    for (const [deterministic, counter] of runs) {
      const p = lasagne.plan(net, { deterministic });
      const [y] = runPlan(p, lasagne.getAllParamValues(net), [x], { counter });
      const want = networkForward(all, x, values, { counter, deterministic });
      assert.equal(y.shape, want.shape);
      let diff = 0;
      y.data.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - want.data[i])); });
      assert.ok(diff < 1e-9, `${deterministic ? 'deterministic' : `counter ${counter}`}: max difference ${diff}`);
      if (!deterministic && all.some((l) => l instanceof layers.DropoutLayer)) {
        const [other] = runPlan(p, lasagne.getAllParamValues(net), [x], { counter: counter + 1 });
        assert.ok(other.data.some((v, i) => v !== y.data[i]), 'another counter draws another mask');
      }
    }
  });
}

O.run();
