// The classifier npm start trains: examples/web/model.js buildClassifier (one definition, shared with
// the web page that shows the trained model):
//   Input (N, 1, 28, 28)
//   Conv2DCCLayer 32 filters 5x5 pad 2, rectify   -> (N, 32, 28, 28)     ('small': 16)
//   MaxPool2DCCLayer 2                           -> (N, 32, 14, 14)
//   Conv2DCCLayer 64 filters 5x5 pad 2, rectify   -> (N, 64, 14, 14)     ('small': 32)
//   MaxPool2DCCLayer 2                           -> (N, 64, 7, 7)
//   DropoutLayer p=0.25, DenseLayer 256 rectify, DropoutLayer p=0.5, DenseLayer 10 softmax
//   ('small': 128 units, dropout 0.1 and 0.25: the CPU default, trained for fewer epochs)
export { buildClassifier, DEFAULT_SIZE, SIZES } from '../../examples/web/model.js';
