import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from '../../dist/index.js';
import { Conv2DCCLayer, MaxPool2DCCLayer } from '../../dist/layers/cuda_convnet.js';
import { formatShape, layerTable, planTable } from '../../scripts/start/summary.mjs';

const summary = suite('network summary tables');

const small = () => {
  let net = new lasagne.layers.InputLayer([null, 1, 28, 28], { name: 'input' });
  net = new Conv2DCCLayer(net, 16, 5, { name: 'conv1' });
  return new MaxPool2DCCLayer(net, 2, { name: 'pool1' });
};

summary('formatShape writes Python tuples', () => {
  assert.is(formatShape([null, 16, 24, 24]), '(None, 16, 24, 24)');
  assert.is(formatShape([10]), '(10,)');
});

summary('layerTable: one row per layer with class, output shape, parameters and count; the totals', () => {
  const lines = layerTable(small()).split('\n');
  assert.match(lines[0], /^layer\s+class\s+output shape\s+parameters\s+count$/);
  assert.match(lines[1], /^input\s+InputLayer\s+\(None, 1, 28, 28\)\s+-\s+0$/);
  assert.match(lines[2], /^conv1\s+Conv2DCCLayer\s+\(None, 16, 24, 24\)\s+W \(16, 1, 5, 5\), b \(16,\)\s+416$/);
  assert.match(lines[3], /^pool1\s+MaxPool2DCCLayer\s+\(None, 16, 12, 12\)\s+-\s+0$/);
  assert.is(lines[5], 'total parameters: 416 (trainable 416, regularizable 400)');
});

summary('planTable: every tensor of the plan, the steps, the arena against one buffer per tensor, the digest', () => {
  const plan = lasagne.plan(small(), { batchSize: 8 });
  const text = planTable(plan, 8);
  assert.match(text, /^arena plan \(batch 8, \d+-byte alignment\)/);
  for (const t of plan.tensors) assert.ok(text.includes(`${t.bytes}`) && text.includes(t.producer), t.producer);
  assert.ok(text.includes(`arena: ${plan.arenaBytes} bytes`));
  assert.ok(text.includes(`plan digest: ${plan.digest}\n`));
  assert.match(text, /kernel steps .*: 0:\w+\(\w+\)/);
});

summary.run();
