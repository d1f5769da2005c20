// The planner's exports tested through the wasm (src/planner/planner.ts's `wasm`), and the
// TypeScript wrappers that turn its codes into Lasagne's errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { wasm, CODES, convOutputLength, convGridLength, poolOutputLength, resolvePad, partialSum } from '../../dist/planner/planner.js';
import { ValueError } from '../../dist/errors.js';

const PAD = { int: 0, valid: 1, full: 2, same: 3 };

const shapes = suite('planner shape functions (wasm)');

shapes('conv_output_length gives Lasagne\'s test_conv_output_length values', () => {
  assert.is(wasm.conv_output_length(13, 5, 3, PAD.valid, 0), 3);
  assert.is(wasm.conv_output_length(13, 5, 3, PAD.int, 0), 3);
  assert.is(wasm.conv_output_length(13, 5, 3, PAD.full, 0), 6);
  assert.is(wasm.conv_output_length(13, 5, 3, PAD.same, 0), 5);
  assert.is(wasm.conv_output_length(13, 5, 3, PAD.int, 2), 5);
  assert.is(wasm.conv_output_length(13, 5, 3, 7, 0), CODES.E_BAD_PAD_MODE);
});

shapes('conv_input_length gives Lasagne\'s test_conv_input_length values', () => {
  assert.is(wasm.conv_input_length(2, 3, 1, PAD.valid, 0), 4);
  assert.is(wasm.conv_input_length(2, 3, 1, PAD.int, 0), 4);
  assert.is(wasm.conv_input_length(6, 4, 1, PAD.int, 2), 5);
  assert.is(wasm.conv_input_length(2, 3, 2, PAD.int, 0), 5);
  assert.is(wasm.conv_input_length(3, 3, 2, PAD.same, 0), 5);
  assert.is(wasm.conv_input_length(3, 3, 2, PAD.full, 0), 3);
});

shapes('None (0) passes through every shape function', () => {
  assert.is(wasm.conv_output_length(0, 3, 1, PAD.int, 1), 0);
  assert.is(wasm.conv_grid_length(0, 3, 2, 1), 0);
  assert.is(wasm.pool_output_length(0, 2, 2, 0, 0), 0);
  assert.is(convOutputLength(null, 3, 1, 'same'), null);
});

// The §2.1 table of the reference: input 11 x 16, k = 3; Lasagne's length and cuda-convnet's grid.
const table = [
  [0, 1, [9, 14], [9, 14]], [0, 2, [5, 7], [5, 8]], [0, 3, [3, 5], [4, 6]],
  [1, 2, [6, 8], [6, 9]], [1, 3, [4, 6], [5, 6]], [2, 2, [7, 9], [7, 10]], [2, 3, [5, 6], [5, 7]],
  ['full', 2, [7, 9], [7, 10]], ['full', 3, [5, 6], [5, 7]], ['same', 2, [6, 8], [6, 9]], ['same', 3, [4, 6], [5, 6]],
];
shapes('Lasagne lengths and the untruncated cuda-convnet grid match the reference table', () => {
  for (const [pad, s, lasagne, cc] of table) {
    const p = resolvePad(3, pad);
    assert.equal([convOutputLength(11, 3, s, pad), convOutputLength(16, 3, s, pad)], lasagne, `pad ${pad} stride ${s}`);
    assert.equal([convGridLength(11, 3, s, p), convGridLength(16, 3, s, p)], cc, `grid pad ${pad} stride ${s}`);
  }
  // k = 1, s = 1 with pad 0, 1, 2, full, same
  const k1 = [0, 1, 2, 'full', 'same'].map((pad) => [convOutputLength(11, 1, 1, pad), convOutputLength(16, 1, 1, pad)]);
  assert.equal(k1, [[11, 16], [13, 18], [15, 20], [11, 16], [11, 16]]);
});

shapes('the grid equals the Lasagne length exactly when (I + 2p - k) % s == 0', () => {
  for (let i = 1; i <= 40; i++) for (let k = 1; k <= 7; k++) for (let s = 1; s <= k; s++) for (let p = 0; p < k; p++) {
    if (i + 2 * p < k) continue;
    const lasagne = wasm.conv_output_length(i, k, s, PAD.int, p);
    const grid = wasm.conv_grid_length(i, k, s, p);
    assert.ok(grid >= lasagne);
    assert.is(grid === lasagne, (i + 2 * p - k) % s === 0, `I=${i} k=${k} s=${s} p=${p}`);
  }
});

