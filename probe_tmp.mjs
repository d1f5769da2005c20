import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
lasagne.random?.setSeed?.(1);
const l = lasagne.layers;
const inp = new l.InputLayer([3, 8, 8, 7]);
const net0 = new Conv2DCCLayer(inp, 16, 3, { pad: 1, dimshuffle: false });
const net = await lasagne.compile(net0, { backend: 'wasm', threads: 1 });
const x = lasagne.ndarray(Float32Array.from({length: 7*3*64}, (_, i) => Math.sin(i)), [3,8,8,7]);
const first = (await net.run(x)).data.slice();
for (let r = 0; r < 3000; r++) {
  const y = (await net.run(x)).data;
  let d = 0; for (let i = 0; i < y.length; i++) if (y[i] !== first[i]) d++;
  if (d) { console.log('run', r, 'differs in', d); break; }
}
console.log(net.device, 'done');
