// Classifying a whole set with a compiled forward network (lasagne.compile) in fixed-size batches:
// the predicted class of every image and the accuracy. Runs are issued without waiting for the
// previous one (a run reads its input when called, so one batch buffer is refilled), a few in flight.
import { argmaxClasses } from './confusion.mjs';
import { minibatches } from './data.mjs';

const IN_FLIGHT = 3;

/**
 * @param {{ run(x): Promise<{ data: Float32Array, shape: number[] }> }} network compiled for
 *   `batchSize` images, its output (batchSize, K) or (batchSize, K, 1, 1) class scores
 * @param {{ images: { data: Float32Array, shape: number[] }, labels: Int32Array }} set
 * @param {number} batchSize the network's batch size; the last batch is zero-padded and only its
 *   real images count
 * @param {{ onBatch?: (done: number) => void }} [options] called after each batch with the number of
 *   images classified so far
 * @returns {Promise<{ predicted: Int32Array, correct: number, total: number, accuracy: number }>}
 */
export async function evaluate(network, set, batchSize, { onBatch = () => {} } = {}) {
  const n = set.labels.length;
  const predicted = new Int32Array(n);
  const pending = [];
  let done = 0;
  const settle = async () => {
    const { result, start, count } = pending.shift();
    const y = await result;
    if (y.shape[0] !== batchSize) throw new RangeError(`evaluate: the network returned ${y.shape[0]} rows for a batch of ${batchSize}; compile it with { batchSize: ${batchSize} }`);
    predicted.set(argmaxClasses(y, count), start);
    done += count;
    onBatch(done);
  };
  let start = 0;
  for (const { images, count } of minibatches(set, batchSize)) {
    const result = network.run(images);
    result.catch(() => {}); // a failure is thrown where it is awaited, not reported as unhandled first
    pending.push({ result, start, count });
    start += count;
    if (pending.length >= IN_FLIGHT) await settle();
  }
  while (pending.length) await settle();
  let correct = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === set.labels[i]) correct++;
  return { predicted, correct, total: n, accuracy: n ? correct / n : NaN };
}
