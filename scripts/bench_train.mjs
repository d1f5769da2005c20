// Benchmark (not a test): training a cuda-convnet classifier (issues 10 and 11), two modes.
//
// Speed (default): one full training step (forward with dropout, softmax cross-entropy + l2 5e-4,
// backward, nesterov momentum 0.9 update) at batch 128 on random data, images/s, for
//   fmnist  npm start's network on a GPU (scripts/start/model.mjs SIZES, deep64 unless --size): two
//           3x3 convs of 64, max-pool 2, two of 128, max-pool 2, dropout 0.25, dense 512, dropout 0.5,
//           dense 10 softmax
//   cifar   conv 32, pool, conv 32, pool, conv 64, pool (5x5 pad 2 ReLU, max-pool 3 stride 2), dense 10 softmax
// on three frameworks, on the same GPU:
//   ours     lasagne.compileTraining(..., { backend: 'webgpu' }) and trainer.step(): wall time per step,
//            one at a time (each step's loss awaited, as npm start does) and with up to 3 steps in
//            flight (the throughput of a stream of steps)
//   tfjs     tfjs-webgpu 4.22, the same network in tf ops (NHWC, fused conv + bias + ReLU, dropout,
//            softmaxCrossEntropy + l2) trained by tf.train.momentum(lr, 0.9, useNesterov)
//            .minimize() back to back, synchronized at the end; plus tf.time's kernel ms of one step
//   PyTorch  scripts/bench_train_torch.py --mode speed: eager (back to back) and one CUDA graph of
//            the whole step, TF32 off (run first, with spawnSync; skipped with a note without torch)
// and the ratios ours / peer in images/s (above 1: we are faster). Goal (issue 10): at least
// PyTorch eager's images/s.
//
// Accuracy (--accuracy): Fashion-MNIST, 10 epochs, 3 seeds, on our WebGPU backend through npm
// start itself (`node scripts/start.mjs --backend webgpu --epochs 10 --seed S --size NAME`, its
// run.json; --size defaults to npm start's GPU network, deep64) and
// PyTorch training the identical network with the identical schedule (bench_train_torch.py --mode
// accuracy); mean test accuracy per framework, and images/s (ours: npm start's training time,
// which includes its per-epoch validation pass; PyTorch: training steps only). Goal (issue 11):
// ours >= 0.925 mean test accuracy, within 0.3 points of PyTorch.
// The data: --data DIR or $FASHION_MNIST_DIR (the four .gz IDX files), else Debian's
// /usr/share/datasets/fashion-mnist.
//
//   node scripts/bench_train.mjs [--nets fmnist,cifar] [--size deep64] [--batch 128] [--steps 100] [--no-tfjs] [--no-torch] [--json]
//   node scripts/bench_train.mjs --accuracy [--epochs 10] [--seeds 1,2,3] [--size deep64] [--data DIR] [--backend webgpu] [--no-torch] [--json]
//   --smoke  tiny: speed at batch 8 for 3 steps; accuracy 1 epoch on 600 images (size small), 2 seeds,
//            on WASM unless --backend webgpu (SwiftShader needs minutes per step at batch 128)
// On the H200: speed about 1 minute, accuracy about 3 minutes (see scripts/README-bench.md).
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fmt, finish, loadTfjs, loadTfjsGradients, median, ourDevice, printTable, randomData, runPython } from './bench_common.mjs';

const { values: opts } = parseArgs({
  options: {
    accuracy: { type: 'boolean', default: false },
    nets: { type: 'string' },
    batch: { type: 'string' },
    steps: { type: 'string' },
    epochs: { type: 'string' },
    seeds: { type: 'string' },
    size: { type: 'string' },
    data: { type: 'string' },
    backend: { type: 'string' },
    'no-tfjs': { type: 'boolean', default: false },
    'no-torch': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
  },
});
const root = new URL('../', import.meta.url);
// the Fashion-MNIST network: --size, else npm start's (examples/web/model.js DEFAULT_SIZE)
const { DEFAULT_SIZE, SIZES, buildClassifier } = await import(new URL('scripts/start/model.mjs', root));
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? fmt(a / b, 2) : '-');

if (opts.accuracy) await accuracyMode();
else await speedMode();

