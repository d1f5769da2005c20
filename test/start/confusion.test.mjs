import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { argmaxClasses, confusionMatrix, formatConfusion } from '../../scripts/start/confusion.mjs';

const confusion = suite('confusion summary');

confusion('argmaxClasses: the best class per row of (N, K) or (N, K, 1, 1), ties to the lowest, count limits the rows', () => {
  const data = Float32Array.from([0.1, 0.7, 0.2, 5, 5, -1, -3, -2, -1]);
  assert.equal(Array.from(argmaxClasses({ data, shape: [3, 3] })), [1, 0, 2]);
  assert.equal(Array.from(argmaxClasses({ data, shape: [3, 3, 1, 1] })), [1, 0, 2]);
  assert.equal(Array.from(argmaxClasses({ data, shape: [3, 3] }, 2)), [1, 0]);
  assert.throws(() => argmaxClasses({ data, shape: [1, 3, 3] }), /must be \(N, K\) or \(N, K, 1, 1\), but got \(1, 3, 3\)/);
  assert.throws(() => argmaxClasses({ data, shape: [3, 3] }, 4), /count must be an integer from 0 to 3, but got 4/);
});

confusion('confusionMatrix counts (true, predicted) pairs, row-major by true class', () => {
  const m = confusionMatrix([0, 1, 1, 2, 0, 2], [0, 1, 2, 2, 1, 0], 3);
  assert.equal(Array.from(m), [1, 0, 1, 1, 1, 0, 0, 1, 1]);
  assert.is(m.reduce((a, b) => a + b, 0), 6);
});

confusion('confusionMatrix refuses mismatched lengths and classes out of range, naming the index', () => {
  assert.throws(() => confusionMatrix([0, 1], [0], 2), /same length, but have 2 and 1/);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /predicted\[1\] must be a class from 0 to 2, but is 3/);
  assert.throws(() => confusionMatrix([0, 1], [-1, 1], 3), /truth\[0\] must be a class from 0 to 2, but is -1/);
  assert.throws(() => confusionMatrix([0.5], [0], 3), /predicted\[0\]/);
  assert.throws(() => confusionMatrix([], [], 0), /numClasses must be a positive integer/);
});

confusion('formatConfusion: accuracy, the matrix with recall per row and precision per column, the largest mistakes', () => {
  const names = ['cat', 'dog', 'bird'];
  // 10 cats: 8 right, 2 taken for dogs; 5 dogs: 5 right; 5 birds: 1 right, 3 dogs, 1 cat; nothing else
  const m = Int32Array.from([8, 2, 0, 0, 5, 0, 1, 3, 1]);
  const text = formatConfusion(m, names, { title: 'validation' });
  assert.is(text, [
    'validation accuracy 70.00% (14 of 20)',
    '',
    'confusion matrix: rows are the true classes, columns the predicted ones',
    '             0    1    2   recall',
    '0 cat        8    2    0    80.0%',
    '1 dog        0    5    0   100.0%',
    '2 bird       1    3    1    20.0%',
    'precision  89%  50% 100%',
    '',
    'most frequent mistakes:',
    '  bird taken for dog: 3 (60.0% of bird)',
    '  cat taken for dog: 2 (20.0% of cat)',
    '  bird taken for cat: 1 (20.0% of bird)',
    '',
  ].join('\n'));
});

confusion('formatConfusion: a class never seen or never predicted shows -, a perfect matrix lists no mistakes', () => {
  const text = formatConfusion(Int32Array.from([3, 0, 0, 0]), ['a', 'b']);
  assert.match(text, /^test accuracy 100\.00% \(3 of 3\)\n/);
  assert.match(text, /\n1 b +0 +0 +-\n/);
  assert.match(text, /\nprecision +100% +-\n$/);
  assert.not.match(text, /mistakes/);
  assert.throws(() => formatConfusion(new Int32Array(5), ['a', 'b']), /for 2 classes has 4 counts, but this one has 5/);
});

confusion.run();
