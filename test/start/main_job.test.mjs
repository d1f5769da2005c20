// npm start's main job, small and fast: 1,200 training images, one epoch, on the backend 'auto' picks
// here (WASM: it never takes a software GPU). Checks that the loss falls, the files are written and
// readable (np.load-compatible weights, the architecture, PNGs, SVG), `--predict` reproduces the
// accuracy the training reported, and a missing data file gets a clear message.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PNG } from 'pngjs';
import { DOMParser } from '@xmldom/xmldom';
import * as lasagne from '../../dist/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = { ...process.env, NO_COLOR: '1' };
delete env.FORCE_COLOR;
const start = (args, extraEnv = {}) => spawnSync(process.execPath, ['scripts/start.mjs', ...args], { cwd: root, encoding: 'utf8', env: { ...env, ...extraEnv }, timeout: 240_000 });
const result = (dir) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
/** The `test accuracy 63.80% (638/1000)` line of a run. */
const tested = (stdout) => {
  const m = /test accuracy (\d+\.\d\d)% \((\d+)\/(\d+)\)/.exec(stdout);
  return m && { correct: Number(m[2]), total: Number(m[3]) };
};

const job = suite('npm start (small)');
const out = mkdtempSync(join(tmpdir(), 'start-'));
const small = ['--limit', '1200', '--test-limit', '300', '--epochs', '1', '--batch-size', '40', '--seed', '3'];

job('trains: progress, falling loss, test accuracy above chance, files written', () => {
  const r = start([...small, '--out', out]);
  assert.is(r.status, 0, r.stderr + r.stdout.slice(-2000));
  assert.match(r.stdout, /training on wasm/);
  assert.match(r.stdout, /epoch 1\/1 .*images\/s.*training loss \d\.\d{4}.*validation accuracy \d+\.\d\d%/);
  assert.match(r.stdout, /confusion matrix/);
  const res = result(out);
  assert.equal(tested(r.stdout), { correct: res.correct, total: res.total });
  const losses = res.stepLosses.map(([, l]) => l);
  assert.ok(losses.length >= 6, JSON.stringify(res.stepLosses));
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(mean(losses.slice(-3)) < 0.8 * mean(losses.slice(0, 3)), `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  assert.ok(res.testAccuracy > 0.3, `test accuracy ${res.testAccuracy} (chance is 0.1)`);
  // weights as np.savez writes them, in getAllParamValues order; the architecture rebuilds the network
  const weights = lasagne.loadNpz(readFileSync(join(out, 'model.npz')));
  const net = lasagne.layers.fromJSON(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')));
  const params = lasagne.layers.getAllParams(net);
  assert.equal(weights.map((w) => w.shape), params.map((p) => [...p.shape]));
  lasagne.layers.setAllParamValues(net, weights);
  for (const f of ['filters.png', 'predictions.png']) {
    const png = PNG.sync.read(readFileSync(join(out, f)));
    assert.ok(png.width > 50 && png.height > 50, `${f} ${png.width}x${png.height}`);
  }
  const svg = new DOMParser().parseFromString(readFileSync(join(out, 'curves.svg'), 'utf8'), 'image/svg+xml');
  assert.is(svg.documentElement.nodeName, 'svg');
  job.trained = res;
});

job('--predict model.npz reproduces the test accuracy the training reported', () => {
  const r = start(['--predict', join(out, 'model.npz'), '--test-limit', '300', '--batch-size', '40', '--limit', '1200']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(tested(r.stdout), { correct: job.trained.correct, total: job.trained.total });
  // the network comes from the model.json beside the weights (on a GPU the default size differs)
  assert.match(r.stdout, new RegExp(`classifier for Fashion-MNIST \\(as ${join(out, 'model.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
});

job('--predict with weights of another network is refused with a message, not a stack trace', () => {
  const r = start(['--predict', join(out, 'model.npz'), '--size', 'large', '--test-limit', '300', '--limit', '1200']);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /^npm start: --predict .*model\.npz: mismatch: parameter has shape \(32, 1, 5, 5\) but value to set has shape \(16, 1, 5, 5\).*was it saved by npm start from the same network\?\n$/);
});

job('the same seed gives the same accuracy to the last digit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'start-'));
  try {
    const r = start([...small, '--out', dir]);
    assert.is(r.status, 0, r.stderr);
    const res = result(dir);
    assert.is(res.correct, job.trained.correct);
    assert.equal(res.stepLosses, job.trained.stepLosses);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

job('a missing data file is named, with the package to install', () => {
  const r = start([...small, '--out', out], { FASHION_MNIST_DIR: join(out, 'nowhere') });
  assert.is(r.status, 1);
  assert.match(r.stderr, /^npm start: Fashion-MNIST file .*nowhere\/train-images-idx3-ubyte\.gz is missing: install Debian's dataset-fashion-mnist/);
  assert.is(r.stdout, '');
});

job.after(() => rmSync(out, { recursive: true, force: true }));
job.run();
