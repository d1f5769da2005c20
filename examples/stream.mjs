// The README's streaming example; test/examples.test.mjs runs it and checks what it prints.
import * as lasagne from 'lasagne-webgpu';

const net = lasagne.cifar10Net(8);                                 // the cuda-convnet CIFAR-10 network, batch 8
const network = await lasagne.compile(net, { profile: false });    // no per-layer timing: the fastest runs
const batch = new Float32Array(8 * 3 * 32 * 32);                   // one array, refilled for every batch
const pending = [];
for (let i = 0; i < 4; i++) {
  batch.fill(i / 4);                                               // your next 8 images, bc01
  pending.push(network.run(lasagne.ndarray(batch, [8, 3, 32, 32])));  // not awaited: runs overlap
}
const outputs = await Promise.all(pending);                        // in call order, each of its own batch
console.log(outputs.map((y) => y.shape.join('x')).join(' '));      // 8x10x4x4 8x10x4x4 8x10x4x4 8x10x4x4
console.log(outputs[1].data.some((v, j) => v !== outputs[2].data[j]));  // true
console.log(network.profile());                                    // null
network.dispose();
