// The page's classifier, shared by the page and the tests: the trained model when `npm start` has
// written out/model.json and out/model.npz, else a Fashion-MNIST-shaped network of the cuda-convnet
// layers with its seeded initial weights (no training yet: its guesses are meaningless).
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, bc01_to_c01b, c01b_to_bc01 } from 'lasagne-webgpu/layers/cuda_convnet';

export const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** The seed of the untrained classifier's initial weights (the tests rebuild it in Node). */
export const SEED = 2026;

/**
 * 28x28 grey images in (bc01), 10 class maps out: two conv + max-pool stages, then a 1x1 NIN layer
 * to 10 units (DenseLayer does not exist yet, so the class scores are averaged over the 7x7 map on
 * the host, in `toProbabilities`).
 */
export function fashionClassifier() {
  lasagne.random.setRng(new lasagne.random.RandomState(SEED));
  let net = new lasagne.layers.InputLayer([null, 1, 28, 28], { name: 'input' });
  net = new Conv2DCCLayer(net, 32, 5, { pad: 2, name: 'conv1' });        // 32 x 28 x 28
  net = new MaxPool2DCCLayer(net, 3, { stride: 2, name: 'pool1' });       // 32 x 14 x 14
  net = new Conv2DCCLayer(net, 64, 5, { pad: 2, name: 'conv2' });        // 64 x 14 x 14
  net = new MaxPool2DCCLayer(net, 3, { stride: 2, name: 'pool2' });       // 64 x 7 x 7
  net = new bc01_to_c01b(net, { name: 'to_c01b' });
  net = new NINLayer_c01b(net, 10, { nonlinearity: null, name: 'scores' }); // 10 x 7 x 7 x B
  return new c01b_to_bc01(net, { name: 'to_bc01' });                      // B x 10 x 7 x 7
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
 * The classifier the page runs: `{ model, weights, trained }` from out/model.json and
 * out/model.npz when the server has them, else the untrained one.
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
