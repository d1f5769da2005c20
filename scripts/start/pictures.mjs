// npm start's pictures: the first conv layer's filters (PNG grid), a grid of test images with their
// predicted and true classes (PNG, text in the 5 x 7 font of font.mjs), and the loss and accuracy
// curves (SVG, two panels with axes, ticks and a legend).
import pngjs from 'pngjs';
import { ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from './font.mjs';

const { PNG } = pngjs;

const BACKGROUND = [24, 24, 28];
const TEXT = [235, 235, 235];
const DIM = [150, 150, 160];
const RIGHT = [80, 200, 100];
const WRONG = [235, 70, 60];

/** An RGBA picture being drawn; `png()` encodes it. */
export class Raster {
  constructor(width, height, background = BACKGROUND) {
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0 && width * height <= 1 << 26)) {
      throw new RangeError(`Raster: width and height must be positive integers with at most 2^26 pixels, but got ${width} x ${height}`);
    }
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height * 4);
    this.rect(0, 0, width, height, background);
  }

  /** Colours pixel (x, y), or nothing when it lies outside. */
  set(x, y, [r, g, b]) {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = 4 * (y * this.width + x);
    this.data[i] = r;
    this.data[i + 1] = g;
    this.data[i + 2] = b;
    this.data[i + 3] = 255;
  }

  rect(x, y, w, h, color) {
    for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) this.set(xx, yy, color);
  }

  /** A frame `t` pixels thick just outside the box (x, y, w, h). */
  frame(x, y, w, h, t, color) {
    this.rect(x - t, y - t, w + 2 * t, t, color);
    this.rect(x - t, y + h, w + 2 * t, t, color);
    this.rect(x - t, y, t, h, color);
    this.rect(x + w, y, t, h, color);
  }

  /** `text` with its top-left corner at (x, y), each font pixel a `scale` x `scale` square. */
  text(x, y, text, color, scale = 1) {
    for (let c = 0; c < text.length; c++) {
      const ink = glyph(text[c]);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (ink[gy * GLYPH_WIDTH + gx]) this.rect(x + (c * ADVANCE + gx) * scale, y + gy * scale, scale, scale, color);
        }
      }
    }
  }

  /** A w x h image of values `at(i)` in [0, 1] (row-major; clamped) as `scale`-pixel grey squares, or colour with `rgb`. */
  image(x, y, w, h, scale, at) {
    for (let yy = 0; yy < h; yy++) {
      for (let xx = 0; xx < w; xx++) {
        const v = at(yy * w + xx);
        const c = Array.isArray(v) ? v.map(byte) : [byte(v), byte(v), byte(v)];
        this.rect(x + xx * scale, y + yy * scale, scale, scale, c);
      }
    }
  }

  /** The PNG file (8-bit RGBA). */
  png() {
    const png = new PNG({ width: this.width, height: this.height });
    png.data.set(this.data);
    return new Uint8Array(PNG.sync.write(png));
  }
}

const byte = (v) => Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)));

function checkNDArray(a, what, rank) {
  if (!a || !(a.data instanceof Float32Array) || !Array.isArray(a.shape) || a.shape.length !== rank) {
    throw new TypeError(`${what} must be an NDArray of rank ${rank} (Float32Array data), but got ${a && Array.isArray(a.shape) ? `shape (${a.shape.join(', ')})` : typeof a}`);
  }
  if (a.data.length !== a.shape.reduce((p, d) => p * d, 1)) throw new RangeError(`${what}: data has ${a.data.length} values for shape (${a.shape.join(', ')})`);
}

/**
 * The filters of a conv layer as a PNG grid: each filter scaled to its own range (min black, max
 * white), so its pattern shows whatever its size. With 3 input channels a filter is one RGB tile;
 * otherwise each (filter, channel) pair is a grey tile, a filter's channels side by side.
 *
 * @param {{ data: Float32Array, shape: number[] }} W (F, C, k, k), Conv2DCCLayer's W with dimshuffle
 * @param {{ title?: string, scale?: number, columns?: number }} [options] `scale`: screen pixels per
 *   weight (default 8); `columns`: filters per row (default about the square root of F, full rows if a divisor allows)
 * @returns {Uint8Array} the PNG file
 */
