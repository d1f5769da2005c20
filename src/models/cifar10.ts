import { InputLayer } from '../layers/input.js';
import type { Layer } from '../layers/base.js';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, ShuffleBC01ToC01BLayer, ShuffleC01BToBC01Layer } from '../layers/cuda_convnet.js';

/**
 * cuda-convnet's CIFAR-10 network (the NET row of the benchmark set): three 5x5 convolutions with
 * 32, 32 and 64 filters (pad 2, rectify), each followed by 3x3 max-pooling with stride 2, then a
 * 1x1 NIN layer to 10 class scores. bc01 in (`[batch, 3, 32, 32]`), bc01 out (`[batch, 10, 4, 4]`).
 */
export function cifar10Net(batchSize: number | null = null): Layer {
  let net: Layer = new InputLayer([batchSize, 3, 32, 32], { name: 'input' });
  net = new Conv2DCCLayer(net, 32, 5, { pad: 2, name: 'conv1' });
  net = new MaxPool2DCCLayer(net, 3, { stride: 2, name: 'pool1' });
  net = new Conv2DCCLayer(net, 32, 5, { pad: 2, name: 'conv2' });
  net = new MaxPool2DCCLayer(net, 3, { stride: 2, name: 'pool2' });
  net = new Conv2DCCLayer(net, 64, 5, { pad: 2, name: 'conv3' });
  net = new MaxPool2DCCLayer(net, 3, { stride: 2, name: 'pool3' });
  net = new ShuffleBC01ToC01BLayer(net, { name: 'to_c01b' });
  net = new NINLayer_c01b(net, 10, { nonlinearity: null, name: 'nin' });
  return new ShuffleC01BToBC01Layer(net, { name: 'to_bc01' });
}
