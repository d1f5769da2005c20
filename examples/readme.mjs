// The README's example; test/examples.test.mjs runs it and checks what it prints.
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, bc01_to_c01b } from 'lasagne-webgpu/layers/cuda_convnet';

const { InputLayer } = lasagne.layers;
let net = new InputLayer([null, 3, 32, 32]);                        // bc01, batch size unknown
net = new Conv2DCCLayer(net, 32, 5, { pad: 2, name: 'conv1' });     // W (32, 3, 5, 5), b (32,)
net = new MaxPool2DCCLayer(net, 3, { stride: 2 });                  // partial windows kept: 16 x 16
net = new Conv2DCCLayer(net, 64, 5, {
  pad: 'same',
  nonlinearity: new lasagne.nonlinearities.LeakyRectify({ leakiness: 0.1 }),
});
net = new bc01_to_c01b(net);                                        // the alias is the same class
net = new NINLayer_c01b(net, 10, { nonlinearity: null });           // W (10, 64): (num_units, C)

console.log(net.outputShape);                                       // [10, 16, 16, null]  (c01b)
console.log(lasagne.countParams(net));                              // 54346
console.log(lasagne.getAllParams(net, { regularizable: true }).map((p) => p.name));  // ['conv1.W', 'W', 'W']
