// The public surface of the package as API.md defines it: entry points, namespaces, arrays, errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import * as lasagne from 'lasagne-webgpu';
import * as cc from 'lasagne-webgpu/layers/cuda_convnet';

const api = suite('package entry points');

api('the package gives the namespaces and helper functions of API.md', () => {
  for (const ns of ['layers', 'init', 'nonlinearities', 'errors', 'random']) assert.type(lasagne[ns], 'object', ns);
  for (const fn of ['getAllLayers', 'getOutputShape', 'getAllParams', 'countParams', 'getAllParamValues', 'setAllParamValues', 'ndarray', 'plan', 'loadNpz', 'saveNpz']) {
    assert.type(lasagne[fn], 'function', fn);
  }
  for (const fn of ['getAllLayers', 'getOutputShape', 'getAllParams', 'countParams', 'getAllParamValues', 'setAllParamValues']) {
    assert.is(lasagne.layers[fn], lasagne[fn], `layers.${fn} is the same function`);
  }
});

api('the cuda-convnet layers come from their own module, which is layers.cuda_convnet, and not flat in layers', () => {
  assert.is(lasagne.layers.cuda_convnet, cc);
  assert.equal(Object.keys(cc).sort(),
    ['Conv2DCCLayer', 'MaxPool2DCCLayer', 'NINLayer_c01b', 'ShuffleBC01ToC01BLayer', 'ShuffleC01BToBC01Layer', 'bc01_to_c01b', 'c01b_to_bc01'].sort());
  assert.is(lasagne.layers.Conv2DCCLayer, undefined);
  assert.is(cc.bc01_to_c01b, cc.ShuffleBC01ToC01BLayer);
  assert.is(cc.c01b_to_bc01, cc.ShuffleC01BToBC01Layer);
});

api('package.json exports point at built files with types', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.is(pkg.name, 'lasagne-webgpu');
  assert.is(pkg.type, 'module');
  for (const entry of Object.values(pkg.exports)) {
    if (typeof entry === 'string') continue;
    assert.ok(existsSync(new URL(`../${entry.default}`, import.meta.url)), entry.default);
    assert.ok(existsSync(new URL(`../${entry.types}`, import.meta.url)), entry.types);
  }
});

const errors = suite('error classes');

errors('Lasagne\'s exception classes all extend LasagneError, which extends Error', () => {
  const { LasagneError, ValueError, RuntimeError, NotImplementedError } = lasagne.errors;
  for (const E of [ValueError, RuntimeError, NotImplementedError]) {
    const e = new E('x');
    assert.ok(e instanceof LasagneError && e instanceof Error);
    assert.is(e.name, E.name);
  }
  assert.not.ok(new ValueError('x') instanceof RuntimeError);
});

const arrays = suite('ndarray');

arrays('ndarray checks the length against the shape and refuses other array types', () => {
  const { ValueError } = lasagne.errors;
  const a = lasagne.ndarray(new Float32Array(6), [2, 3]);
  assert.equal(a.shape, [2, 3]);
  assert.throws(() => lasagne.ndarray(new Float32Array(5), [2, 3]), (e) => e instanceof ValueError && /5 elements but shape \(2, 3\) needs 6/.test(e.message));
  assert.throws(() => lasagne.ndarray(new Float64Array(6), [2, 3]), (e) => e instanceof ValueError && /Float32Array.*Float64Array/.test(e.message));
  assert.throws(() => lasagne.ndarray([1, 2, 3, 4, 5, 6], [2, 3]), (e) => e instanceof ValueError && /Float32Array/.test(e.message));
  assert.throws(() => lasagne.ndarray(new Float32Array(6), [2, -3]), (e) => e instanceof ValueError && /non-negative integers/.test(e.message));
  assert.equal(lasagne.ndarray(new Float32Array(1), []).shape, []);
});

const options = suite('options objects');

options('unknown options name the key and suggest the camelCase spelling', () => {
  const input = new lasagne.layers.InputLayer([2, 3, 8, 8]);
  const cases = [
    [() => new cc.Conv2DCCLayer(input, 16, 3, { untie_biases: true }), "unknown option 'untie_biases' for Conv2DCCLayer; did you mean 'untieBiases'?"],
    [() => new cc.Conv2DCCLayer(input, 16, 3, { flip_filters: true }), "did you mean 'flipFilters'?"],
    [() => new cc.Conv2DCCLayer(input, 16, 3, { partial_sum: 2 }), "did you mean 'partialSum'?"],
    [() => new cc.MaxPool2DCCLayer(input, 2, { ignore_border: false }), "did you mean 'ignoreBorder'?"],
    [() => new cc.NINLayer_c01b(new lasagne.layers.InputLayer([3, 4, 4, 2]), 4, { nonlin: null }), "did you mean 'nonlinearity'?"],
    [() => new lasagne.layers.InputLayer([2], { nmae: 'x' }), "did you mean 'name'?"],
    [() => new lasagne.init.GlorotUniform({ gian: 1 }), "did you mean 'gain'?"],
    [() => new cc.Conv2DCCLayer(input, 16, 3, { colour: 1 }), "unknown option 'colour' for Conv2DCCLayer; valid options are"],
  ];
  for (const [fn, text] of cases) assert.throws(fn, (e) => e instanceof TypeError && e.message.includes(text), text);
});

options('option values of the wrong type are refused, not converted', () => {
  const input = new lasagne.layers.InputLayer([2, 3, 8, 8]);
  assert.throws(() => new cc.Conv2DCCLayer(input, 16, 3, { dimshuffle: 'yes' }), (e) => e instanceof TypeError && /dimshuffle/.test(e.message));
  assert.throws(() => new cc.Conv2DCCLayer(input, '16', 3), (e) => e instanceof TypeError && /num_filters/.test(e.message));
  assert.throws(() => new cc.Conv2DCCLayer(input, 16, 3, { nonlinearity: (x) => x }), (e) => e instanceof TypeError && /nonlinearity/.test(e.message));
  assert.throws(() => new cc.Conv2DCCLayer(input, 16, 3, 'pad'), (e) => e instanceof TypeError && /options must be an object/.test(e.message));
});

api.run();
errors.run();
arrays.run();
options.run();
