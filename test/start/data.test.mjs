import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from '../../dist/index.js';
import { CLASS_NAMES, FASHION_MNIST_DIR, loadFashionMnist, minibatches, splitValidation } from '../../scripts/start/data.mjs';

/** A gzipped uint8 IDX file. */
function idxGz(shape, values) {
  const b = Buffer.alloc(4 + 4 * shape.length + values.length);
  b[2] = 0x08;
  b[3] = shape.length;
  shape.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  Buffer.from(values).copy(b, 4 + 4 * shape.length);
  return gzipSync(b);
}

/** A directory holding a fake Fashion-MNIST split of n images: pixel p of image i is (i * 7 + p) % 256. */
function fakeDir(n, { labels = Array.from({ length: n }, (_, i) => i % 10), imageShape = [n, 28, 28] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fashion-'));
  const px = imageShape.reduce((a, b) => a * b, 1) / imageShape[0];
  const pixels = Array.from({ length: n * px }, (_, k) => (Math.floor(k / px) * 7 + (k % px)) % 256);
  for (const prefix of ['train', 't10k']) {
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), idxGz(imageShape, pixels));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), idxGz([labels.length], labels));
  }
  return dir;
}

const throwsWith = (fn, re) => assert.throws(fn, (e) => re.test(e.message), String(re));

const load = suite('loadFashionMnist');

