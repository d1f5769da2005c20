import { DOMParser } from '@xmldom/xmldom';
import pngjs from 'pngjs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from '../../scripts/start/font.mjs';
import { curvesSvg, filtersPng, niceTicks, predictionsPng, Raster } from '../../scripts/start/pictures.mjs';

const decode = (bytes) => pngjs.PNG.sync.read(Buffer.from(bytes));
const pixel = (png, x, y) => Array.from(png.data.subarray(4 * (y * png.width + x), 4 * (y * png.width + x) + 3));
const same = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** Deterministic values in [-1, 1). */
const noise = (n, seed) => Float32Array.from({ length: n }, (_, i) => (((i + 1) * 2654435761 * (seed + 1)) % 2 ** 32) / 2 ** 31 - 1);

const font = suite('font');

font('every glyph has 5 x 7 pixels; lower case draws as capitals, unknown characters as ?', () => {
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -/.,:%()=+?x') {
    assert.is(glyph(c).length, GLYPH_WIDTH * GLYPH_HEIGHT, c);
  }
  assert.equal(glyph('a'), glyph('A'));
  assert.equal(glyph('~'), glyph('?'));
  assert.not.equal(glyph('O'), glyph('0'));
  assert.is(textWidth('ABC'), 3 * ADVANCE - 1);
  assert.is(textWidth('ABC', 2), 2 * (3 * ADVANCE - 1));
  assert.is(textWidth(''), 0);
});

font('Raster.text puts ink where the glyph has it, at the scale asked', () => {
  const r = new Raster(20, 10, [0, 0, 0]);
  r.text(1, 1, 'L', [255, 0, 0], 1);
  // 'L': a left column and a bottom row
  const png = decode(r.png());
  assert.equal(pixel(png, 1, 1), [255, 0, 0]);
  assert.equal(pixel(png, 1, 7), [255, 0, 0]);
  assert.equal(pixel(png, 5, 7), [255, 0, 0]);
  assert.equal(pixel(png, 3, 3), [0, 0, 0]);
  assert.throws(() => new Raster(0, 5), /positive integers/);
  assert.throws(() => new Raster(1 << 14, 1 << 14), /2\^26 pixels/);
});

font.run();

const filters = suite('filtersPng');

filters('a grid of F grey tiles for one input channel: size, each filter scaled to its own range, different weights differ', () => {
  const [f, k, scale] = [32, 5, 8];
  const W = { data: noise(f * k * k, 1), shape: [f, 1, k, k] };
  const bytes = filtersPng(W);
  const png = decode(bytes);
  // 8 columns (the first divisor of 32 from ceil(sqrt(32)) = 6 up), 4 rows; 4-pixel gaps
  assert.is(png.width, 4 + 8 * (k * scale + 4));
  assert.is(png.height, 4 + 4 * (k * scale + 4));
  for (const i of [0, 7, 31]) {
    const w = W.data.subarray(i * 25, (i + 1) * 25);
    const lo = Math.min(...w);
    const hi = Math.max(...w);
    const [x0, y0] = [4 + (i % 8) * (k * scale + 4), 4 + Math.floor(i / 8) * (k * scale + 4)];
    for (const j of [0, 6, 24]) {
      const want = Math.round((255 * (w[j] - lo)) / (hi - lo));
      const [x, y] = [x0 + (j % k) * scale + scale - 1, y0 + Math.floor(j / k) * scale + scale - 1];
      assert.equal(pixel(png, x, y), [want, want, want], `filter ${i}, weight ${j}`);
    }
  }
  assert.not.ok(same(bytes, filtersPng({ data: noise(f * k * k, 2), shape: [f, 1, k, k] })));
  // a title adds a band on top
  assert.is(decode(filtersPng(W, { title: 'conv1' })).height, png.height + 2 * GLYPH_HEIGHT + 8);
});

