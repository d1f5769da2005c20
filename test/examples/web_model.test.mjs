// examples/web/model.js: the page's classifier, its probabilities, its filters, and where it loads from.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { readFileSync } from 'node:fs';
import { CLASSES, SIZES, buildClassifier, fashionClassifier, firstFilters, loadClassifier, toProbabilities } from '../../examples/web/model.js';

const model = suite('examples/web/model.js');

model('the untrained classifier is npm start\'s small network: 28 x 28 in, 10 softmax scores out, the same weights every time', () => {
  const net = fashionClassifier();
  assert.equal(lasagne.getOutputShape(net, [3, 1, 28, 28]), [3, 10]);
  assert.equal(lasagne.layers.getAllLayers(net).map((l) => l.constructor.name), [
    'InputLayer', 'Conv2DCCLayer', 'MaxPool2DCCLayer', 'Conv2DCCLayer', 'MaxPool2DCCLayer', 'DropoutLayer', 'DenseLayer', 'DropoutLayer', 'DenseLayer',
  ]);
  assert.is(CLASSES.length, 10);
  const again = fashionClassifier();
  assert.equal(lasagne.getAllParamValues(again).map((v) => Array.from(v.data)), lasagne.getAllParamValues(net).map((v) => Array.from(v.data)));
});

model('every size builds its blocks: convs padded to keep 28 x 28, a pool per block, the dense layers; PyTorch\'s twin has the same SIZES', () => {
  const torchSource = readFileSync(new URL('../../scripts/bench_train_torch.py', import.meta.url), 'utf8');
  for (const [size, s] of Object.entries(SIZES)) {
    const net = buildClassifier({ size });
    assert.equal(lasagne.getOutputShape(net, [2, 1, 28, 28]), [2, 10], size);
    const layers = lasagne.layers.getAllLayers(net);
    const convs = layers.filter((l) => l instanceof Conv2DCCLayer);
    assert.equal(convs.map((l) => [l.numFilters, l.filterSize[0], l.name]), s.blocks.flat().map(([f, k], i) => [f, k, `conv${i + 1}`]), size);
    // a chain: each conv keeps its input's rows and columns, each pool halves them
    layers.forEach((l, i) => {
      if (i === 0) return;
      const [inner, outer] = [lasagne.getOutputShape(layers[i - 1], [2, 1, 28, 28]), lasagne.getOutputShape(l, [2, 1, 28, 28])];
      if (l instanceof Conv2DCCLayer) assert.equal(outer.slice(2), inner.slice(2), `${size} ${l.name}`);
      if (l.constructor.name === 'MaxPool2DCCLayer') assert.equal(outer.slice(2), inner.slice(2).map((d) => d / 2), `${size} ${l.name}`);
    });
    assert.is(layers.filter((l) => l.constructor.name === 'MaxPool2DCCLayer').length, s.blocks.length, size);
    assert.equal(layers.filter((l) => l.constructor.name === 'DropoutLayer').map((l) => l.p), [s.drop1, s.drop2], size);
    // bench_train_torch.py's SIZES entry, the same numbers
    const line = torchSource.split('\n').find((l) => l.trim().startsWith(`'${size}': {`));
    assert.ok(line, `bench_train_torch.py has no SIZES entry '${size}'`);
    const py = JSON.parse(line.trim().replace(/^'[^']+': /, '').replace(/,$/, '').replace(/'/g, '"').replace(/\(/g, '[').replace(/\)/g, ']'));
    assert.equal(py, JSON.parse(JSON.stringify(s)), `${size}: PyTorch's twin differs`);
  }
  assert.throws(() => buildClassifier({ size: 'toString' }), /size must be one of small, large, wide, deep, deep64, but got "toString"/);
});

model('toProbabilities averages class maps, then softmax; probabilities pass through', () => {
  const y = { data: new Float32Array(2 * 10 * 4).map((_, i) => (i % 7) - 3 + i / 40), shape: [2, 10, 2, 2] };
  const p = toProbabilities(y);
  const mean = Array.from({ length: 10 }, (_, c) => (y.data[4 * c] + y.data[4 * c + 1] + y.data[4 * c + 2] + y.data[4 * c + 3]) / 4);
  const z = mean.map((m) => Math.exp(m)).reduce((a, b) => a + b, 0);
  mean.forEach((m, c) => assert.ok(Math.abs(p[c] - Math.exp(m) / z) < 1e-12, `class ${c}`));
  const probs = Float32Array.from([0.05, 0.05, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1]);
  assert.equal(toProbabilities({ data: probs, shape: [1, 10] }).map((v) => Math.round(v * 100) / 100), Array.from(probs, (v) => Math.round(v * 100) / 100));
  const logits = toProbabilities({ data: Float32Array.from({ length: 10 }, (_, i) => i), shape: [1, 10] });
  assert.ok(logits[9] > logits[0] && Math.abs(logits.reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

model('firstFilters reads (F, C, k, k) and c01b (C, k, k, F) weights alike, averaged over channels', () => {
  const W = lasagne.ndarray(Float32Array.from({ length: 16 * 3 * 3 * 3 }, (_, i) => Math.sin(i)), [16, 3, 3, 3]);
  const bc01 = new Conv2DCCLayer(new lasagne.layers.InputLayer([1, 3, 8, 8]), 16, 3, { W });
  // the same filters in c01b: Wc[c, i, j, f] = W[f, c, i, j]
  const Wc = new Float32Array(W.data.length);
  for (let f = 0; f < 16; f++) for (let c = 0; c < 3; c++) for (let i = 0; i < 9; i++) Wc[(c * 9 + i) * 16 + f] = W.data[(f * 3 + c) * 9 + i];
  const c01b = new Conv2DCCLayer(new lasagne.layers.InputLayer([3, 8, 8, 1]), 16, 3, { W: lasagne.ndarray(Wc, [3, 3, 3, 16]), dimshuffle: false });
  const a = firstFilters(bc01);
  const b = firstFilters(c01b);
  assert.equal([a.count, a.size], [16, 3]);
  assert.equal(Array.from(b.data), Array.from(a.data));
  assert.ok(Math.abs(a.data[4] - (W.data[4] + W.data[13] + W.data[22]) / 3) < 1e-7, 'filter 0, centre: the mean over channels');
});

model('loadClassifier takes the served model and weights, and falls back to the untrained one', async () => {
  const served = fashionClassifier();
  lasagne.setAllParamValues(served, lasagne.getAllParamValues(served).map((v) => ({ data: v.data.map((x) => x + 1), shape: v.shape })));
  const files = {
    'model.json': JSON.stringify(lasagne.layers.toJSON(served)),
    'model.npz': lasagne.saveNpz(lasagne.getAllParamValues(served)),
  };
  const fetchFn = async (name) => (name in files ? new Response(files[name]) : new Response('not found', { status: 404 }));
  const got = await loadClassifier(fetchFn);
  assert.ok(got.trained);
  assert.equal(lasagne.getAllParamValues(got.net).map((v) => Array.from(v.data)), lasagne.getAllParamValues(served).map((v) => Array.from(v.data)));
  const none = await loadClassifier(async () => new Response('not found', { status: 404 }));
  assert.not.ok(none.trained);
  assert.equal(lasagne.getAllParamValues(none.net)[0].data, lasagne.getAllParamValues(fashionClassifier())[0].data);
  const offline = await loadClassifier(async () => {
    throw new TypeError('Failed to fetch');
  });
  assert.not.ok(offline.trained);
});

model.run();
