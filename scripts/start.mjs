// npm start: trains a Lasagne-style cuda-convnet classifier (scripts/start/model.mjs) on
// Fashion-MNIST (Debian's dataset-fashion-mnist) with nesterov momentum on the fastest backend this
// machine really has ('auto' never picks a software GPU), showing progress; then prints the test
// accuracy and a confusion summary, and writes the weights (model.npz, np.load reads it), the
// architecture (model.json, layers.fromJSON reads it) and pictures (filters.png, curves.svg,
// predictions.png) into --out. `--predict model.npz` classifies the test set with saved weights.
// Flags: scripts/start/flags.mjs (npm start -- --help).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as lasagne from 'lasagne-webgpu';
import { parseFlags, USAGE, UsageError } from './start/flags.mjs';
import { layerTable, planTable } from './start/summary.mjs';
import { CLASS_NAMES, loadFashionMnist, minibatches, splitValidation } from './start/data.mjs';
import { buildClassifier, DEFAULT_SIZE, SIZES } from './start/model.mjs';
import { Progress, formatDuration } from './start/progress.mjs';
import { evaluate } from './start/evaluate.mjs';
import { confusionMatrix, formatConfusion } from './start/confusion.mjs';
import { predictSaved } from './start/predict.mjs';
import { ensureOutDir, writeOutputs } from './start/outputs.mjs';

let flags;
try {
  flags = parseFlags(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`npm start: ${e.message}\n(npm start -- --help lists the flags)`);
  process.exit(e.exitCode);
}
if (flags.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

// WebGPU in Node without a GPU: Dawn on Chromium's SwiftShader Vulkan driver ('auto' skips it; --backend webgpu uses it).
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD)) process.env.VK_ICD_FILENAMES = ICD;
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = '/tmp/lasagne-webgpu-xdg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true });
}

const fail = (message) => {
  console.error(`npm start: ${message}`);
  process.exit(1);
};

// --- where the results go: checked before the data and the training, so that no run is lost to it
if (flags.predict === null) {
  try {
    ensureOutDir(flags.out);
  } catch (e) {
    console.error(`npm start: ${e.message}`);
    process.exit(2);
  }
}

// --- data
let train, validation, test;
try {
  const limit = flags.limit ?? Infinity;
  const all = loadFashionMnist('train', { limit: limit === Infinity ? Infinity : limit + Math.max(1, Math.floor(limit / 10)) });
  ({ train, validation } = splitValidation(all, Math.min(5000, Math.max(1, Math.floor(all.labels.length / 10)))));
  test = loadFashionMnist('test', { limit: flags.testLimit ?? Infinity });
} catch (e) {
  fail(e.message);
}

// --- the network
const rng = new lasagne.random.RandomState(flags.seed);
lasagne.random.setRng(rng);
const backendChoice = flags.backend;
// the backend 'auto' would take decides the default size and epochs: the CPU default finishes in minutes
const probe = await lasagne.compile(new lasagne.layers.DenseLayer(new lasagne.layers.InputLayer([1, 4]), 16), { backend: backendChoice });
const backend = probe.backend;
probe.dispose();
const size = flags.size ?? DEFAULT_SIZE[backend === 'webgpu' ? 'gpu' : 'cpu'];
const epochs = flags.epochs ?? (backend === 'webgpu' ? 10 : 5);
const batchSize = flags.batchSize;
// WASM: split each batch over worker threads (deterministic for a given count)
const threads = backend === 'wasm' ? (flags.threads ?? Math.min(8, (await import('node:os')).availableParallelism())) : 1;
// --predict without --size: the architecture npm start saved beside the weights (model.json), so
// weights trained on a GPU (deep64) are read on a CPU too, where the default size differs
const savedModel = flags.predict !== null && flags.size === null ? join(dirname(flags.predict), 'model.json') : null;
let net;
let described = size;
if (savedModel !== null && existsSync(savedModel)) {
  try {
    net = lasagne.layers.fromJSON(JSON.parse(readFileSync(savedModel, 'utf8')));
  } catch (e) {
    fail(`--predict: ${savedModel} (the architecture saved beside the weights) cannot be read: ${e.message}; pass --size to build the network instead`);
  }
  described = `as ${savedModel}`;
} else {
  net = buildClassifier({ size });
}

console.log(`cuda-convnet classifier for Fashion-MNIST (${described}), batch ${batchSize}\n`);
console.log(layerTable(net));
process.stdout.write(planTable(lasagne.plan(net, { batchSize }), batchSize));

const evalBatch = Math.min(batchSize, 1000) >= 100 ? batchSize : 100;