filters('three input channels make RGB tiles; other counts put a filter\'s channels side by side', () => {
  const rgb = decode(filtersPng({ data: noise(4 * 3 * 9, 3), shape: [4, 3, 3, 3] }, { scale: 2 }));
  assert.is(rgb.width, 4 + 2 * (6 + 4));
  // 7 filters: no divisor from 3 to 6, so ceil(sqrt(7)) = 3 columns, 3 rows
  const seven = decode(filtersPng({ data: noise(7 * 9, 3), shape: [7, 1, 3, 3] }, { scale: 2 }));
  assert.equal([seven.width, seven.height], [4 + 3 * (6 + 4), 4 + 3 * (6 + 4)]);
  const two = decode(filtersPng({ data: noise(4 * 2 * 9, 3), shape: [4, 2, 3, 3] }, { scale: 2, columns: 4 }));
  assert.is(two.width, 4 + 4 * (2 * 7 - 1 + 4));
  assert.is(two.height, 4 + 1 * (6 + 4));
  // a constant filter is drawn (black), not divided by zero
  const flat = decode(filtersPng({ data: new Float32Array(16 * 9).fill(0.5), shape: [16, 1, 3, 3] }, { scale: 1 }));
  assert.equal(pixel(flat, 4, 4), [0, 0, 0]);
});

filters('W that is not a rank-4 float32 NDArray is refused', () => {
  assert.throws(() => filtersPng({ data: new Float32Array(25), shape: [1, 5, 5] }), /rank 4/);
  assert.throws(() => filtersPng({ data: new Float32Array(24), shape: [1, 1, 5, 5] }), /24 values for shape \(1, 1, 5, 5\)/);
  assert.throws(() => filtersPng({ data: [1], shape: [1, 1, 1, 1] }), TypeError);
});

filters.run();

const predictions = suite('predictionsPng');

const images = (n, seed) => ({ data: noise(n * 28 * 28, seed).map((v) => (v + 1) / 2), shape: [n, 1, 28, 28] });
const NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

predictions('a grid of images framed green (right) or red (wrong), with both labels in text: size and pixels', () => {
  const x = images(10, 4);
  const truth = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const predicted = [0, 1, 2, 4, 4, 5, 6, 7, 8, 0];
  const bytes = predictionsPng(x, predicted, truth, NAMES, { columns: 5, title: null });
  const png = decode(bytes);
  // a cell: as wide as the longest name at text scale 2 ('T-shirt/top': 11 * 12 - 2 = 130) + 12, as high as image + 6 + 2 lines of 18 + 12
  const cellW = 130 + 12;
  const cellH = 112 + 6 + 36 + 12;
  assert.is(png.width, 12 + 5 * cellW);
  assert.is(png.height, 12 + 2 * cellH);
  for (const i of [0, 3, 9]) {
    const ix = 12 + (i % 5) * cellW + Math.floor((cellW - 12 - 112) / 2);
    const iy = 12 + Math.floor(i / 5) * cellH;
    const frame = pixel(png, ix - 1, iy + 10);
    assert.equal(frame, predicted[i] === truth[i] ? [80, 200, 100] : [235, 70, 60], `frame of image ${i}`);
    const v = Math.round(255 * x.data[i * 784 + 2 * 28 + 3]);
    assert.equal(pixel(png, ix + 3 * 4 + 1, iy + 2 * 4 + 1), [v, v, v], `pixel of image ${i}`);
    // the predicted name's first letter starts at the cell's left edge, in the frame's colour
    const labelY = iy + 112 + 6;
    let inked = false;
    for (let yy = labelY; yy < labelY + 14; yy++) for (let xx = 12 + (i % 5) * cellW; xx < 12 + (i % 5) * cellW + 10; xx++) inked ||= pixel(png, xx, yy).join() === frame.join();
    assert.ok(inked, `label of image ${i}`);
  }
  const other = predictionsPng(x, [1, 1, 2, 4, 4, 5, 6, 7, 8, 0], truth, NAMES, { columns: 5, title: null });
  assert.is(decode(other).width, png.width);
  assert.not.ok(same(bytes, other));
  assert.not.ok(same(bytes, predictionsPng(images(10, 5), predicted, truth, NAMES, { columns: 5, title: null })));
});