export function filtersPng(W, { title = null, scale = 8, columns = null } = {}) {
  checkNDArray(W, 'filtersPng: W', 4);
  const [f, c, kh, kw] = W.shape;
  const rgb = c === 3;
  const tilesPerFilter = rgb ? 1 : c;
  // about square, but full rows when a divisor of F allows (32 filters: 8 x 4, not 6 x 6 with 2 left)
  const side = Math.ceil(Math.sqrt(f));
  const cols = columns ?? (Array.from({ length: side + 1 }, (_, i) => side + i).find((c) => f % c === 0) ?? side);
  const rows = Math.ceil(f / cols);
  const gap = 4;
  const tileW = kw * scale;
  const tileH = kh * scale;
  const cellW = tilesPerFilter * (tileW + 1) - 1 + gap;
  const head = title ? GLYPH_HEIGHT * 2 + 2 * gap : 0;
  const width = Math.max(gap + cols * cellW, title ? textWidth(title, 2) + 2 * gap : 0);
  const r = new Raster(width, head + gap + rows * (tileH + gap));
  if (title) r.text(gap, gap, title, TEXT, 2);
  const per = c * kh * kw;
  for (let i = 0; i < f; i++) {
    const w = W.data.subarray(i * per, (i + 1) * per);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of w) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const span = hi - lo || 1;
    const norm = (v) => (v - lo) / span;
    const x0 = gap + (i % cols) * cellW;
    const y0 = head + gap + Math.floor(i / cols) * (tileH + gap);
    if (rgb) {
      r.image(x0, y0, kw, kh, scale, (j) => [norm(w[j]), norm(w[kh * kw + j]), norm(w[2 * kh * kw + j])]);
    } else {
      for (let ch = 0; ch < c; ch++) r.image(x0 + ch * (tileW + 1), y0, kw, kh, scale, (j) => norm(w[ch * kh * kw + j]));
    }
  }
  return r.png();
}

/**
 * Test images with their predicted and true classes: each image framed green (right) or red
 * (wrong), the predicted class below it in the same colour, the true class under that in grey.
 *
 * @param {{ data: Float32Array, shape: number[] }} images (N, 1, H, W) or (N, 3, H, W), values in [0, 1]
 * @param {ArrayLike<number>} predicted N classes
 * @param {ArrayLike<number>} truth N classes
 * @param {readonly string[]} classNames
 * @param {{ columns?: number, scale?: number, title?: string }} [options]
 * @returns {Uint8Array} the PNG file
 */
export function predictionsPng(images, predicted, truth, classNames, { columns = 8, scale = 4, title = 'predicted (green: right, red: wrong) / true class' } = {}) {
  checkNDArray(images, 'predictionsPng: images', 4);
  const [n, c, h, w] = images.shape;
  if (c !== 1 && c !== 3) throw new RangeError(`predictionsPng: images must have 1 or 3 channels, but have ${c}`);
  if (predicted.length !== n || truth.length !== n) throw new RangeError(`predictionsPng: ${n} images need ${n} predicted and true classes, but got ${predicted.length} and ${truth.length}`);
  for (const [what, a] of [['predicted', predicted], ['truth', truth]]) {
    for (let i = 0; i < n; i++) {
      if (!(Number.isInteger(a[i]) && a[i] >= 0 && a[i] < classNames.length)) throw new RangeError(`predictionsPng: ${what}[${i}] must be a class from 0 to ${classNames.length - 1}, but is ${a[i]}`);
    }
  }
  const textScale = 2;
  const lineH = GLYPH_HEIGHT * textScale + 4;
  const gap = 12;
  const longest = Math.max(...classNames.map((s) => textWidth(s, textScale)));
  const cellW = Math.max(w * scale, longest) + gap;
  const cellH = h * scale + 6 + 2 * lineH + gap;
  const cols = Math.min(columns, Math.max(1, n));
  const rows = Math.ceil(n / cols);
  const head = title ? lineH + gap : 0;
  const r = new Raster(Math.max(gap + cols * cellW, title ? textWidth(title, textScale) + 2 * gap : 0), head + gap + rows * cellH);
  if (title) r.text(gap, gap, title, TEXT, textScale);
  const per = c * h * w;
  for (let i = 0; i < n; i++) {
    const x0 = gap + (i % cols) * cellW;
    const y0 = head + gap + Math.floor(i / cols) * cellH;
    const img = images.data.subarray(i * per, (i + 1) * per);
    const ix = x0 + Math.floor((cellW - gap - w * scale) / 2);
    r.image(ix, y0, w, h, scale, c === 3 ? (j) => [img[j], img[h * w + j], img[2 * h * w + j]] : (j) => img[j]);
    const ok = predicted[i] === truth[i];
    r.frame(ix, y0, w * scale, h * scale, 2, ok ? RIGHT : WRONG);
    r.text(x0, y0 + h * scale + 6, classNames[predicted[i]], ok ? RIGHT : WRONG, textScale);
    r.text(x0, y0 + h * scale + 6 + lineH, classNames[truth[i]], DIM, textScale);
  }
  return r.png();
}