// ================================================================ accuracy
async function accuracyMode() {
  const epochs = Number(opts.epochs ?? (opts.smoke ? 1 : 10));
  const seeds = (opts.seeds ?? (opts.smoke ? '1,2' : '1,2,3')).split(',').map(Number);
  // (--smoke: WASM, SwiftShader takes minutes per step at batch 128)
  const backend = opts.backend ?? (opts.smoke ? 'wasm' : 'webgpu');
  const env = opts.data ? { FASHION_MNIST_DIR: opts.data } : {};
  const size = opts.size ?? (opts.smoke ? DEFAULT_SIZE.cpu : DEFAULT_SIZE.gpu);
  const small = opts.smoke ? ['--limit', '600', '--test-limit', '200'] : [];
  // PyTorch first (the GPU to itself)
  let torch = null;
  let torchNote = '';
  if (!opts['no-torch']) {
    const args = ['--mode', 'accuracy', '--size', size, '--epochs', String(epochs), '--seeds', seeds.join(','), ...(opts.data ? ['--data', opts.data] : []),
      ...(opts.smoke ? ['--limit', '600', '--test-limit', '200'] : [])];
    const r = runPython('scripts/bench_train_torch.py', args, { timeoutMs: 1_800_000, env });
    if (r.why) torchNote = `PyTorch skipped: ${r.why}`;
    else torch = r;
  } else torchNote = 'PyTorch skipped (--no-torch)';
  if (torchNote) console.log(torchNote);
  if (torch) process.stdout.write(torch.text.split('\n').filter((l) => l.startsWith('  seed')).map((l) => `  torch${l.slice(1)}\n`).join(''));
  const ours = [];
  const out = mkdtempSync(join(tmpdir(), 'bench-train-'));
  try {
    for (const seed of seeds) {
      const args = [new URL('scripts/start.mjs', root).pathname, '--backend', backend, '--epochs', String(epochs), '--seed', String(seed), '--size', size, '--out', join(out, String(seed)), ...small];
      const t0 = performance.now();
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, env: { ...process.env, ...env }, timeout: 1_800_000 });
      const wall = (performance.now() - t0) / 1e3;
      const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
      const runJson = join(out, String(seed), 'run.json');
      if (r.status !== 0 || !existsSync(runJson)) {
        console.log(`  ours seed ${seed}: npm start failed (status ${r.status}): ${text.trim().split('\n').slice(-4).join(' | ')}`);
        ours.push({ seed, failed: true });
        continue;
      }
      const res = JSON.parse(readFileSync(runJson, 'utf8'));
      // "training on webgpu (...): 55000 images, 5000 for validation, ..." -> full batches per epoch
      const m = /: (\d+) images, (\d+) for validation/.exec(r.stdout);
      const batchSize = 128;
      const images = m ? Math.floor(Number(m[1]) / batchSize) * batchSize * res.epochs : NaN;
      ours.push({ seed, testAccuracy: res.testAccuracy, trainSeconds: res.trainSeconds, wallSeconds: wall, images, images_s: images / res.trainSeconds, backend: res.backend });
      console.log(`  ours seed ${seed}: test accuracy ${(100 * res.testAccuracy).toFixed(2)}% (${fmt(images / res.trainSeconds, 0)} images/s, ${res.trainSeconds.toFixed(1)} s training, ${wall.toFixed(1)} s in all)`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const stats = (accs) => {
    if (accs.length === 0) return { mean: NaN, std: NaN };
    const mean = accs.reduce((a, v) => a + v, 0) / accs.length;
    return { mean, std: Math.sqrt(accs.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, accs.length - 1)) };
  };
  const ok = ours.filter((r) => !r.failed);
  const o = stats(ok.map((r) => r.testAccuracy));
  const tr = torch?.json?.result;
  const pct = (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '-');
  console.log(`\nFashion-MNIST, ${epochs} epoch(s), batch 128, seeds ${seeds.join(',')}:`);
  printTable(
    ['framework', 'test accuracy per seed', 'mean', 'std', 'images/s (median)'],
    [
      [`ours (${backend}, npm start)`, ours.map((r) => (r.failed ? 'failed' : pct(r.testAccuracy))).join(' '), pct(o.mean), pct(o.std), fmt(median(ok.map((r) => r.images_s)), 0)],
      [`PyTorch (${torch ? torch.device.replace(/ +cudnn.*/, '') : 'skipped'})`, tr ? tr.runs.map((r) => pct(r.testAccuracy)).join(' ') : '-', pct(tr?.mean), pct(tr?.std), tr ? fmt(median(tr.runs.map((r) => r.images_s)), 0) : '-'],
    ],
  );
  if (Number.isFinite(o.mean)) {
    console.log(`goal: ours >= 92.50%: ${o.mean >= 0.925 ? 'met' : 'not met'}` + (tr ? `; within 0.3 points of PyTorch: ${(100 * (o.mean - tr.mean)).toFixed(2)} points, ${Math.abs(o.mean - tr.mean) <= 0.003 ? 'met' : 'not met'}` : ''));
  }
  console.log('(images/s: ours from npm start\'s training time, which includes a validation pass per epoch; PyTorch: training steps only, eager)');
  if (opts.json) console.log(`JSON ${JSON.stringify({ mode: 'accuracy', epochs, seeds, ours, oursMean: o.mean, torch: tr ?? null, torchDevice: torch?.device ?? null })}`);
  finish(ok.length === seeds.length ? 0 : 1);
}

