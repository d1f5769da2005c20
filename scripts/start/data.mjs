// Fashion-MNIST for npm start: Debian's dataset-fashion-mnist files (IDX, gzip) read with the
// package's loadIdx, as float32 bc01 images in [0, 1] and Int32Array labels; the validation split
// and the minibatches of Lasagne's MNIST example.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadIdx, ndarray } from 'lasagne-webgpu';

/**
 * Where the files are: $FASHION_MNIST_DIR when set (a copy of the four .gz files elsewhere, e.g. on a
 * GPU machine without the Debian package), else where Debian's dataset-fashion-mnist package puts them.
 */
export const FASHION_MNIST_DIR = process.env.FASHION_MNIST_DIR || '/usr/share/datasets/fashion-mnist';

/** The ten classes, in label order (the dataset's README). */
export const CLASS_NAMES = Object.freeze(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);

const FILES = {
  train: ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
  test: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
};
const SIDE = 28;

/**
 * One split of Fashion-MNIST.
 *
 * @param {'train' | 'test'} split
 * @param {{ dir?: string, limit?: number }} [options] `limit`: only the first `limit` images
 * @returns {{ images: import('lasagne-webgpu').NDArray, labels: Int32Array, classNames: readonly string[] }}
 *   images: float32 bc01 (N, 1, 28, 28), pixel / 255; labels: 0-9
 * @throws Error naming the file and the package to install when a file is missing, ValueError (from
 *   loadIdx) for a broken file, and Error naming the file for arrays that are not Fashion-MNIST's
 */
export function loadFashionMnist(split, { dir = FASHION_MNIST_DIR, limit = Infinity } = {}) {
  if (!(split in FILES)) throw new TypeError(`loadFashionMnist: split must be 'train' or 'test', but got ${JSON.stringify(split)}`);
  if (limit !== Infinity && !(Number.isInteger(limit) && limit > 0)) throw new TypeError(`loadFashionMnist: limit must be a positive integer, but got ${limit}`);
  const [imageFile, labelFile] = FILES[split].map((f) => join(dir, f));
  for (const f of [imageFile, labelFile]) {
    if (!existsSync(f)) {
      throw new Error(`Fashion-MNIST file ${f} is missing: install Debian's dataset-fashion-mnist (as root: apt-get install dataset-fashion-mnist; npm start's set-up does it when run as root), or point FASHION_MNIST_DIR at a folder with its four .gz files`);
    }
  }
  const img = loadIdx(readFileSync(imageFile), { name: imageFile });
  const lab = loadIdx(readFileSync(labelFile), { name: labelFile });
  if (img.dtype !== 'uint8' || img.shape.length !== 3 || img.shape[1] !== SIDE || img.shape[2] !== SIDE) {
    throw new Error(`Fashion-MNIST images must be uint8 (N, 28, 28), but ${imageFile} holds ${img.dtype} (${img.shape.join(', ')})`);
  }
  if (lab.dtype !== 'uint8' || lab.shape.length !== 1 || lab.shape[0] !== img.shape[0]) {
    throw new Error(`Fashion-MNIST labels must be uint8 (${img.shape[0]},) like the images, but ${labelFile} holds ${lab.dtype} (${lab.shape.join(', ')})`);
  }
  const n = Math.min(img.shape[0], limit);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = lab.data[i];
    if (l >= CLASS_NAMES.length) throw new Error(`Fashion-MNIST labels must be 0-9, but ${labelFile} has label ${l} at index ${i}`);
    labels[i] = l;
  }
  const pixels = new Float32Array(n * SIDE * SIDE);
  for (let i = 0; i < pixels.length; i++) pixels[i] = img.data[i] / 255;
  return { images: ndarray(pixels, [n, 1, SIDE, SIDE]), labels, classNames: CLASS_NAMES };
}

/** Images i..j-1 and their labels (views, no copy). */
function slice(set, i, j) {
  const per = set.images.shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    images: ndarray(set.images.data.subarray(i * per, j * per), [j - i, ...set.images.shape.slice(1)]),
    labels: set.labels.subarray(i, j),
    classNames: set.classNames,
  };
}

/**
 * The last `count` training images as a validation set, the rest for training (as Lasagne's MNIST
 * example: `X_train[:-10000], X_train[-10000:]`).
 */
export function splitValidation(set, count) {
  const n = set.labels.length;
  if (!Number.isInteger(count) || count < 1 || count >= n) {
    throw new RangeError(`splitValidation: count must be an integer from 1 to ${n - 1} (the set has ${n} images), but got ${count}`);
  }
  return { train: slice(set, 0, n - count), validation: slice(set, n - count, n) };
}

/**
 * Minibatches of a set, in one reused pair of buffers (copy what you keep): `{ images, labels, count }`
 * with `images` (batchSize, 1, 28, 28). With `rng` (a lasagne.random.RandomState) the order is a
 * fresh permutation each call and a last partial batch is dropped (Lasagne's iterate_minibatches with
 * shuffle); without it the order is the set's and the last batch is zero-padded, `count` saying how
 * many of its images are real (for evaluating every image with a fixed compiled batch size).
 */
export function* minibatches(set, batchSize, { rng = null } = {}) {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`minibatches: batchSize must be a positive integer, but got ${batchSize}`);
  const n = set.labels.length;
  const per = set.images.shape.slice(1).reduce((a, b) => a * b, 1);
  const order = rng ? rng.permutation(n) : null;
  const x = new Float32Array(batchSize * per);
  const y = new Int32Array(batchSize);
  const images = ndarray(x, [batchSize, ...set.images.shape.slice(1)]);
  const end = rng ? n - (n % batchSize) : n;
  for (let start = 0; start < end; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    if (order) {
      for (let k = 0; k < count; k++) {
        const i = order[start + k];
        x.set(set.images.data.subarray(i * per, (i + 1) * per), k * per);
        y[k] = set.labels[i];
      }
    } else {
      x.set(set.images.data.subarray(start * per, (start + count) * per));
      y.set(set.labels.subarray(start, start + count));
      x.fill(0, count * per);
      y.fill(0, count);
    }
    yield { images, labels: y, count };
  }
}
