import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from '../../dist/index.js';
import { Conv2DCCLayer } from '../../dist/layers/cuda_convnet.js';
import { layerForward } from '../reference/layers.mjs';
import { evaluate } from '../../scripts/start/evaluate.mjs';

const evaluation = suite('evaluate');

/** n one-pixel images whose pixel is the image's index. */
const indexed = (n, labels) => ({ images: lasagne.ndarray(Float32Array.from({ length: n }, (_, i) => i), [n, 1, 1, 1]), labels: Int32Array.from(labels) });

/**
 * A stand-in network: image with pixel v scores class (v * 3) % 4 highest; runs resolve out of
 * order (later calls sooner), and each reads its input when called, as the real ones do.
 */
function fakeNetwork(batchSize, calls) {
  return {
    run(x) {
      const pixels = Array.from(x.data);
      calls.push(pixels);
      const delay = 30 - 10 * (calls.length % 3);
      return new Promise((resolve) => setTimeout(() => {
        const data = new Float32Array(batchSize * 4);
        pixels.forEach((v, k) => { data[k * 4 + ((v * 3) % 4)] = 1; });
        resolve(lasagne.ndarray(data, [batchSize, 4]));
      }, delay));
    },
  };
}

evaluation('every image classified once, in order, across batches resolved out of order; the padded tail ignored', async () => {
  const labels = [0, 3, 2, 1, 0, 0, 0, 0, 0, 1, 1];
  const calls = [];
  const seen = [];
  const r = await evaluate(fakeNetwork(4, calls), indexed(11, labels), 4, { onBatch: (d) => seen.push(d) });
  assert.equal(Array.from(r.predicted), Array.from({ length: 11 }, (_, v) => (v * 3) % 4));
  assert.equal(calls, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 0]]);
  assert.equal(seen, [4, 8, 11]);
  // right: 0 (0), 1 (3), 2 (2), 3 (1), 4 (0), 8 (0), 9 (3: no), 10 (2: no) -> 6 of 11
  assert.is(r.correct, 6);
  assert.is(r.total, 11);
  assert.is(r.accuracy, 6 / 11);
});

evaluation('a network compiled for another batch size is refused with the fix', async () => {
  const net = { run: async () => lasagne.ndarray(new Float32Array(8), [2, 4]) };
  try {
    await evaluate(net, indexed(4, [0, 0, 0, 0]), 4);
    assert.unreachable('no error');
  } catch (e) {
    assert.match(e.message, /returned 2 rows for a batch of 4; compile it with \{ batchSize: 4 \}/);
  }
});

evaluation('with a real compiled network (WASM): the predictions are the float64 reference\'s argmax', async () => {
  lasagne.random.setRng(new lasagne.random.RandomState(7));
  const input = new lasagne.layers.InputLayer([null, 1, 28, 28]);
  // a 28 x 28 filter over a 28 x 28 image: 16 scores per image, shape (N, 16, 1, 1)
  const conv = new Conv2DCCLayer(input, 16, 28, { nonlinearity: null });
  let network;
  try {
    network = await lasagne.compile(conv, { batchSize: 4, backend: 'wasm', threads: 1 });
  } catch (e) {
    console.log(`  SKIP: the WASM backend is not available here (${e.message})`);
    return;
  }
  try {
    const n = 10;
    const pixels = Float32Array.from({ length: n * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000);
    const set = { images: lasagne.ndarray(pixels, [n, 1, 28, 28]), labels: Int32Array.from({ length: n }, (_, i) => i) };
    const r = await evaluate(network, set, 4);
    const ref = layerForward(conv, set.images);
    let checked = 0;
    for (let i = 0; i < n; i++) {
      const s = Array.from(ref.data.subarray(i * 16, (i + 1) * 16));
      const order = s.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0]);
      // float32 rounding cannot swap classes whose float64 scores are this far apart
      if (order[0][0] - order[1][0] < 1e-3) continue;
      assert.is(r.predicted[i], order[0][1], `image ${i}`);
      checked++;
    }
    assert.ok(checked >= 8, `only ${checked} images had a clear winner`);
    assert.is(r.total, n);
  } finally {
    network.dispose();
  }
});

evaluation.run();
