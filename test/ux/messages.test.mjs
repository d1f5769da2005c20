// Messages that must not mislead: what the missing-batchSize error suggests is an option the caller takes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';

const { InputLayer } = lasagne.layers;
const msg = suite('missing batchSize / open dimensions');

async function compileError(net, options) {
  return lasagne.compile(net, options).then(() => null, (e) => e);
}

msg('compile without batchSize on a null batch asks for batchSize and never for inputShapes, which compile refuses', async () => {
  const net = new Conv2DCCLayer(new InputLayer([null, 3, 8, 8], { name: 'images' }), 16, 3, { pad: 'same' });
  const e = await compileError(net, { backend: 'wasm' });
  assert.instance(e, lasagne.errors.ValueError);
  assert.match(e.message, /^compile needs concrete shapes, but input 'images' has shape \(None, 3, 8, 8\)/);
  assert.match(e.message, /batchSize/);
  assert.match(e.message, /compile\(net, \{ batchSize: 32 \}\)/);
  assert.not.match(e.message, /inputShapes/);
  // what the old message suggested really is refused
  const refused = await compileError(net, { backend: 'wasm', inputShapes: [2, 3, 8, 8] });
  assert.instance(refused, TypeError);
  assert.match(refused.message, /unknown option 'inputShapes' for compile/);
  // and batchSize does fix it
  const n = await lasagne.compile(net, { backend: 'wasm', batchSize: 2, threads: 1 });
  assert.equal(n.plan.tensors[n.plan.inputs[0]].shape, [2, 3, 8, 8]);
  n.dispose();
});

msg('an open dimension other than the batch: compile says to give the InputLayer a size; plan offers inputShapes', async () => {
  const net = new Conv2DCCLayer(new InputLayer([null, 3, null, 8]), 16, 3);
  const e = await compileError(net, { backend: 'wasm', batchSize: 2 });
  assert.instance(e, lasagne.errors.ValueError);
  assert.match(e.message, /input InputLayer has shape \(2, 3, None, 8\)/);
  assert.match(e.message, /give the InputLayer a concrete size for axis 2/);
  assert.not.match(e.message, /inputShapes/);
  assert.throws(() => lasagne.plan(net, { batchSize: 2 }), (err) => err instanceof lasagne.errors.ValueError && /^plan needs concrete shapes/.test(err.message) && /inputShapes/.test(err.message) && /axis 2/.test(err.message));
  assert.throws(() => lasagne.plan(net), (err) => /plan needs concrete shapes/.test(err.message));
  assert.is(lasagne.plan(net, { inputShapes: [2, 3, 8, 8] }).tensors.length > 0, true);
});

msg.run();
