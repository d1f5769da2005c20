// npm start: builds the cuda-convnet CIFAR-10 network (NET of the benchmark set), prints each layer,
// its output shape and parameters, and the arena plan; then compiles it (backend 'auto': WebGPU on
// a hardware adapter, WASM otherwise, so SwiftShader is skipped unless --backend webgpu asks for it),
// runs it on a batch and prints the output and the per-layer times. Flags: scripts/start/flags.mjs (training's flags are refused until it exists).
import { existsSync, mkdirSync } from 'node:fs';
import * as lasagne from 'lasagne-webgpu';
import { parseFlags, USAGE, UsageError } from './start/flags.mjs';
import { formatShape, layerTable, planTable } from './start/summary.mjs';

let flags;
try {
  flags = parseFlags(process.argv.slice(2));
  const untrained = ['--epochs', '--out', '--predict'].filter((f) => process.argv.some((a) => a === f || a.startsWith(`${f}=`)));
  if (untrained.length) throw new UsageError(`${untrained.join(', ')} need${untrained.length === 1 ? 's' : ''} training, which npm start does not do yet: today it runs the forward demo`);
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`npm start: ${e.message}\n(npm start -- --help lists the flags)`);
  process.exit(e.exitCode);
}
if (flags.help) {
  process.stdout.write(`${USAGE}\nNot yet: training (--epochs, --out, --predict). Today npm start builds the cuda-convnet CIFAR-10\n` +
    'network, prints its layers and plan and runs one forward pass of its random weights; --backend,\n--seed and --batch-size (the planned batch) apply to it.\n');
  process.exit(0);
}

// WebGPU in Node without a GPU: Dawn on Chromium's SwiftShader Vulkan driver.
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD)) process.env.VK_ICD_FILENAMES = ICD;
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = '/tmp/lasagne-webgpu-xdg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true });
}
lasagne.random.setRng(new lasagne.random.RandomState(flags.seed));

const batchSize = flags.batchSize;
// `--run-batch N` runs a smaller batch than the one planned (the tests use it on SwiftShader).
const runBatch = flags.runBatch ?? batchSize;
const net = lasagne.cifar10Net(null);
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

console.log(`cuda-convnet CIFAR-10 network (bc01 in and out), batch None, planned for batch ${batchSize}\n`);
console.log(layerTable(net));
process.stdout.write(planTable(lasagne.plan(net, { batchSize }), batchSize));

const network = await lasagne.compile(net, { batchSize: runBatch, backend: flags.backend });
console.log(`\ncompiled for batch ${runBatch} on ${network.backend} (${network.device})`);
const x = lasagne.ndarray(new Float32Array(runBatch * 3 * 32 * 32).map((_, i) => Math.sin(i * 0.001) * Math.cos(i * 0.37)), [runBatch, 3, 32, 32]);
await network.run(x); // first run: uploads the weights
const t0 = performance.now();
const y = await network.run(x);
const wall = performance.now() - t0;
const scores = Array.from(y.data.slice(0, 10 * 16).filter((_, i) => i % 16 === 0), (v) => v.toFixed(4));
console.log(`output ${formatShape(y.shape)}; example 0, position (0, 0), 10 class scores: ${scores.join(' ')}`);
const profile = network.profile();
if (profile) {
  const which = network.backend === 'webgpu' ? 'GPU time (timestamp queries) of the latest timed run (the first, and every 16th after it)' : 'CPU time of the last run';
  console.log(`\nper-layer ${which}:`);
  for (const t of profile) console.log(`  ${pad(t.layer, 10)} ${lpad(t.ms.toFixed(3), 9)} ms  (${t.steps.map((s) => s.op).join(', ')})`);
  console.log(`  ${pad('sum', 10)} ${lpad(profile.reduce((a, t) => a + t.ms, 0).toFixed(3), 9)} ms`);
} else {
  console.log('\nper-layer times: not measurable on this device');
}
console.log(`wall time of run(): ${wall.toFixed(3)} ms`);
network.dispose();
process.exit(0);