if (flags.predict !== null) {
  const t0 = performance.now();
  let r;
  try {
    r = await predictSaved(net, flags.predict, test, { batchSize: evalBatch, backend: backendChoice });
  } catch (e) {
    fail(e.message);
  }
  console.log(`\n${flags.predict} on ${r.backend}: test accuracy ${(100 * r.accuracy).toFixed(2)}% (${r.correct}/${r.total}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(formatConfusion(confusionMatrix(r.predicted, test.labels, 10), CLASS_NAMES));
  process.exit(0);
}

// --- training
const learningRate = flags.learningRate ?? 0.05;
const l2 = SIZES[size].l2;
const trainer = await lasagne.compileTraining(net, {
  loss: lasagne.objectives.categoricalCrossentropy,
  updates: lasagne.updates.nesterovMomentum({ learningRate, momentum: 0.9 }),
  regularization: { l2 },
  batchSize,
  backend: backendChoice,
  ...(threads > 1 ? { threads } : {}),
});
// the direct convolution kernels, as the training plan's forward runs them (no Winograd), so that the
// validation and test numbers are computed as the training loss is, and as they were measured
const network = await lasagne.compile(net, { batchSize: evalBatch, backend: trainer.backend, winograd: false });
console.log(`\ntraining on ${trainer.backend} (${trainer.device}): ${train.labels.length} images, ${validation.labels.length} for validation, ` +
  `${epochs} epochs, nesterov momentum 0.9, learning rate ${learningRate} (cosine decay), l2 ${l2}`);
console.log(`training plan: ${trainer.plan.steps.length} steps, arena ${(trainer.plan.arenaBytes / 2 ** 20).toFixed(1)} MiB, digest ${trainer.plan.digest}\n`);

const progress = new Progress();
const history = [];
const stepLosses = [];
const started = performance.now();
const stepsPerEpoch = Math.floor(train.labels.length / batchSize);
if (stepsPerEpoch < 1) fail(`--batch-size ${batchSize} is larger than the ${train.labels.length} training images`);
for (let epoch = 1; epoch <= epochs; epoch++) {
  progress.startEpoch(epoch, epochs, stepsPerEpoch * batchSize);
  let done = 0;
  let recent = 0;
  let recentCount = 0;
  for (const { images, labels } of minibatches(train, batchSize, { rng })) {
    // cosine decay of the learning rate over all steps
    const progressed = ((epoch - 1) * stepsPerEpoch + done / batchSize) / (epochs * stepsPerEpoch);
    trainer.setLearningRate(learningRate * 0.5 * (1 + Math.cos(Math.PI * progressed)));
    const loss = await trainer.step(images, labels);
    if (!Number.isFinite(loss)) fail(`the training loss became ${loss} at epoch ${epoch}, image ${done}: lower --learning-rate`);
    done += batchSize;
    recent += loss;
    recentCount++;
    progress.update(done, loss);
    if (recentCount === Math.max(1, Math.floor(stepsPerEpoch / 10))) {
      stepLosses.push([epoch - 1 + done / (stepsPerEpoch * batchSize), recent / recentCount]);
      recent = 0;
      recentCount = 0;
    }
  }
  await trainer.syncParams();
  const v = await evaluate(network, validation, evalBatch);
  history.push({ ...progress.endEpoch({ validationAccuracy: v.accuracy }), epoch });
}
const trainSeconds = (performance.now() - started) / 1000;

// --- test, outputs
const t = await evaluate(network, test, evalBatch);
console.log(`\ntest accuracy ${(100 * t.accuracy).toFixed(2)}% (${t.correct}/${t.total}) after ${epochs} epochs, ${formatDuration(trainSeconds)} of training`);
console.log(formatConfusion(confusionMatrix(t.predicted, test.labels, 10), CLASS_NAMES));
const sampleCount = Math.min(32, test.labels.length);
const per = 28 * 28;
const paths = writeOutputs(flags.out, {
  weights: lasagne.getAllParamValues(net),
  filters: net && lasagne.layers.getAllLayers(net).find((l) => l.name === 'conv1').W.getValue(),
  history, testAccuracy: t.accuracy, stepLosses,
  samples: {
    images: lasagne.ndarray(test.images.data.slice(0, sampleCount * per), [sampleCount, 1, 28, 28]),
    predicted: t.predicted.subarray(0, sampleCount), truth: test.labels.subarray(0, sampleCount),
  },
  classNames: CLASS_NAMES,
});
const modelJson = join(flags.out, 'model.json');
writeFileSync(modelJson, JSON.stringify(lasagne.layers.toJSON(net), null, 1));
// the run's numbers for scripts and tests (run.json next to the weights)
const runJson = join(flags.out, 'run.json');
writeFileSync(runJson, JSON.stringify({
  backend: trainer.backend, device: trainer.device, size, epochs, batchSize, seed: flags.seed, testAccuracy: t.accuracy, correct: t.correct,
  total: t.total, trainSeconds, history, stepLosses,
}, null, 1));
console.log(`\nwrote ${[...Object.values(paths), modelJson, runJson].join(', ')}`);
console.log(`(npm start -- --predict ${paths.weights} classifies the test set with them; examples/web shows them in a browser)`);
trainer.dispose();
network.dispose();
process.exit(0);
