// The page's classifier, shared by the page and the tests: the trained model when `npm start` has
// written start-out/model.json and start-out/model.npz, else the same network with its seeded initial
// weights, untrained (its guesses are meaningless until `npm start` has trained it).
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';

export const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** The seed of the untrained classifier's initial weights (the tests rebuild it in Node). */
export const SEED = 2026;

/**
 * The classifier's sizes: `blocks` of Conv2DCCLayers ([filters, filter size] each, padded to keep
 * the image size, ReLU), each block followed by a 2 x 2 MaxPool2DCCLayer; then dropout `drop1`, a
 * ReLU DenseLayer of `dense` units, dropout `drop2` and the softmax output; `l2` is the weight decay
 * npm start trains it with. npm start trains 'small' on a CPU (5 epochs in minutes) and 'deep64' on a
 * GPU (10 epochs: 92.9% test accuracy on the H200, mean of 3 seeds, README "npm start"); the others
 * are there to compare (npm start -- --size NAME): on the H200, 10 epochs, 1 seed, PyTorch training
 * the same network: large 91.5%, wide 91.9%, deep 92.9%, deep64 93.0%.
 */
export const SIZES = Object.freeze({
  small: { blocks: [[[16, 5]], [[32, 5]]], dense: 128, drop1: 0.1, drop2: 0.25, l2: 1e-4 },
  large: { blocks: [[[32, 5]], [[64, 5]]], dense: 256, drop1: 0.25, drop2: 0.5, l2: 5e-4 },
  wide: { blocks: [[[64, 5]], [[128, 5]]], dense: 512, drop1: 0.25, drop2: 0.5, l2: 5e-4 },
  deep: { blocks: [[[32, 3], [32, 3]], [[64, 3], [64, 3]]], dense: 256, drop1: 0.25, drop2: 0.5, l2: 5e-4 },
  deep64: { blocks: [[[64, 3], [64, 3]], [[128, 3], [128, 3]]], dense: 512, drop1: 0.25, drop2: 0.5, l2: 5e-4 },
});

/** The size npm start trains by default: on a GPU and on a CPU (WASM). */
export const DEFAULT_SIZE = Object.freeze({ gpu: 'deep64', cpu: 'small' });

/**
 * The Lasagne-style cuda-convnet classifier npm start trains (scripts/start/model.mjs), for 28x28
 * grey images (bc01) with 10 softmax scores out, e.g. 'large' (the 'deep' ones have two 3x3 convs per block):
 *   Conv2DCCLayer conv1 5x5 pad 2 -> MaxPool2DCCLayer 2 -> Conv2DCCLayer conv2 5x5 pad 2 ->
 *   MaxPool2DCCLayer 2 -> DropoutLayer -> DenseLayer (rectify) -> DropoutLayer -> DenseLayer 10 softmax
 * (conv layers are named conv1, conv2, ... in order, pools pool1, pool2, ...). Initial weights from
 * the current `lasagne.random` generator.
 */
export function buildClassifier({ size = 'small', classes = 10 } = {}) {
  const s = Object.hasOwn(SIZES, size) ? SIZES[size] : undefined;
  if (s === undefined) throw new TypeError(`buildClassifier: size must be one of ${Object.keys(SIZES).join(', ')}, but got ${JSON.stringify(size)}`);
  const { layers, nonlinearities: nl, init } = lasagne;
  const relu = () => new init.GlorotUniform({ gain: 'relu' });
  let net = new layers.InputLayer([null, 1, 28, 28], { name: 'input' });
  let conv = 0;
  s.blocks.forEach((block, b) => {
    for (const [filters, k] of block) {
      net = new Conv2DCCLayer(net, filters, k, { pad: (k - 1) / 2, nonlinearity: nl.rectify, W: relu(), name: `conv${++conv}` });
    }
    net = new MaxPool2DCCLayer(net, 2, { name: `pool${b + 1}` });
  });
  net = new layers.DropoutLayer(net, { p: s.drop1, name: 'drop1' });
  net = new layers.DenseLayer(net, s.dense, { nonlinearity: nl.rectify, W: relu(), name: 'fc' });
  net = new layers.DropoutLayer(net, { p: s.drop2, name: 'drop2' });
  return new layers.DenseLayer(net, classes, { nonlinearity: nl.softmax, name: 'output' });
}

/** The page's untrained classifier: npm start's small network with the seeded initial weights. */
export function fashionClassifier() {
  lasagne.random.setRng(new lasagne.random.RandomState(SEED));
  return buildClassifier({ size: 'small' });
}

/**
 * Class probabilities of the first image of a network output: a (B, 10, rows, cols) output is
 * averaged over its positions, a (B, 10) one taken as is; softmax unless the values already are
 * probabilities (a model that ends in softmax).
 */
export function toProbabilities(y) {
  const classes = y.shape[1];
  const per = y.shape.slice(2).reduce((a, d) => a * d, 1);
  const scores = new Float64Array(classes);
  for (let c = 0; c < classes; c++) {
    let s = 0;
    for (let i = 0; i < per; i++) s += y.data[c * per + i];
    scores[c] = s / per;
  }
  const sum = scores.reduce((a, v) => a + v, 0);
  if (per === 1 && scores.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-4) return Array.from(scores);
  const max = Math.max(...scores);
  const e = scores.map((v) => Math.exp(v - max));
  const z = e.reduce((a, v) => a + v, 0);
  return Array.from(e, (v) => v / z);
}

/** The first layer's filters as { count, channels, size, data } (for drawing), or null. */
export function firstFilters(net) {
  const conv = lasagne.getAllLayers(net).find((l) => l.W && l.W.shape.length === 4);
  if (!conv) return null;
  const w = conv.W.getValue();
  // W is (F, C, k, k) for bc01 layers, (C, k, k, F) for dimshuffle: false
  const [F, C, k] = conv.dimshuffle === false ? [w.shape[3], w.shape[0], w.shape[1]] : [w.shape[0], w.shape[1], w.shape[2]];
  const data = new Float32Array(F * k * k);
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < k * k; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += conv.dimshuffle === false ? w.data[(c * k * k + i) * F + f] : w.data[(f * C + c) * k * k + i];
      data[f * k * k + i] = s / C;
    }
  }
  return { name: conv.name ?? 'the first conv layer', count: F, size: k, data };
}

/**
 * The classifier the page runs: `{ model, weights, trained }` from start-out/model.json and
 * start-out/model.npz when the server has them, else the untrained one.
 */
export async function loadClassifier(fetchFn = fetch) {
  try {
    const [m, w] = await Promise.all([fetchFn('model.json'), fetchFn('model.npz')]);
    if (m.ok && w.ok) {
      const model = await m.json();
      const weights = new Uint8Array(await w.arrayBuffer());
      const net = lasagne.layers.fromJSON(model);
      lasagne.setAllParamValues(net, lasagne.loadNpz(weights));
      return { net, model, weights, trained: true };
    }
  } catch {
    // no server files: fall through to the untrained classifier
  }
  const net = fashionClassifier();
  return { net, model: lasagne.layers.toJSON(net), weights: lasagne.saveNpz(lasagne.getAllParamValues(net)), trained: false };
}
