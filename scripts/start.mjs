// npm start: builds the cuda-convnet CIFAR-10 network (NET of the benchmark set) and prints each
// layer, its output shape and parameters, and the arena plan a backend will run.
import * as lasagne from 'lasagne-webgpu';

const batchSize = 128;
const net = lasagne.cifar10Net(null);
const layers = lasagne.getAllLayers(net);
const fmt = (s) => (s.length === 1 ? `(${s[0] ?? 'None'},)` : `(${s.map((d) => d ?? 'None').join(', ')})`);
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

console.log(`cuda-convnet CIFAR-10 network (bc01 in and out), batch None, planned for batch ${batchSize}\n`);
console.log(`${pad('layer', 9)} ${pad('class', 24)} ${pad('output shape', 20)} ${pad('parameters', 36)} ${lpad('count', 7)}`);
for (const layer of layers) {
  const params = [...layer.params.keys()];
  const desc = params.map((p) => `${p.name.split('.').pop()} ${fmt(p.shape)}`).join(', ') || '-';
  const count = params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  console.log(`${pad(layer.name, 9)} ${pad(layer.constructor.name, 24)} ${pad(fmt(layer.outputShape), 20)} ${pad(desc, 36)} ${lpad(count, 7)}`);
}
console.log(`\ntotal parameters: ${lasagne.countParams(net)} (trainable ${lasagne.countParams(net, { trainable: true })}, regularizable ${lasagne.countParams(net, { regularizable: true })})`);

const plan = lasagne.plan(net, { batchSize });
const mib = (b) => `${(b / 2 ** 20).toFixed(2)} MiB`;
console.log(`\narena plan (batch ${batchSize}, ${plan.alignment}-byte alignment): one buffer, tensors share bytes when their lifetimes do not overlap\n`);
console.log(`${pad('tensor', 9)} ${pad('shape', 20)} ${lpad('bytes', 10)} ${lpad('offset', 10)}  live steps`);
for (const t of plan.tensors) {
  console.log(`${pad(t.producer, 9)} ${pad(fmt(t.shape), 20)} ${lpad(t.bytes, 10)} ${lpad(t.offset, 10)}  ${t.first}-${t.last}`);
}
console.log(`\nkernel steps (c01b inside; inverse transposes elided): ${plan.steps.map((s) => `${s.index}:${s.op}(${s.layer})`).join(' -> ')}`);
console.log(`arena: ${plan.arenaBytes} bytes (${mib(plan.arenaBytes)}) vs ${plan.naiveBytes} bytes (${mib(plan.naiveBytes)}) for one buffer per tensor: ` +
  `${(100 * plan.arenaBytes / plan.naiveBytes).toFixed(1)}%`);
console.log(`plan digest: ${plan.digest}`);
console.log('\nkernels: not yet available in this version (the WebGPU and WASM backends come next); this run checked shapes, parameters and the plan.');