load('reads a split as float32 bc01 (N, 1, 28, 28) in [0, 1], Int32Array labels and the class names', () => {
  const dir = fakeDir(12);
  try {
    const { images, labels, classNames } = loadFashionMnist('train', { dir });
    assert.equal(images.shape, [12, 1, 28, 28]);
    assert.ok(images.data instanceof Float32Array);
    assert.is(images.data[784 * 3 + 5], Math.fround(((3 * 7 + 5) % 256) / 255));
    assert.ok(labels instanceof Int32Array);
    assert.equal(Array.from(labels), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert.is(classNames[9], 'Ankle boot');
    assert.is(classNames.length, 10);
    const few = loadFashionMnist('test', { dir, limit: 5 });
    assert.equal(few.images.shape, [5, 1, 28, 28]);
    assert.equal(Array.from(few.labels), [0, 1, 2, 3, 4]);
    assert.equal(Array.from(few.images.data), Array.from(images.data.subarray(0, 5 * 784)));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

load('FASHION_MNIST_DIR in the environment moves the default folder (a copy on a machine without the package)', () => {
  const dir = fakeDir(3);
  try {
    const code = `import { FASHION_MNIST_DIR, loadFashionMnist } from ${JSON.stringify(new URL('../../scripts/start/data.mjs', import.meta.url).href)};
      console.log(JSON.stringify({ dir: FASHION_MNIST_DIR, n: loadFashionMnist('test').labels.length }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, FASHION_MNIST_DIR: dir } });
    assert.is(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), { dir, n: 3 });
    const missing = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, FASHION_MNIST_DIR: join(dir, 'nothing') } });
    assert.is.not(missing.status, 0);
    assert.match(missing.stderr, /nothing\/t10k-images-idx3-ubyte\.gz is missing: .*FASHION_MNIST_DIR/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

load('a missing file names the file and the Debian package to install', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fashion-'));
  try {
    throwsWith(() => loadFashionMnist('test', { dir }), /t10k-images-idx3-ubyte\.gz is missing: install Debian's dataset-fashion-mnist/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

load('arrays that are not Fashion-MNIST\'s are refused naming the file: image size, label count, label range', () => {
  for (const [opts, re] of [
    [{ imageShape: [4, 32, 32] }, /images must be uint8 \(N, 28, 28\), but .*train-images-idx3-ubyte\.gz holds uint8 \(4, 32, 32\)/],
    [{ labels: [1, 2, 3] }, /labels must be uint8 \(4,\) like the images, but .*train-labels-idx1-ubyte\.gz holds uint8 \(3\)/],
    [{ labels: [1, 2, 10, 3] }, /labels must be 0-9, but .*train-labels.* has label 10 at index 2/],
  ]) {
    const dir = fakeDir(4, opts);
    try {
      throwsWith(() => loadFashionMnist('train', { dir }), re);
    } finally {
      rmSync(dir, { recursive: true });
    }
  }
  throwsWith(() => loadFashionMnist('validation'), /split must be 'train' or 'test'/);
  throwsWith(() => loadFashionMnist('test', { limit: 0 }), /limit must be a positive integer/);
});

load('a broken file gets loadIdx\'s ValueError naming its path', () => {
  const dir = fakeDir(3);
  try {
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), idxGz([3], [1, 2, 3]).subarray(0, 15));
    assert.throws(() => loadFashionMnist('test', { dir }), (e) => e instanceof lasagne.errors.ValueError && e.message.includes(join(dir, 't10k-labels-idx1-ubyte.gz')));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

if (existsSync(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'))) {
  load('the installed test split: 10000 images, 1000 per class, pixels in [0, 1]', () => {
    const { images, labels } = loadFashionMnist('test');
    assert.equal(images.shape, [10000, 1, 28, 28]);
    const counts = new Array(10).fill(0);
    for (const l of labels) counts[l]++;
    assert.equal(counts, new Array(10).fill(1000));
    let lo = Infinity, hi = -Infinity;
    for (const v of images.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    assert.is(lo, 0);
    assert.is(hi, 1);
  });
} else {
  load(`skipped: ${FASHION_MNIST_DIR} is not installed`, () => console.log(`  SKIP: ${FASHION_MNIST_DIR} missing (apt-get install dataset-fashion-mnist)`));
}
load.run();

const batching = suite('splitValidation and minibatches');

/** A set of n one-pixel-per-image "images" whose pixel is the image's index. */
const indexed = (n) => ({ images: lasagne.ndarray(Float32Array.from({ length: n * 4 }, (_, k) => Math.floor(k / 4)), [n, 1, 2, 2]), labels: Int32Array.from({ length: n }, (_, i) => i % 10), classNames: CLASS_NAMES });

batching('splitValidation keeps the last count images for validation, the rest for training', () => {
  const { train, validation } = splitValidation(indexed(10), 3);
  assert.equal(train.images.shape, [7, 1, 2, 2]);
  assert.equal(validation.images.shape, [3, 1, 2, 2]);
  assert.equal(Array.from(validation.labels), [7, 8, 9]);
  assert.is(validation.images.data[0], 7);
  assert.throws(() => splitValidation(indexed(10), 10), /count must be an integer from 1 to 9/);
});

batching('shuffled minibatches: every image at most once, with its own label, remainder dropped, same seed same order', () => {
  const set = indexed(23);
  const seen = (seed) => {
    const order = [];
    for (const { images, labels, count } of minibatches(set, 5, { rng: new lasagne.random.RandomState(seed) })) {
      assert.is(count, 5);
      assert.equal(images.shape, [5, 1, 2, 2]);
      for (let k = 0; k < 5; k++) {
        const i = images.data[k * 4];
        assert.equal(Array.from(images.data.subarray(k * 4, k * 4 + 4)), [i, i, i, i]);
        assert.is(labels[k], i % 10);
        order.push(i);
      }
    }
    return order;
  };
  const a = seen(1);
  assert.is(a.length, 20);
  assert.is(new Set(a).size, 20);
  assert.equal(seen(1), a);
  assert.not.equal(seen(2), a);
  assert.not.equal(a, [...a].sort((p, q) => p - q));
});

batching('unshuffled minibatches cover every image in order, the last one zero-padded with its count', () => {
  const set = indexed(12);
  const got = [];
  // the buffers are reused: read each batch before taking the next
  for (const { images, labels, count } of minibatches(set, 5)) got.push({ count, first: images.data[0], last: images.data[19], label: labels[4] });
  assert.equal(got, [
    { count: 5, first: 0, last: 4, label: 4 },
    { count: 5, first: 5, last: 9, label: 9 },
    { count: 2, first: 10, last: 0, label: 0 },
  ]);
  assert.throws(() => minibatches(set, 0).next(), /batchSize must be a positive integer/);
});

batching.run();
