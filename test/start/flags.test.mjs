import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULTS, parseFlags, USAGE, UsageError } from '../../scripts/start/flags.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const none = { exists: () => false };
const all = { exists: () => true };

/** parseFlags(argv) must throw a UsageError with exit code 2 whose message matches `re`. */
function usage(argv, re, io = none) {
  try {
    parseFlags(argv, io);
  } catch (e) {
    assert.ok(e instanceof UsageError, `${argv.join(' ')}: ${e?.constructor?.name}: ${e?.message}`);
    assert.is(e.exitCode, 2);
    assert.match(e.message, re, `${argv.join(' ')}: ${e.message}`);
    return;
  }
  assert.unreachable(`${argv.join(' ')}: no UsageError`);
}

const flags = suite('parseFlags');

flags('no flags give the defaults', () => {
  assert.equal(parseFlags([], none), { help: false, ...DEFAULTS });
});

flags('every flag, in both --flag value and --flag=value forms', () => {
  const got = parseFlags(['--epochs', '12', '--batch-size=64', '--backend', 'wasm', '--out=/tmp/o', '--seed', '0'], none);
  assert.equal(got, { ...DEFAULTS, help: false, epochs: 12, batchSize: 64, backend: 'wasm', out: '/tmp/o', seed: 0 });
  assert.is(parseFlags(['--predict=m.npz', '--out', 'o'], all).predict, 'm.npz');
  assert.is(parseFlags(['--backend', 'webgpu'], none).backend, 'webgpu');
  assert.is(parseFlags(['--limit', '400', '--test-limit=50'], none).limit, 400);
  assert.is(parseFlags(['--size', 'small'], none).size, 'small');
  assert.is(parseFlags(['--learning-rate', '0.01'], none).learningRate, 0.01);
  assert.is(parseFlags(['--seed', '4294967295'], none).seed, 2 ** 32 - 1);
  assert.is(parseFlags(['--size', 'deep64'], none).size, 'deep64');
});

flags('--help and -h ask for the usage, which lists every flag', () => {
  assert.ok(parseFlags(['--help'], none).help);
  assert.ok(parseFlags(['-h'], none).help);
  for (const f of ['--epochs N', '--batch-size B', '--backend NAME', '--out DIR', '--seed S', '--predict FILE.npz', '--help']) assert.ok(USAGE.includes(f), f);
});

flags('numbers: only plain decimal integers in range', () => {
  for (const bad of ['0', '-1', '1.5', '1e3', '0x10', '', ' 3', '3 ', '1001', 'ten', '99999999999999999999']) {
    const want = `--epochs requires an integer from 1 to 1000, but got ${JSON.stringify(bad)}`;
    usage([`--epochs=${bad}`], new RegExp(`^${want.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  }
  usage(['--batch-size', '4097'], /--batch-size requires an integer from 1 to 4096, but got "4097"/);
  usage(['--batch-size=0'], /--batch-size requires an integer from 1 to 4096, but got "0"/);
  usage(['--seed=-5'], /--seed requires an integer from 0 to 4294967295, but got "-5"/);
});

flags('bad names and values: unknown flags, positionals, missing values, a boolean given a value', () => {
  usage(['--epoch', '3'], /^unknown flag --epoch; did you mean --epochs\?$/);
  usage(['--batch_size', '3'], /^unknown flag --batch_size; did you mean --batch-size\?$/);
  usage(['--momentum', '3'], /^unknown flag --momentum; the flags are --epochs, --batch-size, --backend, --out, --seed, --predict, --size, --learning-rate, --threads, --limit, --test-limit, --help$/);
  usage(['--learning-rate', 'fast'], /^--learning-rate requires a number in \(0, 10\], but got "fast"$/);
  usage(['--limit', '5'], /^--limit requires an integer from 10 to 60000, but got "5"$/);
  usage(['-x'], /unknown flag -x/);
  usage(['train'], /npm start takes only flags, but got the argument "train"/);
  usage(['--epochs'], /^--epochs requires a value$/);
  usage(['--epochs', '--seed', '3'], /^--epochs requires a value, but is followed by "--seed", which starts with a dash/);
  usage(['--epochs', '-1'], /^--epochs requires a value, but is followed by "-1", which starts with a dash \(write --epochs=-1 if that is the value\)$/);
  usage(['--help=yes'], /^--help takes no value$/);
  usage(['--backend', 'cuda'], /--backend requires one of auto, webgpu, wasm, but got "cuda"/);
  usage(['--out='], /--out requires a directory, but got an empty string/);
});

flags('--predict: a .npz file that exists, and not together with --epochs', () => {
  usage(['--predict', 'model.npy'], /--predict requires a \.npz file .*"model\.npy"/, all);
  usage(['--predict', 'gone.npz'], /--predict requires an existing file, but gone\.npz does not exist/, none);
  usage(['--predict', 'm.npz', '--epochs', '2'], /--epochs cannot go with it/, all);
  assert.is(parseFlags(['--predict', 'm.npz', '--batch-size', '10'], all).predict, 'm.npz');
});

flags.run();

const script = suite('scripts/start.mjs on the command line');
const start = (...args) => spawnSync(process.execPath, ['scripts/start.mjs', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

script('a bad flag: the message on stderr, nothing on stdout, exit code 2', () => {
  for (const [args, re] of [
    [['--batch-size', 'big'], /^npm start: --batch-size requires an integer from 1 to 4096, but got "big"\n\(npm start -- --help lists the flags\)\n$/],
    [['--bakend', 'wasm'], /^npm start: unknown flag --bakend; did you mean --backend\?/],
    [['--predict', 'nowhere.npz'], /^npm start: --predict requires an existing file, but nowhere\.npz does not exist/],
    [['--seed', '4294967296'], /^npm start: --seed requires an integer from 0 to 4294967295, but got "4294967296"/],
    [['--out', '/etc/passwd'], /^npm start: --out \/etc\/passwd cannot hold the results: it is a file, not a directory\n$/],
    [['--size', 'huge'], /^npm start: --size requires one of small, large, wide, deep, deep64, but got "huge"/],
  ]) {
    const r = start(...args);
    assert.is(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.is(r.stdout, '');
  }
});

script('--help prints the usage and exits 0', () => {
  const r = start('--help');
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith(USAGE), r.stdout);
  assert.is(r.stderr, '');
});

script.run();
