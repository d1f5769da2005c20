// The classifier npm start trains: a Lasagne-style cuda-convnet network for 28 x 28 grey images,
//   Input (N, 1, 28, 28)
//   Conv2DCCLayer 32 filters 5x5 pad 2, rectify   -> (N, 32, 28, 28)
//   MaxPool2DCCLayer 2                           -> (N, 32, 14, 14)
//   Conv2DCCLayer 64 filters 5x5 pad 2, rectify   -> (N, 64, 14, 14)
//   MaxPool2DCCLayer 2                           -> (N, 64, 7, 7)
//   DropoutLayer p=0.25, DenseLayer 256 rectify, DropoutLayer p=0.5, DenseLayer 10 softmax
// `size: 'small'` halves the filters and units and drops less (0.1, 0.25): the CPU default, trained for fewer epochs.
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';

export const SIZES = Object.freeze({
  small: { conv1: 16, conv2: 32, dense: 128, drop1: 0.1, drop2: 0.25 },
  large: { conv1: 32, conv2: 64, dense: 256, drop1: 0.25, drop2: 0.5 },
});

/**
 * @param {{ size?: 'small' | 'large', classes?: number }} [options]
 * @returns {import('lasagne-webgpu').layers.Layer} the output layer (softmax scores (N, classes))
 */
export function buildClassifier({ size = 'large', classes = 10 } = {}) {
  const s = SIZES[size];
  if (s === undefined) throw new TypeError(`buildClassifier: size must be 'small' or 'large', but got ${JSON.stringify(size)}`);
  const { layers, nonlinearities: nl, init } = lasagne;
  let net = new layers.InputLayer([null, 1, 28, 28], { name: 'input' });
  net = new Conv2DCCLayer(net, s.conv1, 5, { pad: 2, nonlinearity: nl.rectify, W: new init.GlorotUniform({ gain: 'relu' }), name: 'conv1' });
  net = new MaxPool2DCCLayer(net, 2, { name: 'pool1' });
  net = new Conv2DCCLayer(net, s.conv2, 5, { pad: 2, nonlinearity: nl.rectify, W: new init.GlorotUniform({ gain: 'relu' }), name: 'conv2' });
  net = new MaxPool2DCCLayer(net, 2, { name: 'pool2' });
  net = new layers.DropoutLayer(net, { p: s.drop1, name: 'drop1' });
  net = new layers.DenseLayer(net, s.dense, { nonlinearity: nl.rectify, W: new init.GlorotUniform({ gain: 'relu' }), name: 'fc' });
  net = new layers.DropoutLayer(net, { p: s.drop2, name: 'drop2' });
  return new layers.DenseLayer(net, classes, { nonlinearity: nl.softmax, name: 'output' });
}