// ================================================================ speed
async function speedMode() {
  const batch = Number(opts.batch ?? (opts.smoke ? 8 : 128));
  const steps = Number(opts.steps ?? (opts.smoke ? 3 : 100));
  const warmup = opts.smoke ? 1 : 10;
  const rounds = opts.smoke ? 1 : 3;
  const nets = (opts.nets ?? 'fmnist,cifar').split(',');
  for (const n of nets) if (!['fmnist', 'cifar'].includes(n)) throw new Error(`--nets: unknown network ${n} (fmnist, cifar)`);

  let torch = null;
  let torchNote = '';
  if (!opts['no-torch']) {
    const r = runPython('scripts/bench_train_torch.py', ['--mode', 'speed', '--size', opts.size ?? DEFAULT_SIZE.gpu, '--nets', nets.join(','), '--batch', String(batch), ...(opts.smoke ? ['--smoke'] : [])]);
    if (r.why) torchNote = `PyTorch skipped: ${r.why}`;
    else torch = r;
  } else torchNote = 'PyTorch skipped (--no-torch)';
  if (torchNote) console.log(torchNote);

  const dev = await ourDevice('bench train (lasagne-webgpu)');
  if (dev === null) {
    console.log('bench_train: no WebGPU adapter here');
    finish(1);
  }
  let tf = null;
  let tfNote = '';
  if (!opts['no-tfjs']) {
    const t = await loadTfjs();
    tf = t.tf;
    if (!tf) tfNote = `tfjs-webgpu unavailable (${t.why})`;
    else {
      const why = await loadTfjsGradients();
      if (why) {
        tf = null;
        tfNote = `tfjs training skipped: ${why}`;
      }
    }
  } else tfNote = 'tfjs skipped (--no-tfjs)';
  if (tfNote) console.log(tfNote);
  console.log(`bench_train: ${dev.name}; batch ${batch}; ${steps} timed steps after ${warmup} warm-up; tfjs ${tf ? tf.version_core : 'off'}; PyTorch ${torch ? torch.device : 'off'}`);

  const lasagne = await import('lasagne-webgpu');
  const { Conv2DCCLayer, MaxPool2DCCLayer } = await import('lasagne-webgpu/layers/cuda_convnet');
  const size = opts.size ?? DEFAULT_SIZE.gpu;
  if (!Object.hasOwn(SIZES, size)) throw new Error(`--size: unknown network size ${size} (${Object.keys(SIZES).join(', ')})`);

  const rows = [];
  for (const kind of nets) {
    const inShape = kind === 'fmnist' ? [1, 28, 28] : [3, 32, 32];
    const per = inShape.reduce((a, d) => a * d, 1);
    const images = randomData(batch * per, 21, 0, 1);
    const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7 + 3) % 10);
    const row = { net: kind };
    // ---- ours
    try {
      const net = kind === 'fmnist' ? buildClassifier({ size }) : cifarNet(lasagne, Conv2DCCLayer, MaxPool2DCCLayer);
      const t0 = performance.now();
      const trainer = await lasagne.compileTraining(net, {
        loss: lasagne.objectives.categoricalCrossentropy,
        updates: lasagne.updates.nesterovMomentum({ learningRate: 0.01, momentum: 0.9 }),
        regularization: { l2: 5e-4 },
        batchSize: batch,
        backend: 'webgpu',
        device: dev.device,
      });
      const compileMs = performance.now() - t0;
      const x = lasagne.ndarray(images, [batch, ...inShape]);
      let loss = NaN;
      for (let i = 0; i < warmup; i++) loss = await trainer.step(x, labels);
      // one at a time
      const one = [];
      for (let round = 0; round < rounds; round++) {
        const s0 = performance.now();
        for (let i = 0; i < steps; i++) loss = await trainer.step(x, labels);
        one.push((performance.now() - s0) / steps);
      }
      // up to 3 in flight
      const flight = [];
      for (let round = 0; round < rounds; round++) {
        const s0 = performance.now();
        const pending = [];
        for (let i = 0; i < steps; i++) {
          pending.push(trainer.step(x, labels));
          if (pending.length >= 3) loss = await pending.shift();
        }
        for (const p of pending) loss = await p;
        flight.push((performance.now() - s0) / steps);
      }
      row.ours = { oneMs: median(one), flightMs: median(flight), compileMs, loss, steps: trainer.plan.steps.length, arenaBytes: trainer.plan.arenaBytes, device: trainer.device };
      trainer.dispose();
    } catch (e) {
      row.oursError = e.message.split('\n')[0];
    }
    // ---- tfjs
    if (tf) {
      try {
        row.tfjs = await tfjsTrain(tf, kind, size, SIZES, batch, images, labels, steps, warmup, rounds);
      } catch (e) {
        row.tfjsError = e.message.split('\n')[0];
      }
    }
    const t = torch?.json?.result?.[kind];
    if (t) row.torch = t;
    console.log(`  ${kind} done${row.oursError ? ` (ours failed: ${row.oursError})` : ''}${row.tfjsError ? ` (tfjs failed: ${row.tfjsError})` : ''}` +
      (row.ours ? `; ours: plan ${row.ours.steps} steps, arena ${(row.ours.arenaBytes / 2 ** 20).toFixed(1)} MiB, compileTraining ${fmt(row.ours.compileMs, 0)} ms, loss ${fmt(row.ours.loss, 4)}` : ''));
    rows.push(row);
  }

  const ips = (ms) => (Number.isFinite(ms) && ms > 0 ? (batch / ms) * 1e3 : NaN);
  console.log(`\none training step at batch ${batch}: ms per step (images/s)`);
  const cell = (ms) => (Number.isFinite(ms) ? `${fmt(ms)} (${fmt(ips(ms), 0)})` : '-');
  printTable(
    ['net', 'ours, one at a time', 'ours, 3 in flight', 'tfjs minimize', 'tfjs kernel ms', 'PyTorch eager', 'PyTorch CUDA graph', 'ours/tfjs', 'ours/eager', 'ours/graph', 'goal >= eager'],
    rows.map((r) => {
      const best = Math.min(r.ours?.oneMs ?? Infinity, r.ours?.flightMs ?? Infinity);
      const mine = Number.isFinite(best) ? ips(best) : NaN;
      return [r.net, cell(r.ours?.oneMs), cell(r.ours?.flightMs), cell(r.tfjs?.wallMs), fmt(r.tfjs?.kernelMs), cell(r.torch?.eager_ms), r.torch?.graph_ms ? cell(r.torch.graph_ms) : (r.torch?.graph ?? '-'),
        ratio(mine, ips(r.tfjs?.wallMs)), ratio(mine, r.torch?.eager_images_s), ratio(mine, r.torch?.graph_images_s), Number.isFinite(mine) && r.torch ? (mine >= r.torch.eager_images_s ? 'yes' : 'no') : '-'];
    }),
  );
  console.log('(ratios: images/s of ours, the better of one at a time and in flight, over the peer\'s; above 1: we are faster)');
  if (opts.json) console.log(`JSON ${JSON.stringify({ mode: 'speed', adapter: dev.name, batch, rows, torchDevice: torch?.device ?? null })}`);
  finish(0, [dev.device]);
}