shapes('pool_output_length matches Lasagne\'s formula and the pylearn2 formula for I >= P', () => {
  // Lasagne's test_pool sizes on 16
  assert.equal([[2, 1], [2, 2], [3, 1], [3, 2], [3, 3]].map(([p, s]) => wasm.pool_output_length(16, p, s, 0, 0)), [15, 8, 14, 8, 6]);
  for (let i = 1; i <= 50; i++) for (let p = 1; p <= 6; p++) for (let s = 1; s <= p; s++) {
    const lasagne = s >= p ? Math.ceil(i / s) : Math.max(0, Math.floor((i - p + s - 1) / s)) + 1;
    assert.is(wasm.pool_output_length(i, p, s, 0, 0), lasagne, `I=${i} P=${p} s=${s}`);
    if (i >= p) assert.is(lasagne, Math.ceil((i - p) / s) + 1);
  }
  assert.is(wasm.pool_output_length(10, 3, 2, 1, 0), CODES.E_POOL_PADDING);
  assert.is(wasm.pool_output_length(10, 3, 2, 1, 1), 5); // ignore_border: ceil((10 + 2 - 3 + 1) / 2)
});

shapes('an empty output is an error, not a non-positive length', () => {
  assert.is(wasm.conv_output_length(2, 5, 1, PAD.int, 0), CODES.E_EMPTY_OUTPUT);
  assert.throws(() => convOutputLength(2, 5, 1, 0), (e) => e instanceof ValueError && /empty output/.test(e.message));
  assert.is(wasm.conv_grid_length(2, 5, 1, 0), CODES.E_EMPTY_OUTPUT);
});

shapes('resolve_pad gives 0, k // 2, k - 1 and refuses negative pads', () => {
  assert.is(wasm.resolve_pad(5, PAD.valid, 0), 0);
  assert.is(wasm.resolve_pad(5, PAD.same, 0), 2);
  assert.is(wasm.resolve_pad(5, PAD.full, 0), 4);
  assert.is(wasm.resolve_pad(5, PAD.int, 3), 3);
  assert.is(wasm.resolve_pad(5, PAD.int, -1), CODES.E_PAD_NEGATIVE);
  assert.throws(() => resolvePad(5, -1), (e) => e instanceof ValueError && /bad value of pad \(must be non-negative\): -1/.test(e.message));
});

shapes('the wrappers refuse lengths the i32 arithmetic cannot hold', () => {
  assert.throws(() => convOutputLength(2 ** 29, 3, 1, 0), (e) => e instanceof ValueError && /2\^28/.test(e.message));
  assert.throws(() => poolOutputLength(1.5, 2, 2, 0, false), (e) => e instanceof ValueError && /input_length/.test(e.message));
});

const checks = suite('planner constraint checks (wasm)');

checks('check_conv reports Lasagne\'s first failing rule, in Lasagne\'s order', () => {
  const ok = [16, 3, 3, 3, 1, 1, PAD.int, 0, 0];
  assert.is(wasm.check_conv(...ok), CODES.OK);
  assert.is(wasm.check_conv(15, 7, 3, 5, 1, 2, PAD.int, 1, 2), CODES.E_FILTER_NOT_SQUARE);
  assert.is(wasm.check_conv(15, 7, 3, 3, 1, 2, PAD.int, 1, 2), CODES.E_STRIDE_NOT_SQUARE);
  assert.is(wasm.check_conv(15, 7, 3, 3, 1, 1, PAD.int, 1, 2), CODES.E_NUM_FILTERS);
  assert.is(wasm.check_conv(16, 7, 3, 3, 1, 1, PAD.int, 1, 2), CODES.E_CHANNELS);
  assert.is(wasm.check_conv(16, 8, 3, 3, 1, 1, PAD.int, 1, 2), CODES.E_PAD_NOT_SQUARE);
  assert.is(wasm.check_conv(16, 8, 3, 3, 1, 1, PAD.int, -1, -1), CODES.E_PAD_NEGATIVE);
  assert.is(wasm.check_conv(16, 0, 3, 3, 1, 1, PAD.int, 0, 0), CODES.E_CHANNELS_UNKNOWN);
  for (const c of [1, 2, 3, 4, 8, 12, 64]) assert.is(wasm.check_conv(16, c, 3, 3, 1, 1, PAD.same, 0, 0), CODES.OK, `C=${c}`);
  for (const c of [5, 6, 7, 9, 10, 30]) assert.is(wasm.check_conv(16, c, 3, 3, 1, 1, PAD.same, 0, 0), CODES.E_CHANNELS, `C=${c}`);
});

