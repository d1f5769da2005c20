// The page's classifier, shared by the page and the tests: the trained model when `npm start` has
// written start-out/model.json and start-out/model.npz, else the same network with its seeded initial
// weights, untrained (its guesses are meaningless until `npm start` has trained it).
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';

export const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** The seed of the untrained classifier's initial weights (the tests rebuild it in Node). */
export const SEED = 2026;

/** Widths and dropout of the classifier's two sizes (npm start trains 'small' on a CPU, 'large' on a GPU). */
export const SIZES = Object.freeze({
  small: { conv1: 16, conv2: 32, dense: 128, drop1: 0.1, drop2: 0.25 },
  large: { conv1: 32, conv2: 64, dense: 256, drop1: 0.25, drop2: 0.5 },
});

/**
 * The Lasagne-style cuda-convnet classifier npm start trains (scripts/start/model.mjs), for 28x28
 * grey images (bc01) with 10 softmax scores out:
 *   Conv2DCCLayer conv1 5x5 pad 2 -> MaxPool2DCCLayer 2 -> Conv2DCCLayer conv2 5x5 pad 2 ->
 *   MaxPool2DCCLayer 2 -> DropoutLayer -> DenseLayer (rectify) -> DropoutLayer -> DenseLayer 10 softmax
 * Initial weights from the current `lasagne.random` generator.
 */
export function buildClassifier({ size = 'small', classes = 10 } = {}) {
  const s = SIZES[size];
  if (s === undefined) throw new TypeError(`buildClassifier: size must be 'small' or 'large', but got ${JSON.stringify(size)}`);
  const { layers, nonlinearities: nl, init } = lasagne;
  const relu = () => new init.GlorotUniform({ gain: 'relu' });
  let net = new layers.InputLayer([null, 1, 28, 28], { name: 'input' });
  net = new Conv2DCCLayer(net, s.conv1, 5, { pad: 2, nonlinearity: nl.rectify, W: relu(), name: 'conv1' });
  net = new MaxPool2DCCLayer(net, 2, { name: 'pool1' });
  net = new Conv2DCCLayer(net, s.conv2, 5, { pad: 2, nonlinearity: nl.rectify, W: relu(), name: 'conv2' });
  net = new MaxPool2DCCLayer(net, 2, { name: 'pool2' });
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