/** About `count` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.1 || 1;
    return niceTicks(lo - pad, hi + pad, count);
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const first = Math.floor(lo / step) * step;
  const ticks = [];
  for (let v = first; v < hi + step * 0.999; v += step) ticks.push(Number(v.toFixed(12)));
  return ticks;
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmtTick = (v, ticks) => {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(digits);
};

/**
 * One panel: axes with ticks and labels, a line per series (a dot per point), a legend.
 * series: [{ name, color, points: [[x, y], ...], thin? }] (a thin series has no dots)
 */
function panel(x0, y0, w, h, { title, xLabel, yLabel, series, yFormat = (v) => v }) {
  const m = { left: 60, right: 16, top: 34, bottom: 46 };
  const pw = w - m.left - m.right;
  const ph = h - m.top - m.bottom;
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xTicks = niceTicks(Math.min(0, ...xs), Math.max(1, ...xs), 6).filter((v) => Number.isInteger(v) || Math.max(...xs) <= 2);
  const yTicks = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  const [xMin, xMax] = [xTicks[0], xTicks.at(-1)];
  const [yMin, yMax] = [yTicks[0], yTicks.at(-1)];
  const X = (v) => x0 + m.left + ((v - xMin) / (xMax - xMin || 1)) * pw;
  const Y = (v) => y0 + m.top + ph - ((v - yMin) / (yMax - yMin || 1)) * ph;
  const out = [];
  out.push(`<g class="panel">`);
  out.push(`<text x="${x0 + m.left + pw / 2}" y="${y0 + 20}" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (const t of yTicks) {
    out.push(`<line x1="${X(xMin)}" y1="${Y(t)}" x2="${X(xMax)}" y2="${Y(t)}" stroke="#ddd"/>`);
    out.push(`<text x="${X(xMin) - 6}" y="${Y(t) + 4}" text-anchor="end" font-size="11">${esc(yFormat(fmtTick(t, yTicks)))}</text>`);
  }
  for (const t of xTicks) {
    out.push(`<line x1="${X(t)}" y1="${Y(yMin)}" x2="${X(t)}" y2="${Y(yMin) + 5}" stroke="#333"/>`);
    out.push(`<text x="${X(t)}" y="${Y(yMin) + 18}" text-anchor="middle" font-size="11">${esc(fmtTick(t, xTicks))}</text>`);
  }
  out.push(`<line x1="${X(xMin)}" y1="${Y(yMin)}" x2="${X(xMax)}" y2="${Y(yMin)}" stroke="#333"/>`);
  out.push(`<line x1="${X(xMin)}" y1="${Y(yMin)}" x2="${X(xMin)}" y2="${Y(yMax)}" stroke="#333"/>`);
  out.push(`<text x="${x0 + m.left + pw / 2}" y="${y0 + h - 8}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(${x0 + 16} ${y0 + m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`);
  series.forEach((s, k) => {
    if (s.points.length === 0) return;
    const pts = s.points.map(([px, py]) => `${X(px).toFixed(1)},${Y(py).toFixed(1)}`).join(' ');
    out.push(`<polyline class="series" data-name="${esc(s.name)}" points="${pts}" fill="none" stroke="${s.color}" stroke-width="${s.thin ? 1 : 2}"/>`);
    if (!s.thin) for (const [px, py] of s.points) out.push(`<circle cx="${X(px).toFixed(1)}" cy="${Y(py).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = y0 + m.top + 8 + k * 16;
    const lx = X(xMax) - 150;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${s.color}" stroke-width="${s.thin ? 1 : 2}"/>`);
    out.push(`<text x="${lx + 26}" y="${ly + 4}" font-size="11">${esc(s.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/**
 * The loss and accuracy curves as an SVG: loss per epoch on the left (training, and validation
 * when given), accuracy on the right (validation, training when given, the final test accuracy as
 * a point of its own).
 *
 * @param {Array<{ epoch: number, trainLoss: number, validationLoss?: number | null,
 *   validationAccuracy?: number | null, trainAccuracy?: number | null }>} history one entry per epoch
 * @param {{ testAccuracy?: number | null, stepLosses?: Array<[number, number]>, title?: string }} [options]
 *   accuracies are fractions in [0, 1]; `stepLosses`: [epoch + fraction done, running loss] pairs
 *   from within the epochs, drawn as a thin line (a run of one or two epochs has a curve too)
 * @returns {string} the SVG document
 */
export function curvesSvg(history, { testAccuracy = null, stepLosses = [], title = 'training on Fashion-MNIST' } = {}) {
  if (!Array.isArray(history) || history.length === 0) throw new RangeError('curvesSvg: history must list at least one epoch');
  for (const [i, e] of history.entries()) {
    if (!Number.isFinite(e.epoch) || !Number.isFinite(e.trainLoss)) throw new RangeError(`curvesSvg: history[${i}] needs a finite epoch and trainLoss, but has ${JSON.stringify(e)}`);
  }
  const pick = (key) => history.filter((e) => Number.isFinite(e[key])).map((e) => [e.epoch, e[key]]);
  const width = 980;
  const height = 400;
  for (const [i, p] of stepLosses.entries()) {
    if (!(Array.isArray(p) && p.length === 2 && p.every(Number.isFinite))) throw new RangeError(`curvesSvg: stepLosses[${i}] must be [epoch, loss], but is ${JSON.stringify(p)}`);
  }
  const losses = [{ name: 'training loss', color: '#1f77b4', points: pick('trainLoss') }];
  if (stepLosses.length) losses.push({ name: 'running loss in epoch', color: '#9ecae1', points: stepLosses, thin: true });
  if (pick('validationLoss').length) losses.push({ name: 'validation loss', color: '#ff7f0e', points: pick('validationLoss') });
  const pctOf = (pts) => pts.map(([x, y]) => [x, 100 * y]);
  const accs = [];
  if (pick('trainAccuracy').length) accs.push({ name: 'training accuracy', color: '#1f77b4', points: pctOf(pick('trainAccuracy')) });
  if (pick('validationAccuracy').length) accs.push({ name: 'validation accuracy', color: '#ff7f0e', points: pctOf(pick('validationAccuracy')) });
  if (Number.isFinite(testAccuracy)) accs.push({ name: `test accuracy ${(100 * testAccuracy).toFixed(2)}%`, color: '#2ca02c', points: [[history.at(-1).epoch, 100 * testAccuracy]] });
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    panel(0, 0, width / 2, height, { title: 'loss', xLabel: 'epoch', yLabel: 'cross-entropy loss', series: losses }),
  ];
  if (accs.length) parts.push(panel(width / 2, 0, width / 2, height, { title: 'accuracy', xLabel: 'epoch', yLabel: 'accuracy (%)', series: accs }));
  parts.push('</svg>\n');
  return parts.join('\n');
}