checks('check_conv_early refuses even filters with same padding and non-positive sizes', () => {
  assert.is(wasm.check_conv_early(4, 4, 1, 1, PAD.same), CODES.E_SAME_EVEN_FILTER);
  assert.is(wasm.check_conv_early(3, 3, 1, 1, PAD.same), CODES.OK);
  assert.is(wasm.check_conv_early(4, 4, 1, 1, PAD.full), CODES.OK);
  assert.is(wasm.check_conv_early(0, 3, 1, 1, PAD.int), CODES.E_FILTER_NONPOSITIVE);
  assert.is(wasm.check_conv_early(3, 3, 0, 1, PAD.int), CODES.E_STRIDE_NONPOSITIVE);
});

checks('check_pool follows MaxPool2DCCLayer\'s order of checks', () => {
  assert.is(wasm.check_pool(0, 0, 2, 2, 2, 2, 0), CODES.OK);
  assert.is(wasm.check_pool(2, 2, 2, 3, 1, 2, 1), CODES.E_POOL_PADDING);
  assert.is(wasm.check_pool(0, 0, 2, 3, 1, 2, 1), CODES.E_POOL_NOT_SQUARE);
  assert.is(wasm.check_pool(0, 0, 2, 2, 1, 2, 1), CODES.E_POOL_STRIDE_NOT_SQUARE);
  assert.is(wasm.check_pool(0, 0, 2, 2, 3, 3, 1), CODES.E_POOL_STRIDE_GT_POOL);
  assert.is(wasm.check_pool(0, 0, 2, 2, 2, 2, 1), CODES.E_POOL_IGNORE_BORDER);
  assert.is(wasm.check_pool(0, 0, 0, 0, 0, 0, 0), CODES.E_POOL_NONPOSITIVE);
});

checks('run-time rules: stride <= filter size, pooling region within the image (non-square allowed)', () => {
  assert.is(wasm.check_conv_run(3, 3), CODES.OK);
  assert.is(wasm.check_conv_run(3, 4), CODES.E_STRIDE_GT_FILTER);
  assert.is(wasm.check_pool_run(3, 3, 7), CODES.OK);
  assert.is(wasm.check_pool_run(3, 2, 7), CODES.E_POOL_GT_IMAGE);
});

const ps = suite('planner partial_sum (wasm)');

ps('partial_sum must divide the untruncated module count; 0 means all modules', () => {
  assert.is(wasm.partial_sum_effective(4, 6, 1), 1);
  assert.is(wasm.partial_sum_effective(4, 6, 8), 8);
  assert.is(wasm.partial_sum_effective(4, 6, 0), 24);
  assert.is(wasm.partial_sum_effective(4, 6, 5), CODES.E_PARTIAL_SUM);
  assert.is(wasm.partial_sum_effective(4, 6, -2), CODES.E_PARTIAL_SUM_NEGATIVE);
  // 11 x 16 input, k = 3, s = 3, pad 0: Lasagne output 3 x 5 = 15 positions, cuda-convnet grid 4 x 6 = 24.
  const [r, c] = [convGridLength(11, 3, 3, 0), convGridLength(16, 3, 3, 0)];
  assert.is(r * c, 24);
  assert.is(wasm.partial_sum_effective(r, c, 15), CODES.E_PARTIAL_SUM, '15 divides Lasagne\'s 15 positions but not the grid');
  assert.is(wasm.partial_sum_effective(r, c, 12), 12);
});

ps('scratch bytes are 4 (M / P) C k^2 F, and none when P = M', () => {
  // the reference's example: 32 x 32 output, C = F = 64, k = 3, P = 1: about 151 MB
  assert.is(wasm.partial_sum_scratch_bytes(32, 32, 1, 64, 3, 64), 1024 * 64 * 9 * 64 * 4);
  assert.is(wasm.partial_sum_scratch_bytes(32, 32, 4, 64, 3, 64), 256 * 64 * 9 * 64 * 4);
  assert.is(wasm.partial_sum_scratch_bytes(32, 32, 0, 64, 3, 64), 0);
  assert.is(wasm.partial_sum_scratch_bytes(32, 32, 1024, 64, 3, 64), 0);
  assert.is(wasm.partial_sum_scratch_bytes(32, 32, 3, 64, 3, 64), CODES.E_PARTIAL_SUM);
});

ps('the wrapper raises pylearn2\'s ValueError with both numbers', () => {
  assert.equal(partialSum('conv', 4, 6, 4, 3, 3, 16), { effective: 4, scratchBytes: 6 * 3 * 9 * 16 * 4 });
  assert.throws(() => partialSum('conv', 4, 6, 5, 3, 3, 16),
    (e) => e instanceof ValueError && e.message.includes('partialSum must divide numModules, but partialSum=5 and numModules=24'));
});

shapes.run();
checks.run();
ps.run();
