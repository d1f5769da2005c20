// The confusion summary npm start prints after testing: accuracy, the confusion matrix (rows: true
// class, columns: predicted class), each class's recall and precision, and the most frequent mistakes.

/**
 * The class with the highest score for each of n examples.
 *
 * @param {{ data: Float32Array, shape: number[] }} scores (N, K) or (N, K, 1, 1), as a classifier's
 *   output; ties go to the lowest class (numpy's argmax)
 * @param {number} [count] only the first `count` examples (a zero-padded last batch)
 * @returns {Int32Array}
 */
export function argmaxClasses(scores, count = scores.shape[0]) {
  const [n, k, ...rest] = scores.shape;
  if (rest.some((d) => d !== 1) || !(k >= 1)) throw new RangeError(`argmaxClasses: scores must be (N, K) or (N, K, 1, 1), but got (${scores.shape.join(', ')})`);
  if (!(Number.isInteger(count) && count >= 0 && count <= n)) throw new RangeError(`argmaxClasses: count must be an integer from 0 to ${n}, but got ${count}`);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (scores.data[i * k + j] > scores.data[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

/**
 * Counts of (true class, predicted class) pairs.
 *
 * @param {ArrayLike<number>} predicted
 * @param {ArrayLike<number>} truth same length
 * @param {number} numClasses K
 * @returns {Int32Array} K x K, row-major: [t * K + p] counts examples of class t predicted as p
 */
export function confusionMatrix(predicted, truth, numClasses) {
  if (!(Number.isInteger(numClasses) && numClasses >= 1)) throw new RangeError(`confusionMatrix: numClasses must be a positive integer, but got ${numClasses}`);
  if (predicted.length !== truth.length) throw new RangeError(`confusionMatrix: predicted and truth must have the same length, but have ${predicted.length} and ${truth.length}`);
  const m = new Int32Array(numClasses * numClasses);
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = predicted[i];
    for (const [what, v] of [['truth', t], ['predicted', p]]) {
      if (!(Number.isInteger(v) && v >= 0 && v < numClasses)) throw new RangeError(`confusionMatrix: ${what}[${i}] must be a class from 0 to ${numClasses - 1}, but is ${v}`);
    }
    m[t * numClasses + p]++;
  }
  return m;
}

const pct = (num, den) => (den === 0 ? '-' : `${((100 * num) / den).toFixed(1)}%`);

/**
 * The summary as text.
 *
 * @param {Int32Array} matrix from confusionMatrix
 * @param {readonly string[]} classNames K names
 * @param {{ title?: string, mistakes?: number }} [options] `mistakes`: how many of the largest
 *   off-diagonal counts to list (default 3)
 */
export function formatConfusion(matrix, classNames, { title = 'test', mistakes = 3 } = {}) {
  const k = classNames.length;
  if (matrix.length !== k * k) throw new RangeError(`formatConfusion: a matrix for ${k} classes has ${k * k} counts, but this one has ${matrix.length}`);
  let total = 0;
  let correct = 0;
  const rows = new Array(k).fill(0);
  const cols = new Array(k).fill(0);
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const c = matrix[t * k + p];
      total += c;
      rows[t] += c;
      cols[p] += c;
      if (t === p) correct += c;
    }
  }
  const nameWidth = Math.max(...classNames.map((n, i) => `${i} ${n}`.length), 'precision'.length);
  // wide enough for the largest count and for a precision of '100%', with a space before each
  const cell = Math.max(5, String(Math.max(0, ...matrix)).length + 1);
  const lines = [];
  lines.push(`${title} accuracy ${total === 0 ? '-' : `${((100 * correct) / total).toFixed(2)}%`} (${correct} of ${total})`);
  lines.push('');
  lines.push('confusion matrix: rows are the true classes, columns the predicted ones');
  const header = classNames.map((_, p) => String(p).padStart(cell)).join('');
  lines.push(`${''.padEnd(nameWidth)}${header}  ${'recall'.padStart(7)}`);
  for (let t = 0; t < k; t++) {
    const counts = classNames.map((_, p) => String(matrix[t * k + p]).padStart(cell)).join('');
    lines.push(`${`${t} ${classNames[t]}`.padEnd(nameWidth)}${counts}  ${pct(matrix[t * k + t], rows[t]).padStart(7)}`);
  }
  // precision in a row of its own; '-' for a class never predicted
  const precision = (p) => (cols[p] === 0 ? '-' : `${Math.round((100 * matrix[p * k + p]) / cols[p])}%`);
  lines.push(`${'precision'.padEnd(nameWidth)}${classNames.map((_, p) => precision(p).padStart(cell)).join('')}`);
  const off = [];
  for (let t = 0; t < k; t++) for (let p = 0; p < k; p++) if (t !== p && matrix[t * k + p] > 0) off.push([matrix[t * k + p], t, p]);
  off.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  if (mistakes > 0 && off.length > 0) {
    lines.push('');
    lines.push('most frequent mistakes:');
    for (const [c, t, p] of off.slice(0, mistakes)) lines.push(`  ${classNames[t]} taken for ${classNames[p]}: ${c} (${pct(c, rows[t])} of ${classNames[t]})`);
  }
  return `${lines.join('\n')}\n`;
}
