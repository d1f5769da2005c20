import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from '../../dist/index.js';
import { Conv2DCCLayer } from '../../dist/layers/cuda_convnet.js';
import { evaluate } from '../../scripts/start/evaluate.mjs';
import { predictSaved } from '../../scripts/start/predict.mjs';

const predict = suite('predictSaved');

/** A conv-only "classifier" with 16 scores per 28 x 28 image (the forward pass that runs today). */
function build(seed) {
  lasagne.random.setRng(new lasagne.random.RandomState(seed));
  return new Conv2DCCLayer(new lasagne.layers.InputLayer([null, 1, 28, 28]), 16, 28, { nonlinearity: null });
}

const n = 9;
const set = {
  images: lasagne.ndarray(Float32Array.from({ length: n * 784 }, (_, i) => ((i * 40503) % 997) / 997), [n, 1, 28, 28]),
  labels: Int32Array.from({ length: n }, (_, i) => (i * 5) % 16),
};

predict('saved weights in a freshly built network classify exactly as the network they came from', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'predict-'));
  let network;
  try {
    const trained = build(1);
    try {
      network = await lasagne.compile(trained, { batchSize: 4, backend: 'wasm', threads: 1 });
    } catch (e) {
      console.log(`  SKIP: the WASM backend is not available here (${e.message})`);
      return;
    }
    const want = await evaluate(network, set, 4);
    const path = join(dir, 'model.npz');
    writeFileSync(path, lasagne.saveNpz(lasagne.getAllParamValues(trained)));
    const fresh = build(2);
    const got = await predictSaved(fresh, path, set, { batchSize: 4, backend: 'wasm' });
    assert.equal(Array.from(got.predicted), Array.from(want.predicted));
    assert.is(got.accuracy, want.accuracy);
    assert.is(got.backend, 'wasm');
    // a different network's own weights give other scores (the test can tell the weights apart)
    const other = await lasagne.compile(build(2), { batchSize: 4, backend: 'wasm', threads: 1 });
    const o = await other.run(lasagne.ndarray(set.images.data.slice(0, 4 * 784), [4, 1, 28, 28]));
    const w = await network.run(lasagne.ndarray(set.images.data.slice(0, 4 * 784), [4, 1, 28, 28]));
    other.dispose();
    assert.not.equal(Array.from(o.data), Array.from(w.data));
  } finally {
    network?.dispose();
    rmSync(dir, { recursive: true });
  }
});

predict('a file that is not an .npz, or one from another network, is refused naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'predict-'));
  try {
    const junk = join(dir, 'junk.npz');
    writeFileSync(junk, 'not a zip');
    await predictSaved(build(1), junk, set, { batchSize: 4, backend: 'wasm' }).then(
      () => assert.unreachable('no error'),
      (e) => assert.match(e.message, new RegExp(`^--predict ${junk}: loadNpz`)),
    );
    const short = join(dir, 'short.npz');
    writeFileSync(short, lasagne.saveNpz([lasagne.ndarray(new Float32Array(3), [3])]));
    await predictSaved(build(1), short, set, { batchSize: 4, backend: 'wasm' }).then(
      () => assert.unreachable('no error'),
      (e) => assert.match(e.message, /^--predict .*short\.npz: .*mismatch.*; was it saved by npm start from the same network\?$/),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

predict.run();
