// The page: draw or pick an image, see the class probabilities and the first-layer filters.
// Inference runs in a worker (spawnWorker) by default, or in the page (compile); `?backend=` and
// `?where=` preselect the controls. `window.demo` lets the tests drive it.
import * as lasagne from 'lasagne-webgpu';
import { CLASSES, firstFilters, loadClassifier, toProbabilities } from './model.js';

const $ = (id) => document.getElementById(id);
const pad = $('pad');
const ink = pad.getContext('2d');
const seen = $('seen').getContext('2d', { willReadFrequently: true });

// ---- the drawing pad ----

function clearPad() {
  ink.fillStyle = '#000';
  ink.fillRect(0, 0, pad.width, pad.height);
}
clearPad();

let drawing = false;
let last = null;
function point(e) {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
}
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  last = point(e);
  pad.setPointerCapture(e.pointerId);
  stroke(last, last);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const p = point(e);
  stroke(last, p);
  last = p;
  schedule();
});
pad.addEventListener('pointerup', () => {
  drawing = false;
  schedule();
});
function stroke(a, b) {
  ink.strokeStyle = '#fff';
  ink.lineWidth = 22;
  ink.lineCap = 'round';
  ink.lineJoin = 'round';
  ink.beginPath();
  ink.moveTo(a[0], a[1]);
  ink.lineTo(b[0], b[1]);
  ink.stroke();
}

// Samples drawn with paths on the 280 x 280 pad: polygons in 28 x 28 units, filled white.
const SAMPLES = {
  'T-shirt': [[8, 4], [11, 4], [14, 6], [17, 4], [20, 4], [26, 9], [23, 12], [20, 10], [20, 25], [8, 25], [8, 10], [5, 12], [2, 9]],
  Trouser: [[9, 3], [19, 3], [21, 26], [16, 26], [14, 10], [12, 26], [7, 26]],
  Dress: [[11, 3], [17, 3], [17, 8], [22, 26], [6, 26], [11, 8]],
  Sneaker: [[3, 14], [10, 12], [15, 15], [24, 17], [26, 21], [3, 21]],
  Bag: [[4, 10], [9, 10], [9, 5], [19, 5], [19, 10], [24, 10], [24, 25], [4, 25], [4, 10], [11, 10], [11, 7], [17, 7], [17, 10]],
  'Ankle boot': [[7, 4], [15, 4], [15, 15], [25, 18], [26, 24], [6, 24]],
};
for (const name of Object.keys(SAMPLES)) $('sample').append(new Option(name, name));
function drawSample(name) {
  clearPad();
  ink.fillStyle = '#fff';
  ink.beginPath();
  SAMPLES[name].forEach(([x, y], i) => (i === 0 ? ink.moveTo(x * 10, y * 10) : ink.lineTo(x * 10, y * 10)));
  ink.closePath();
  ink.fill('evenodd');
}
$('sample').addEventListener('change', (e) => {
  if (e.target.value) drawSample(e.target.value);
  schedule();
});
$('clear').addEventListener('click', () => {
  clearPad();
  $('sample').value = '';
  schedule();
});
$('file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const image = await createImageBitmap(file);
  clearPad();
  // fit, centred; photos are usually dark on light: invert those so the garment is white on black
  const s = Math.min(pad.width / image.width, pad.height / image.height);
  const w = image.width * s;
  const h = image.height * s;
  ink.drawImage(image, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  const px = ink.getImageData(0, 0, pad.width, pad.height);
  let mean = 0;
  for (let i = 0; i < px.data.length; i += 4) mean += px.data[i];
  if (mean / (px.data.length / 4) > 127) {
    for (let i = 0; i < px.data.length; i += 4) for (let c = 0; c < 3; c++) px.data[i + c] = 255 - px.data[i + c];
    ink.putImageData(px, 0, 0);
  }
  schedule();
});

/** The pad scaled to 28 x 28 grey values in [0, 1] (bc01, one image). */
function pixels() {
  seen.imageSmoothingQuality = 'high';
  seen.drawImage(pad, 0, 0, 28, 28);
  const px = seen.getImageData(0, 0, 28, 28).data;
  const x = new Float32Array(28 * 28);
  for (let i = 0; i < x.length; i++) x[i] = px[4 * i] / 255;
  return x;
}

// ---- the classifier: in a worker or in the page ----

const params = new URLSearchParams(location.search);
if (params.get('backend')) $('backend').value = params.get('backend');
if (params.get('where')) $('where').value = params.get('where');

const loaded = loadClassifier();
let engine = null;

/**
 * A running classifier for the chosen backend and place: `{ run(x), describe, stop() }`; `x` holds
 * one image or a batch of `batchSize` (for a model with an unknown batch size), zero-padded.
 */
