// Benchmark (not a test): NET, the cuda-convnet CIFAR-10 network of ../shared/reference/performance.md,
// compiled as a user compiles it (batch 128 by default), on the backend 'auto' picks. Prints the median
// wall time of network.run() (upload the input, every kernel, read the output back), the per-layer
// device times of profile(), their sum, and wall / sum (the per-run overhead), two ways:
//   one at a time   each run awaited before the next is called (latency: upload, kernels, readback)
//   in flight       a stream of runs with up to --in-flight (default 3) called and not yet settled,
//                   as an app feeding batches does: wall = total time / runs (throughput; the next
//                   run's upload and submission overlap this one's GPU work)
//   node scripts/bench_net.mjs [--batch 128] [--runs 30] [--in-flight 3] [--backend auto|webgpu|wasm] [--no-timestamps]
// --no-timestamps: WebGPU on a device made without 'timestamp-query', so run() encodes one compute
// pass and reads nothing but the output back (shows what per-layer timing costs the wall time).
import { existsSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import * as lasagne from 'lasagne-webgpu';

const { values: opts } = parseArgs({
  options: { batch: { type: 'string' }, runs: { type: 'string' }, 'in-flight': { type: 'string' }, backend: { type: 'string' }, 'no-timestamps': { type: 'boolean', default: false } },
});
const inFlight = Number(opts['in-flight'] ?? 3);
const batch = Number(opts.batch ?? 128);
const runs = Number(opts.runs ?? 30);
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD) && !existsSync('/dev/nvidia0')) process.env.VK_ICD_FILENAMES = ICD;
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = '/tmp/lasagne-webgpu-xdg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true });
}

const net = lasagne.cifar10Net(batch);
let device;
let keepGpu;
if (opts['no-timestamps']) {
  const { create } = await import('webgpu');
  keepGpu = create(['disable-dawn-features=timestamp_quantization']);
  const adapter = await keepGpu.requestAdapter();
  device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
}
const network = await lasagne.compile(net, { backend: opts.backend ?? 'auto', ...(device ? { device } : {}) });
const x = lasagne.ndarray(new Float32Array(batch * 3 * 32 * 32).map((_, i) => Math.sin(i * 0.01)), [batch, 3, 32, 32]);
for (let i = 0; i < 3; i++) await network.run(x);
const walls = [];
const sums = [];
const perLayer = new Map();
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  await network.run(x);
  walls.push(performance.now() - t0);
  const prof = network.profile();
  if (prof) {
    sums.push(prof.reduce((a, t) => a + t.ms, 0));
    for (const t of prof) perLayer.set(t.layer, [...(perLayer.get(t.layer) ?? []), t.ms]);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// in flight: `rounds` streams of `runs` runs each, the median stream
const streams = [];
for (let round = 0; round < 5; round++) {
  const pending = [];
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    pending.push(network.run(x));
    if (pending.length >= inFlight) await pending.shift();
  }
  await Promise.all(pending);
  streams.push((performance.now() - t0) / runs);
}
console.log(`NET batch ${batch} on ${network.backend} (${network.device}), ${runs} runs`);
for (const [layer, ms] of perLayer) console.log(`  ${layer.padEnd(8)} ${median(ms).toFixed(4).padStart(9)} ms`);
const wall = median(walls);
const streamed = median(streams);
if (sums.length) {
  const sum = median(sums);
  console.log(`kernel sum ${sum.toFixed(4)} ms`);
  console.log(`one at a time: wall ${wall.toFixed(4)} ms per run, wall / kernel sum ${(wall / sum).toFixed(2)}`);
  console.log(`${inFlight} in flight:   wall ${streamed.toFixed(4)} ms per run, wall / kernel sum ${(streamed / sum).toFixed(2)}`);
} else {
  console.log(`one at a time: wall ${wall.toFixed(4)} ms per run; ${inFlight} in flight: ${streamed.toFixed(4)} ms per run (no per-layer device times on this backend)`);
}
network.dispose();
void keepGpu;
process.exit(0);
