// npm start --predict: saved weights (model.npz) into a freshly built network of the same
// architecture, then the test set classified with it, as after training.
import { readFileSync } from 'node:fs';
import * as lasagne from 'lasagne-webgpu';
import { evaluate } from './evaluate.mjs';

/**
 * @param {import('lasagne-webgpu').layers.Layer} net the output layer of the network the weights were saved from
 * @param {string} path a .npz written by saveNpz(getAllParamValues(net)) (or np.savez from Lasagne)
 * @param {{ images: object, labels: Int32Array }} set the images to classify
 * @param {{ batchSize: number, backend?: 'auto' | 'webgpu' | 'wasm', onBatch?: (done: number) => void }} options
 * @returns {Promise<{ predicted: Int32Array, correct: number, total: number, accuracy: number, backend: string }>}
 * @throws Error naming `path` when it cannot be read, is not an .npz of arrays, or does not fit the
 *   network (the cause's message kept, e.g. Lasagne's "mismatch: got 6 values to set 8 parameters")
 */
export async function predictSaved(net, path, set, { batchSize, backend = 'auto', onBatch } = {}) {
  let values;
  try {
    values = lasagne.loadNpz(readFileSync(path));
  } catch (e) {
    throw new Error(`--predict ${path}: ${e.message}`, { cause: e });
  }
  try {
    lasagne.setAllParamValues(net, values);
  } catch (e) {
    throw new Error(`--predict ${path}: ${e.message}; was it saved by npm start from the same network?`, { cause: e });
  }
  // direct kernels, as npm start evaluated when it trained (its printed test accuracy is reproduced)
  const network = await lasagne.compile(net, { batchSize, backend, winograd: false });
  try {
    const result = await evaluate(network, set, batchSize, { onBatch });
    return { ...result, backend: network.backend };
  } finally {
    network.dispose();
  }
}
