// What npm start leaves in --out: the weights (model.npz, positional as np.savez(path,
// *get_all_param_values(net)) writes, so numpy and Lasagne read them) and the three pictures.
import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { saveNpz } from 'lasagne-webgpu';
import { curvesSvg, filtersPng, predictionsPng } from './pictures.mjs';

/** The file names inside --out. */
export const OUTPUT_FILES = Object.freeze({ weights: 'model.npz', filters: 'filters.png', curves: 'curves.svg', predictions: 'predictions.png' });

/**
 * Makes `dir` (and its missing parents) a writable directory, or throws an Error naming it and why:
 * npm start calls it before training, so that a run is not lost to an --out it cannot write. Each
 * missing folder is made on its own (Node's recursive mkdirSync loops forever under /proc).
 *
 * @param {string} dir
 */
export function ensureOutDir(dir) {
  const path = resolve(dir);
  const missing = [];
  for (let p = path; !existsSync(p); p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  try {
    for (const p of missing) mkdirSync(p);
    if (!statSync(path).isDirectory()) throw new Error('it is a file, not a directory');
    accessSync(path, constants.W_OK);
  } catch (e) {
    throw new Error(`--out ${dir} cannot hold the results: ${e.code ? `${e.code} (${e.syscall ?? 'access'} ${e.path ?? path})` : e.message}`);
  }
}

/**
 * Writes the run's files into `dir` (created when missing).
 *
 * @param {string} dir
 * @param {object} run
 * @param {Array<{ data: Float32Array, shape: number[] }>} run.weights lasagne.getAllParamValues(net)
 * @param {{ data: Float32Array, shape: number[] }} run.filters the first conv layer's W (F, C, k, k)
 * @param {Array<object>} run.history per epoch, as curvesSvg takes it
 * @param {number | null} [run.testAccuracy]
 * @param {Array<[number, number]>} [run.stepLosses]
 * @param {{ images: { data: Float32Array, shape: number[] }, predicted: ArrayLike<number>, truth: ArrayLike<number> }} run.samples
 *   a few test images with their classes
 * @param {readonly string[]} run.classNames
 * @returns {Record<keyof OUTPUT_FILES, string>} the path of each file written
 * @throws Error naming `dir` when it is not a writable directory (ensureOutDir)
 */
export function writeOutputs(dir, { weights, filters, history, testAccuracy = null, stepLosses = [], samples, classNames }) {
  ensureOutDir(dir);
  const paths = Object.fromEntries(Object.entries(OUTPUT_FILES).map(([k, f]) => [k, join(dir, f)]));
  const title = filters.shape.length === 4 ? `first layer: ${filters.shape[0]} filters ${filters.shape.slice(1).join('x')}` : null;
  writeFileSync(paths.weights, saveNpz(weights));
  writeFileSync(paths.filters, filtersPng(filters, { title }));
  writeFileSync(paths.curves, curvesSvg(history, { testAccuracy, stepLosses }));
  writeFileSync(paths.predictions, predictionsPng(samples.images, samples.predicted, samples.truth, classNames));
  return paths;
}
