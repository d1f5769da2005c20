// npm start's command line: node:util parseArgs, every value checked, a UsageError (exit code 2,
// as getopt-style tools do) for anything wrong, naming the flag, the rule and the value.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SIZES } from './model.mjs';

/** A bad command line; the script prints the message and exits with `exitCode`. */
export class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = 2;
  }
}

/** Defaults of the flags (what `npm start` does with none). */
export const DEFAULTS = Object.freeze({
  epochs: null, batchSize: 128, backend: 'auto', out: 'start-out', seed: 2026, predict: null, size: null, learningRate: null, limit: null, testLimit: null, threads: null,
});

const BACKENDS = ['auto', 'webgpu', 'wasm'];
/** The largest seed: lasagne.random.RandomState takes NumPy's seeds, 0 to 2**32 - 1. */
const MAX_SEED = 2 ** 32 - 1;
const MAX_EPOCHS = 1000;
const MAX_BATCH = 4096;

/** The text of `--help`. */
export const USAGE = `Usage: npm start -- [flags]

Trains a Lasagne-style cuda-convnet classifier on Fashion-MNIST (Debian's dataset-fashion-mnist),
then prints the test accuracy and a confusion summary, saves the weights and draws pictures.

  --epochs N          passes over the training images (1-${MAX_EPOCHS}; default 10 on a GPU, 5 on WASM)
  --batch-size B      images per step (1-${MAX_BATCH}; default ${DEFAULTS.batchSize})
  --backend NAME      auto | webgpu | wasm (default ${DEFAULTS.backend}: compile()'s choice)
  --out DIR           where the weights (model.npz) and pictures go (default ${DEFAULTS.out})
  --seed S            seed of the initial weights and the batch order (0-${MAX_SEED}, NumPy's range; default ${DEFAULTS.seed})
  --predict FILE.npz  evaluate saved weights on the test images instead of training
  --size NAME         ${Object.keys(SIZES).join(' | ')}: the network (default deep64 on a GPU, small on WASM;
                      examples/web/model.js SIZES lists their layers)
  --learning-rate LR  the initial learning rate, decayed to 0 by a cosine (default 0.05)
  --threads N         WASM: worker threads to split each batch over (default: the logical processors, at most 8)
  --limit N           train on the first N images only (and N/10 for validation)
  --test-limit N      test on the first N test images only
  -h, --help          this text
`;

const OPTIONS = {
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
  seed: { type: 'string' },
  predict: { type: 'string' },
  size: { type: 'string' },
  'learning-rate': { type: 'string' },
  threads: { type: 'string' },
  limit: { type: 'string' },
  'test-limit': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** A decimal integer from `min` to `max`, written plainly (no sign, exponent, fraction or hex). */
function integer(flag, text, min, max) {
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${flag} requires an integer from ${min} to ${max}, but got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** Levenshtein distance, for suggesting the flag a typo meant. */
function distance(a, b) {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** Rewords parseArgs' own errors (unknown flag, missing value) in this script's terms. */
function reword(e, argv) {
  const known = Object.keys(OPTIONS).map((k) => `--${k}`).join(', ');
  const quoted = /'(-[^']*)'/.exec(e.message)?.[1] ?? '';
  const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const near = Object.keys(OPTIONS).map((k) => `--${k}`).find((k) => distance(k, flag.replace(/_/g, '-')) <= 2);
      return new UsageError(`unknown flag ${flag}; ${near ? `did you mean ${near}?` : `the flags are ${known}`}`);
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(e.message)) return new UsageError(`${flag} takes no value`);
      if (/ambiguous/.test(e.message)) {
        const next = argv[argv.indexOf(flag) + 1];
        return new UsageError(`${flag} requires a value, but is followed by ${JSON.stringify(next)}, which starts with a dash (write ${flag}=${next} if that is the value)`);
      }
      return new UsageError(`${flag} requires a value`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`npm start takes only flags, but got the argument ${JSON.stringify(/'([^']*)'/.exec(e.message)?.[1] ?? '')}; the flags are ${known}`);
    default:
      return e;
  }
}

/**
 * Parses npm start's flags.
 *
 * @param {string[]} argv the arguments after the script (process.argv.slice(2))
 * @param {{ exists?: (path: string) => boolean }} [io] how to check that --predict's file exists
 * @returns {{ help: boolean, epochs: number, batchSize: number, backend: 'auto' | 'webgpu' | 'wasm',
 *   out: string, seed: number, predict: string | null, size: string | null, learningRate: number | null,
 *   limit: number | null, testLimit: number | null }} (null: the default chosen by the backend)
 * @throws UsageError for an unknown flag, a missing or bad value, --predict of a missing file, or
 *   --predict with --epochs (evaluating trains nothing)
 */
export function parseFlags(argv, { exists = existsSync } = {}) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw reword(e, argv);
  }
  const flags = { help: values.help === true, ...DEFAULTS };
  if (flags.help) return flags;
  if (values.epochs !== undefined) flags.epochs = integer('epochs', values.epochs, 1, MAX_EPOCHS);
  if (values['batch-size'] !== undefined) flags.batchSize = integer('batch-size', values['batch-size'], 1, MAX_BATCH);
  if (values.seed !== undefined) flags.seed = integer('seed', values.seed, 0, MAX_SEED);
  if (values.threads !== undefined) flags.threads = integer('threads', values.threads, 1, 64);
  if (values.limit !== undefined) flags.limit = integer('limit', values.limit, 10, 60000);
  if (values['test-limit'] !== undefined) flags.testLimit = integer('test-limit', values['test-limit'], 1, 10000);
  if (values.size !== undefined) {
    if (!Object.hasOwn(SIZES, values.size)) throw new UsageError(`--size requires one of ${Object.keys(SIZES).join(', ')}, but got ${JSON.stringify(values.size)}`);
    flags.size = values.size;
  }
  if (values['learning-rate'] !== undefined) {
    const text = values['learning-rate'];
    const lr = Number(text);
    if (!/^[0-9.eE+-]+$/.test(text) || !Number.isFinite(lr) || lr <= 0 || lr > 10) throw new UsageError(`--learning-rate requires a number in (0, 10], but got ${JSON.stringify(text)}`);
    flags.learningRate = lr;
  }
  if (values.backend !== undefined) {
    if (!BACKENDS.includes(values.backend)) throw new UsageError(`--backend requires one of ${BACKENDS.join(', ')}, but got ${JSON.stringify(values.backend)}`);
    flags.backend = values.backend;
  }
  if (values.out !== undefined) {
    if (values.out === '') throw new UsageError('--out requires a directory, but got an empty string');
    flags.out = values.out;
  }
  if (values.predict !== undefined) {
    if (!values.predict.endsWith('.npz')) throw new UsageError(`--predict requires a .npz file (as saveNpz writes), but got ${JSON.stringify(values.predict)}`);
    if (!exists(values.predict)) throw new UsageError(`--predict requires an existing file, but ${values.predict} does not exist`);
    if (values.epochs !== undefined) throw new UsageError('--predict evaluates saved weights without training, so --epochs cannot go with it');
    flags.predict = values.predict;
  }
  return flags;
}
