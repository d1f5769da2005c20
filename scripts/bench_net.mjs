// Benchmark (not a test): NET, the cuda-convnet CIFAR-10 network of ../shared/reference/performance.md,
// compiled as a user compiles it (batch 128 by default) on the backend 'auto' picks, twice: with the
// default per-layer timing, and with `profile: false`. Prints the per-layer device times of
// profile(), their sum, and the wall time of network.run() (upload the input, every kernel, read the
// output back) against that sum, two ways:
//   one at a time   each run awaited before the next is called (latency)
//   in flight       a stream of runs with up to --in-flight (default 3) called and not yet settled,
//                   as an app feeding batches does: wall = total time / runs (throughput; the next
//                   run's upload and submission overlap this one's GPU work)
// On WebGPU it also prints the floor under any run on the same device: a submit with a 4-byte copy
// and a map of 4 bytes (the round trip), and the input's upload alone (writeBuffer + submit + wait);
// and the CPU time a run (profile: false) spends in Dawn's writeBuffer (the input's copy into
// staging memory), in encoding its command buffer (createCommandEncoder to finish) and in submit.
//   node scripts/bench_net.mjs [--batch 128] [--runs 50] [--in-flight 3] [--backend auto|webgpu|wasm]
import { existsSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import * as lasagne from 'lasagne-webgpu';

const { values: opts } = parseArgs({
  options: { batch: { type: 'string' }, runs: { type: 'string' }, 'in-flight': { type: 'string' }, backend: { type: 'string' } },
});
const inFlight = Number(opts['in-flight'] ?? 3);
const batch = Number(opts.batch ?? 128);
const runs = Number(opts.runs ?? 50);
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD) && !existsSync('/dev/nvidia0')) process.env.VK_ICD_FILENAMES = ICD;
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = '/tmp/lasagne-webgpu-xdg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const net = lasagne.cifar10Net(batch);
const x = lasagne.ndarray(new Float32Array(batch * 3 * 32 * 32).map((_, i) => Math.sin(i * 0.01)), [batch, 3, 32, 32]);

/** Median wall per run, one at a time and `inFlight` in flight; per-layer times and their sum when profiled. */
async function measure(network) {
  for (let i = 0; i < 5; i++) await network.run(x);
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
  return { wall: median(walls), streamed: median(streams), sum: sums.length ? median(sums) : null, perLayer };
}

const timed = await lasagne.compile(net, { backend: opts.backend ?? 'auto' });
const plain = await lasagne.compile(net, { backend: opts.backend ?? 'auto', profile: false });
// a second of runs first, so that the GPU's clocks have ramped up before either is measured, then
// each measured twice in turn, the second time reported
const t0 = performance.now();
while (performance.now() - t0 < 1000) await plain.run(x);
await measure(timed);
await measure(plain);
const a = await measure(timed);
const b = await measure(plain);
console.log(`NET batch ${batch} on ${timed.backend} (${timed.device}), ${runs} runs`);
for (const [layer, ms] of a.perLayer) console.log(`  ${layer.padEnd(8)} ${median(ms).toFixed(4).padStart(9)} ms`);
const ratio = (ms) => (a.sum ? `, wall / kernel sum ${(ms / a.sum).toFixed(2)}` : '');
if (a.sum) console.log(`kernel sum ${a.sum.toFixed(4)} ms`);
console.log(`profiled        one at a time: ${a.wall.toFixed(4)} ms per run${ratio(a.wall)}`);
console.log(`profiled        ${inFlight} in flight:   ${a.streamed.toFixed(4)} ms per run${ratio(a.streamed)}`);
console.log(`profile: false  one at a time: ${b.wall.toFixed(4)} ms per run${ratio(b.wall)}`);
console.log(`profile: false  ${inFlight} in flight:   ${b.streamed.toFixed(4)} ms per run${ratio(b.streamed)}`);
timed.dispose();
plain.dispose();

if (timed.backend === 'webgpu') {
  // the same default device the networks ran on
  const { defaultDeviceHandle } = await import(new URL('../dist/backend/webgpu/device.js', import.meta.url));
  const { device } = await defaultDeviceHandle();
  const { globals } = await import('webgpu');
  const { GPUBufferUsage, GPUMapMode } = globals;
  const tiny = device.createBuffer({ size: 256, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE });
  const read = device.createBuffer({ size: 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const input = device.createBuffer({ size: x.data.byteLength, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE });
  const roundTrip = async () => {
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(tiny, 0, read, 0, 4);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    read.unmap();
  };
  const upload = async () => {
    device.queue.writeBuffer(input, 0, x.data);
    device.queue.submit([]);
    await device.queue.onSubmittedWorkDone();
  };
  const floor = async (fn) => {
    for (let i = 0; i < 5; i++) await fn();
    const t = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await fn();
      t.push(performance.now() - t0);
    }
    return median(t);
  };
  const rt = await floor(roundTrip);
  const up = await floor(upload);
  console.log(`floor: submit + map of 4 bytes ${rt.toFixed(4)} ms; upload of the ${(x.data.byteLength / 2 ** 20).toFixed(2)} MiB input alone ${up.toFixed(4)} ms`);
  // CPU time inside Dawn's calls during runs
  const cpu = { writeBuffer: 0, encode: 0, submit: 0 };
  const queue = device.queue;
  const originals = { writeBuffer: queue.writeBuffer, submit: queue.submit, createCommandEncoder: device.createCommandEncoder };
  for (const m of ['writeBuffer', 'submit']) {
    queue[m] = function (...args) {
      const t0 = performance.now();
      const r = originals[m].apply(this, args);
      cpu[m] += performance.now() - t0;
      return r;
    };
  }
  device.createCommandEncoder = function (...args) {
    const t0 = performance.now();
    const enc = originals.createCommandEncoder.apply(this, args);
    const finish = enc.finish.bind(enc);
    enc.finish = (d) => {
      const r = finish(d);
      cpu.encode += performance.now() - t0;
      return r;
    };
    return enc;
  };
  const probe = await lasagne.compile(net, { backend: 'webgpu', profile: false });
  for (let i = 0; i < 5; i++) await probe.run(x);
  for (const k of Object.keys(cpu)) cpu[k] = 0;
  for (let i = 0; i < runs; i++) await probe.run(x);
  probe.dispose();
  Object.assign(queue, { writeBuffer: originals.writeBuffer, submit: originals.submit });
  device.createCommandEncoder = originals.createCommandEncoder;
  console.log(
    `CPU per run (profile: false): writeBuffer ${(cpu.writeBuffer / runs).toFixed(4)} ms, encoding ${(cpu.encode / runs).toFixed(4)} ms, ` +
      `submit ${(cpu.submit / runs).toFixed(4)} ms`,
  );
  tiny.destroy();
  read.destroy();
  input.destroy();
}
process.exit(0);