predictions('bad arguments are refused naming what is wrong', () => {
  const x = images(2, 1);
  assert.throws(() => predictionsPng(x, [0], [0, 1], NAMES), /2 images need 2 predicted and true classes, but got 1 and 2/);
  assert.throws(() => predictionsPng(x, [0, 10], [0, 1], NAMES), /predicted\[1\] must be a class from 0 to 9, but is 10/);
  assert.throws(() => predictionsPng({ data: new Float32Array(2 * 2 * 4), shape: [2, 2, 2, 2] }, [0, 1], [0, 1], NAMES), /1 or 3 channels, but have 2/);
});

predictions.run();

const curves = suite('curvesSvg');

const parse = (svg) => new DOMParser().parseFromString(svg, 'image/svg+xml');
const history = (n, shift = 0) => Array.from({ length: n }, (_, i) => ({
  epoch: i + 1, trainLoss: 1 / (i + 1) + shift, validationLoss: 1.1 / (i + 1), validationAccuracy: 0.8 + i * 0.01, trainAccuracy: 0.79 + i * 0.012,
}));

curves('niceTicks: round steps covering the range', () => {
  assert.equal(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.equal(niceTicks(0.23, 0.91, 5), [0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(niceTicks(78, 92, 5), [75, 80, 85, 90, 95]);
  const flat = niceTicks(1.2, 1.2);
  assert.ok(flat[0] < 1.2 && flat.at(-1) > 1.2, String(flat));
});

curves('a well-formed 980 x 400 SVG: two panels with axis labels, one line per series with a point per epoch', () => {
  const svg = curvesSvg(history(6), { testAccuracy: 0.9 });
  const doc = parse(svg);
  const root = doc.documentElement;
  assert.is(root.tagName, 'svg');
  assert.is(root.getAttribute('width'), '980');
  assert.is(root.getAttribute('height'), '400');
  const lines = Array.from(root.getElementsByTagName('polyline'));
  assert.equal(lines.map((l) => l.getAttribute('data-name')), ['training loss', 'validation loss', 'training accuracy', 'validation accuracy', 'test accuracy 90.00%']);
  assert.equal(lines.map((l) => l.getAttribute('points').split(' ').length), [6, 6, 6, 6, 1]);
  const texts = Array.from(root.getElementsByTagName('text'), (t) => t.textContent);
  for (const label of ['loss', 'accuracy', 'epoch', 'cross-entropy loss', 'accuracy (%)']) assert.ok(texts.includes(label), label);
  // the loss falls, so its line goes down the screen (SVG y grows downwards)
  const ys = lines[0].getAttribute('points').split(' ').map((p) => Number(p.split(',')[1]));
  for (let i = 1; i < ys.length; i++) assert.ok(ys[i] > ys[i - 1], `point ${i}`);
});

curves('one epoch, missing series and running losses within epochs', () => {
  const doc = parse(curvesSvg([{ epoch: 1, trainLoss: 2.3 }], { stepLosses: [[0.5, 2.2], [1, 2.0]] }));
  const lines = Array.from(doc.getElementsByTagName('polyline'));
  assert.equal(lines.map((l) => l.getAttribute('data-name')), ['training loss', 'running loss in epoch']);
  assert.is(doc.getElementsByTagName('g').length, 1);
});

curves('different histories give different pictures; titles are escaped', () => {
  assert.is.not(curvesSvg(history(3)), curvesSvg(history(3, 0.1)));
  const doc = parse(curvesSvg(history(2), { title: 'a < b & "c"' }));
  assert.is(doc.getElementsByTagName('title')[0].textContent, 'a < b & "c"');
});

curves('bad histories are refused', () => {
  assert.throws(() => curvesSvg([]), /at least one epoch/);
  assert.throws(() => curvesSvg([{ epoch: 1, trainLoss: NaN }]), /history\[0\] needs a finite epoch and trainLoss/);
  assert.throws(() => curvesSvg(history(1), { stepLosses: [[1]] }), /stepLosses\[0\] must be \[epoch, loss\]/);
});

curves.run();
