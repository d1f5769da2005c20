// The README's model-file and worker example (run by test/worker/example.test.mjs).
import * as lasagne from 'lasagne-webgpu';

const net = lasagne.cifar10Net(null);                                 // any network of registered layers
const model = JSON.stringify(lasagne.layers.toJSON(net));             // the architecture, as JSON text
const weights = lasagne.saveNpz(lasagne.getAllParamValues(net));      // the weights, as np.savez writes them

const copy = lasagne.layers.fromJSON(model);                          // the same network, fresh values
lasagne.setAllParamValues(copy, lasagne.loadNpz(weights));            // ... and now the same weights
console.log(lasagne.plan(copy, { batchSize: 8 }).digest === lasagne.plan(net, { batchSize: 8 }).digest);  // true

const worker = await lasagne.spawnWorker({ model, weights }, { backend: 'wasm', batchSize: 8, workers: 2 });
const x = lasagne.ndarray(new Float32Array(8 * 3 * 32 * 32).fill(0.5), [8, 3, 32, 32]);
const ys = await Promise.all([worker.run(x), worker.run(x, { transfer: true })]);  // one run per worker
console.log(worker.backend, ys.map((y) => y.shape.join('x')).join(' '), x.data.length);  // wasm 8x10x4x4 8x10x4x4 0
worker.terminate();
