// The README's training example; test/examples.test.mjs runs it and checks what it prints.
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';

const { layers, nonlinearities, objectives, updates } = lasagne;
lasagne.random.setRng(new lasagne.random.RandomState(42));         // Lasagne's initial weights for seed 42
let net = new layers.InputLayer([null, 1, 8, 8]);
net = new Conv2DCCLayer(net, 16, 3, { pad: 1 });                   // rectify, bc01 in and out
net = new MaxPool2DCCLayer(net, 2);
net = new layers.DropoutLayer(net, { p: 0.2 });
net = new layers.DenseLayer(net, 2, { nonlinearity: nonlinearities.softmax });

const trainer = await lasagne.compileTraining(net, {
  loss: objectives.categoricalCrossentropy,
  updates: updates.nesterovMomentum({ learningRate: 0.05, momentum: 0.9 }),
  regularization: { l2: 1e-4 },
  batchSize: 32,
});
// a toy task: is the bright bar in an 8x8 image vertical (class 0) or horizontal (class 1)?
const rng = new lasagne.random.RandomState(0);
function batch() {
  const x = new Float32Array(32 * 64);
  const y = new Int32Array(32);
  for (let n = 0; n < 32; n++) {
    y[n] = n % 2;
    const at = Math.floor(8 * rng.randomSample());
    for (let i = 0; i < 64; i++) x[n * 64 + i] = 0.5 * rng.randomSample() + ((y[n] === 0 ? i % 8 : Math.floor(i / 8)) === at ? 1 : 0);
  }
  return { x: lasagne.ndarray(x, [32, 1, 8, 8]), y };
}
const losses = [];
for (let step = 0; step < 40; step++) {
  const { x, y } = batch();
  losses.push(await trainer.step(x, y));                           // one update; the batch loss
}
console.log(losses[0] > 0.5, losses.at(-1) < 0.1);                 // true true
await trainer.syncParams();                                        // device values -> the Params
const network = await lasagne.compile(net, { batchSize: 32 });     // inference: dropout off
const { x, y } = batch();
const accuracy = objectives.categoricalAccuracy(await network.run(x), y);
console.log(accuracy.data.every((v) => v === 1));                  // true
const weights = lasagne.saveNpz(lasagne.getAllParamValues(net));   // np.load reads it; so does loadNpz
console.log(weights.length > 1000, trainer.backend === network.backend);  // true true
trainer.dispose();
network.dispose();