async function start(backend, where, batchSize = 1) {
  const { net, model, weights } = await loaded;
  const input = lasagne.getAllLayers(net).find((l) => l.inputLayer === null && l.shape);
  const batch = input.shape[0] ?? batchSize;
  const options = { backend, ...(input.shape[0] === null ? { batchSize } : {}) };
  const shape = [batch, ...input.shape.slice(1)];
  const embed = (x) => {
    const full = new Float32Array(shape.reduce((a, d) => a * d, 1));
    full.set(x);
    return lasagne.ndarray(full, shape);
  };
  if (where === 'worker') {
    const worker = await lasagne.spawnWorker({ model, weights }, options);
    return {
      backend: worker.backend,
      describe: `${worker.backend === 'webgpu' ? 'WebGPU' : 'WebAssembly'} in a worker: ${worker.device}`,
      run: (x) => worker.run(embed(x), { transfer: true }),
      stop: () => worker.terminate(),
    };
  }
  const network = await lasagne.compile(net, options);
  return {
    backend: network.backend,
    describe: `${network.backend === 'webgpu' ? 'WebGPU' : 'WebAssembly'} in the page: ${network.device}`,
    run: (x) => network.run(embed(x)),
    stop: () => network.dispose(),
  };
}

async function restart() {
  const previous = engine;
  engine = start($('backend').value, $('where').value);
  $('engine').textContent = 'Compiling…';
  if (previous) previous.then((e) => e.stop(), () => undefined);
  try {
    const e = await engine;
    $('engine').textContent = e.describe;
    await schedule();
  } catch (err) {
    $('engine').textContent = `Could not start: ${err.name}: ${err.message}`;
  }
}
$('backend').addEventListener('change', restart);
$('where').addEventListener('change', restart);

// ---- results ----

const rows = CLASSES.map((name) => {
  const label = document.createElement('span');
  label.textContent = name;
  const track = document.createElement('div');
  track.className = 'track';
  const fill = document.createElement('div');
  fill.className = 'fill';
  track.append(fill);
  const pct = document.createElement('span');
  pct.className = 'pct';
  $('bars').append(label, track, pct);
  return { label, track, fill, pct };
});

function showBars(p) {
  const best = p.indexOf(Math.max(...p));
  rows.forEach((r, i) => {
    r.fill.style.width = `${(100 * p[i]).toFixed(1)}%`;
    r.pct.textContent = `${(100 * p[i]).toFixed(1)}%`;
    for (const el of [r.label, r.track, r.pct]) el.classList.toggle('top', i === best);
  });
}

function showFilters(filters) {
  const box = $('filters');
  box.replaceChildren();
  if (!filters) return;
  $('filters-name').textContent = `(${filters.name}: ${filters.count} filters, ${filters.size} × ${filters.size}, averaged over input channels)`;
  const { size, data } = filters;
  for (let f = 0; f < filters.count; f++) {
    const c = document.createElement('canvas');
    c.width = c.height = size;
    const w = data.subarray(f * size * size, (f + 1) * size * size);
    const m = Math.max(...w.map(Math.abs)) || 1;
    const img = c.getContext('2d').createImageData(size, size);
    // diverging colours: orange positive, blue negative
    w.forEach((v, i) => {
      const t = v / m;
      img.data.set(t >= 0 ? [255, 255 - 150 * t, 255 - 255 * t, 255] : [255 + 200 * t, 255 + 120 * t, 255, 255], 4 * i);
    });
    c.getContext('2d').putImageData(img, 0, 0);
    box.append(c);
  }
}

let busy = false;
let again = false;
/** Classifies the pad now, or once the run in flight is done (runs never pile up). */
async function schedule() {
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  try {
    do {
      again = false;
      const current = engine;
      try {
        const e = await current;
        showBars(toProbabilities(await e.run(pixels())));
      } catch (err) {
        // a run cut short by a change of backend is repeated on the new engine
        if (current === engine) $('engine').textContent = `Inference failed: ${err.name}: ${err.message}`;
        else again = true;
      }
    } while (again);
  } finally {
    busy = false;
  }
}

const ready = (async () => {
  const { net, trained } = await loaded;
  $('weights').textContent = trained
    ? 'Trained weights from start-out/model.json and start-out/model.npz.'
    : 'No trained weights were found (start-out/model.json and start-out/model.npz, written by `npm start`), so this is the ' +
      'untrained network with its initial weights: its guesses mean nothing yet.';
  $('weights').classList.toggle('trained', trained);
  showFilters(firstFilters(net));
  drawSample('T-shirt');
  $('sample').value = 'T-shirt';
  await restart();
})();

// For the tests: classify given pixels with the current engine, or a batch with an engine of its own.
window.demo = {
  ready,
  async classify(values) {
    const e = await engine;
    const y = await e.run(Float32Array.from(values));
    return { backend: e.backend, describe: e.describe, shape: y.shape, output: Array.from(y.data), probabilities: toProbabilities(y) };
  },
  async runBatch(values, batchSize, backend, where) {
    const e = await start(backend, where, batchSize);
    try {
      const y = await e.run(Float32Array.from(values));
      return { backend: e.backend, describe: e.describe, shape: y.shape, output: Array.from(y.data) };
    } finally {
      e.stop();
    }
  },
  isolated: globalThis.crossOriginIsolated === true,
  errors: lasagne.errors,
};
