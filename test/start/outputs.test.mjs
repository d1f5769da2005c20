import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import pngjs from 'pngjs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from '../../dist/index.js';
import { Conv2DCCLayer, MaxPool2DCCLayer } from '../../dist/layers/cuda_convnet.js';
import { CLASS_NAMES } from '../../scripts/start/data.mjs';
import { OUTPUT_FILES, ensureOutDir, writeOutputs } from '../../scripts/start/outputs.mjs';

const outputs = suite('writeOutputs');

function run() {
  lasagne.random.setRng(new lasagne.random.RandomState(3));
  let net = new lasagne.layers.InputLayer([null, 1, 28, 28]);
  const conv1 = new Conv2DCCLayer(net, 16, 5);
  net = new MaxPool2DCCLayer(conv1, 2);
  const n = 6;
  return {
    net,
    weights: lasagne.getAllParamValues(net),
    filters: conv1.W.getValue(),
    history: [{ epoch: 1, trainLoss: 1.2, validationAccuracy: 0.7 }, { epoch: 2, trainLoss: 0.8, validationAccuracy: 0.75 }],
    testAccuracy: 0.74,
    samples: { images: lasagne.ndarray(new Float32Array(n * 784).fill(0.5), [n, 1, 28, 28]), predicted: [0, 1, 2, 3, 4, 4], truth: [0, 1, 2, 3, 4, 5] },
    classNames: CLASS_NAMES,
  };
}

outputs('writes model.npz (loadNpz gives the weights back), filters.png, curves.svg and predictions.png into a new directory', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'start-out-')), 'nested', 'out');
  try {
    const r = run();
    const paths = writeOutputs(dir, r);
    assert.equal(Object.keys(paths), Object.keys(OUTPUT_FILES));
    assert.equal(readdirSync(dir).sort(), Object.values(OUTPUT_FILES).sort());
    const back = lasagne.loadNpz(readFileSync(paths.weights));
    assert.equal(back.map((a) => a.shape), r.weights.map((a) => a.shape));
    assert.equal(Array.from(back[0].data), Array.from(r.weights[0].data));
    // into a fresh net of the same architecture, as --predict will do
    const again = run();
    lasagne.random.setRng(new lasagne.random.RandomState(99));
    lasagne.setAllParamValues(again.net, back);
    assert.equal(Array.from(lasagne.getAllParamValues(again.net)[0].data), Array.from(r.weights[0].data));
    const filters = pngjs.PNG.sync.read(readFileSync(paths.filters));
    assert.ok(filters.width > 4 * 20 && filters.height > 4 * 20, `${filters.width} x ${filters.height}`);
    assert.ok(pngjs.PNG.sync.read(readFileSync(paths.predictions)).width > 0);
    const svg = new DOMParser().parseFromString(readFileSync(paths.curves, 'utf8'), 'image/svg+xml');
    assert.is(svg.getElementsByTagName('polyline').length, 3);
  } finally {
    rmSync(dir.split('/nested')[0], { recursive: true });
  }
});

outputs('an --out that is a file is refused naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'start-out-'));
  try {
    const file = join(dir, 'taken');
    writeFileSync(file, 'x');
    assert.throws(() => writeOutputs(file, run()), new RegExp(`--out ${file} cannot hold the results: it is a file, not a directory`));
    // a folder below a file: named with the system's reason, nothing made
    assert.throws(() => ensureOutDir(join(file, 'sub', 'dir')), new RegExp(`--out ${file}/sub/dir cannot hold the results: ENOTDIR`));
    // missing parents are made one by one
    ensureOutDir(join(dir, 'a', 'b', 'c'));
    assert.ok(statSync(join(dir, 'a', 'b', 'c')).isDirectory());
  } finally {
    rmSync(dir, { recursive: true });
  }
});

outputs('an --out under /proc (where a recursive mkdir never returns) fails at once', () => {
  assert.throws(() => ensureOutDir('/proc/lasagne-webgpu-test/out'), /--out \/proc\/lasagne-webgpu-test\/out cannot hold the results: ENOENT/);
});

outputs.run();