/** The CIFAR-like network of ../shared/reference/performance.md's training table, Lasagne style. */
function cifarNet(lasagne, Conv2DCCLayer, MaxPool2DCCLayer) {
  const { layers, nonlinearities: nl } = lasagne;
  let net = new layers.InputLayer([null, 3, 32, 32], { name: 'input' });
  for (const [i, f] of [32, 32, 64].entries()) {
    net = new Conv2DCCLayer(net, f, 5, { pad: 2, name: `conv${i + 1}` });
    net = new MaxPool2DCCLayer(net, 3, { stride: 2, name: `pool${i + 1}` });
  }
  return new layers.DenseLayer(net, 10, { nonlinearity: nl.softmax, name: 'output' });
}

/**
 * tfjs-webgpu training the same network: tf ops in NHWC, variables, softmax cross-entropy + l2 5e-4
 * on the weights, tf.train.momentum(0.01, 0.9, true).minimize() back to back; wall ms per step
 * (synchronized by reading a variable at the end), and tf.time's kernel ms of one step.
 */
async function tfjsTrain(tf, kind, size, SIZES, batch, images, labels, steps, warmup, rounds) {
  const glorot = (shape, fanIn, fanOut, gain) => {
    const a = gain * Math.sqrt(6 / (fanIn + fanOut));
    return tf.variable(tf.randomUniform(shape, -a, a));
  };
  const relu = Math.SQRT2;
  const v = {};
  let forward;
  const weights = [];
  if (kind === 'fmnist') {
    // npm start's classifier of this size (examples/web/model.js SIZES): blocks of 'same' convs, each
    // block then a 2 x 2 max-pool; dropout, dense ReLU, dropout, dense 10
    const s = SIZES[size];
    const blocks = [];
    let c = 1;
    for (const block of s.blocks) {
      blocks.push(block.map(([f, k]) => {
        const conv = { W: glorot([k, k, c, f], k * k * c, k * k * f, relu), b: tf.variable(tf.zeros([f])) };
        c = f;
        return conv;
      }));
    }
    const flat = c * 7 * 7;
    blocks.flat().forEach((conv, i) => Object.assign(v, { [`W${i + 1}`]: conv.W, [`b${i + 1}`]: conv.b }));
    v.Wfc = glorot([flat, s.dense], flat, s.dense, relu); v.bfc = tf.variable(tf.zeros([s.dense]));
    v.Wout = glorot([s.dense, 10], s.dense, 10, 1); v.bout = tf.variable(tf.zeros([10]));
    weights.push(...blocks.flat().map((conv) => conv.W), v.Wfc, v.Wout);
    forward = (x) => {
      let h = x;
      for (const block of blocks) {
        for (const conv of block) h = tf.fused.conv2d({ x: h, filter: conv.W, strides: 1, pad: 'same', bias: conv.b, activation: 'relu' });
        h = tf.maxPool(h, 2, 2, 'valid');
      }
      h = tf.dropout(tf.reshape(h, [batch, flat]), s.drop1);
      h = tf.dropout(tf.fused.matMul({ a: h, b: v.Wfc, bias: v.bfc, activation: 'relu' }), s.drop2);
      return tf.fused.matMul({ a: h, b: v.Wout, bias: v.bout });
    };
  } else {
    v.W1 = glorot([5, 5, 3, 32], 75, 25 * 32, relu); v.b1 = tf.variable(tf.zeros([32]));
    v.W2 = glorot([5, 5, 32, 32], 25 * 32, 25 * 32, relu); v.b2 = tf.variable(tf.zeros([32]));
    v.W3 = glorot([5, 5, 32, 64], 25 * 32, 25 * 64, relu); v.b3 = tf.variable(tf.zeros([64]));
    v.W4 = glorot([1024, 10], 1024, 10, 1); v.b4 = tf.variable(tf.zeros([10]));
    forward = (x) => {
      let h = x;
      for (const [W, b] of [[v.W1, v.b1], [v.W2, v.b2], [v.W3, v.b3]]) {
        h = tf.fused.conv2d({ x: h, filter: W, strides: 1, pad: 'same', bias: b, activation: 'relu' });
        h = tf.maxPool(h, 3, 2, 'same'); // 32 -> 16 -> 8 -> 4, as cuda-convnet's ceil grid
      }
      return tf.fused.matMul({ a: tf.reshape(h, [batch, 1024]), b: v.W4, bias: v.b4 });
    };
    weights.push(v.W1, v.W2, v.W3, v.W4);
  }
  const [C, H, W] = kind === 'fmnist' ? [1, 28, 28] : [3, 32, 32];
  // bc01 random images -> NHWC (C = 1: the same order; C = 3: transposed)
  const x = tf.tidy(() => tf.transpose(tf.tensor4d(images, [batch, C, H, W]), [0, 2, 3, 1]));
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
  const optimizer = tf.train.momentum(0.01, 0.9, true);
  const lossFn = () => {
    const data = tf.losses.softmaxCrossEntropy(y, forward(x));
    return tf.add(data, tf.mul(5e-4, tf.addN(weights.map((w) => tf.sum(tf.square(w))))));
  };
  const varList = Object.values(v);
  const last = varList[varList.length - 1];
  const step = () => optimizer.minimize(lossFn, false, varList);
  try {
    for (let i = 0; i < warmup; i++) step();
    await last.data();
    const walls = [];
    for (let round = 0; round < rounds; round++) {
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) step();
      await last.data();
      walls.push((performance.now() - t0) / steps);
    }
    const info = await tf.time(() => step());
    const loss = await tf.tidy(lossFn).data();
    return { wallMs: median(walls), kernelMs: info.kernelMs, loss: loss[0] };
  } finally {
    optimizer.dispose();
    for (const t of [x, y, ...varList]) t.dispose();
  }
}
