// The live training page. Training runs in train-worker.js; this page only draws. Every text
// that comes from data goes into the DOM through textContent, never as HTML.
import { worker as treadWorker, train as treadTrain } from '/dist/tread.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

/** An integer URL parameter within bounds, else the default (a bad value is shown, not used). */
function intParam(name, def, min, max) {
  const raw = params.get(name);
  if (raw === null) return def;
  const v = Number(raw);
  if (Number.isInteger(v) && v >= min && v <= max) return v;
  showError(`ignoring ?${name}=${raw}: expected an integer in ${min}..${max}`);
  return def;
}

// What the test (and a curious reader in the console) can look at.
const state = (window.__demo = { runtime: null, state: 'idle', batches: 0, epochs: [], summary: null, prediction: null, saved: null, errors: [] });

function showError(message) {
  state.errors.push(message);
  $('error').textContent = message;
}

const trainer = new treadWorker.TrainingWorker(new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' }));
trainer.on('error', (e) => showError(e.message));
trainer.on('warning', (m) => console.warn(`tread: ${m}`));

// ---- the runtime line ----
trainer.on('state', ({ state: s, runtime }) => {
  state.state = s;
  if (runtime) {
    state.runtime = runtime;
    const el = $('runtime');
    const threads = `${runtime.threads} thread${runtime.threads === 1 ? '' : 's'} (${runtime.variant})`;
    el.textContent = runtime.note
      ? `${threads}: ${runtime.note.replace(/^tread: /, '')}. Serve the page with COOP/COEP headers (npm run demo) for threads.`
      : `${threads}, cross-origin isolated: kernels run on a thread pool inside the Worker`;
    el.className = runtime.threads === 1 ? 'single' : '';
  }
  const running = s === 'running' || s === 'paused' || s === 'setting-up';
  $('start').disabled = running;
  $('pause').disabled = !running || s === 'setting-up';
  $('pause').textContent = s === 'paused' ? 'Resume' : 'Pause';
  $('stop').disabled = !running;
  $('download').disabled = $('save').disabled = !(s === 'finished' || s === 'paused');
  if (s === 'setting-up') $('status').textContent = 'loading the digits and building the model…';
  if (s === 'paused') $('status').textContent += ' (paused)';
});

// ---- curves ----
const series = { loss: [], acc: [], lr: [], valLoss: [], valAcc: [] };
let smoothAcc = null;
let frame = 0;

trainer.on('batch', (p) => {
  state.batches++;
  series.loss.push([p.globalStep, p.loss]);
  if (p.accuracy !== null) {
    smoothAcc = smoothAcc === null ? p.accuracy : 0.9 * smoothAcc + 0.1 * p.accuracy;
    series.acc.push([p.globalStep, smoothAcc]);
  }
  series.lr.push([p.globalStep, p.lr]);
  const of = p.batchesPerEpoch ? `/${p.batchesPerEpoch}` : '';
  $('status').textContent = `epoch ${p.epoch + 1}, batch ${p.batch + 1}${of}, loss ${p.loss.toFixed(3)}`;
  frame ||= requestAnimationFrame(drawCharts);
});

trainer.on('epoch', (p) => {
  state.epochs.push({ epoch: p.epoch, logs: p.logs, seconds: p.seconds });
  const step = series.loss.length ? series.loss[series.loss.length - 1][0] : 0;
  series.valLoss.push([step, p.logs.val_loss]);
  series.valAcc.push([step, p.logs.val_accuracy]);
  $('status').textContent = `epoch ${p.epoch + 1}/${p.epochs}: validation accuracy ${(100 * p.logs.val_accuracy).toFixed(2)}%, ${p.seconds.toFixed(1)} s`;
  showRatios(p.logs);
  showMistakes(p.extra?.misclassified ?? []);
  if (p.extra?.landscape) showLandscape(p.extra.landscape);
  frame ||= requestAnimationFrame(drawCharts);
});

function drawCharts() {
  frame = 0;
  chart($('loss'), [{ points: series.loss, color: '#4a7fd4' }, { points: series.valLoss, color: '#d0502a', dots: true }], { min: 0 });
  chart($('acc'), [{ points: series.acc, color: '#4a7fd4' }, { points: series.valAcc, color: '#d0502a', dots: true }], { min: 0, max: 1 });
  chart($('lr'), [{ points: series.lr, color: '#3a9a5a' }], { min: 0 });
}

/** A line chart on a canvas: axes, min/max labels and the series (thinned to the width). */
function chart(canvas, lines, { min, max }) {
  const g = canvas.getContext('2d');
  const W = canvas.width;
  const H = canvas.height;
  const L = 44;
  const B = 16;
  g.clearRect(0, 0, W, H);
  const all = lines.flatMap((l) => l.points).filter(([, y]) => Number.isFinite(y));
  if (all.length === 0) return;
  const xMax = Math.max(1, ...all.map(([x]) => x));
  const lo = min ?? Math.min(...all.map(([, y]) => y));
  const hi = max ?? (Math.max(...all.map(([, y]) => y)) * 1.05 || 1);
  const X = (x) => L + ((W - L - 6) * x) / xMax;
  const Y = (y) => H - B - ((H - B - 6) * (y - lo)) / (hi - lo || 1);
  g.strokeStyle = '#c9ced6';
  g.beginPath();
  g.moveTo(L, 4);
  g.lineTo(L, H - B);
  g.lineTo(W - 4, H - B);
  g.stroke();
  g.fillStyle = '#5a6372';
  g.font = '11px system-ui, sans-serif';
  const fmt = (v) => (Math.abs(v) < 0.01 && v !== 0 ? v.toExponential(0) : v.toFixed(2));
  g.fillText(fmt(hi), 2, 12);
  g.fillText(fmt(lo), 2, H - B);
  g.fillText(`step ${xMax}`, W - 60, H - 3);
  for (const l of lines) {
    g.strokeStyle = g.fillStyle = l.color;
    if (l.dots) {
      for (const [x, y] of l.points) if (Number.isFinite(y)) g.fillRect(X(x) - 3, Y(y) - 3, 6, 6);
      continue;
    }
    const every = Math.max(1, Math.floor(l.points.length / (W - L)));
    g.beginPath();
    l.points.forEach(([x, y], i) => {
      if (i % every || !Number.isFinite(y)) return;
      i === 0 ? g.moveTo(X(x), Y(y)) : g.lineTo(X(x), Y(y));
    });
    g.stroke();
  }
}

function showRatios(logs) {
  const body = $('ratios').tBodies[0];
  body.replaceChildren();
  for (const key of Object.keys(logs)) {
    if (!key.startsWith('update_ratio/')) continue;
    const name = key.slice('update_ratio/'.length);
    const ratio = logs[key];
    const grad = logs[`grad_norm/${name}`];
    const tr = body.insertRow();
    tr.insertCell().textContent = name;
    tr.insertCell().textContent = Number.isFinite(grad) ? grad.toExponential(2) : '-';
    tr.insertCell().textContent = ratio.toExponential(2);
    // A log-scale bar from 1e-6 to 1e-1.
    const bar = document.createElement('div');
    bar.style.width = `${Math.max(0, Math.min(100, ((Math.log10(ratio) + 6) / 5) * 100))}%`;
    const cell = tr.insertCell();
    cell.className = 'bar';
    cell.append(bar);
  }
}

function digitCanvas(pixels) {
  const c = document.createElement('canvas');
  c.width = c.height = 28;
  const img = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    img.data.set([pixels[i], pixels[i], pixels[i], 255], i * 4);
  }
  c.getContext('2d').putImageData(img, 0, 0);
  return c;
}

function showMistakes(list) {
  const box = $('mistakes');
  box.replaceChildren();
  for (const m of list) {
    const fig = document.createElement('figure');
    const cap = document.createElement('figcaption');
    cap.textContent = `${m.label} → ${m.predicted}`;
    fig.append(digitCanvas(m.pixels), cap);
    box.append(fig);
  }
}

// ---- controls ----
$('epochs').value = String(intParam('epochs', 3, 1, 20));

async function start() {
  $('error').textContent = '';
  Object.values(series).forEach((s) => (s.length = 0));
  smoothAcc = null;
  state.epochs = [];
  state.summary = null;
  const epochs = Number($('epochs').value);
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 20) return showError('epochs must be an integer from 1 to 20');
  try {
    const summary = await trainer.start({ epochs, seed: intParam('seed', 1, 0, 2 ** 31 - 1), width: intParam('width', 16, 2, 64) });
    state.summary = summary;
    const last = summary.history[summary.history.length - 1];
    const acc = last ? `${(100 * Number(last.val_accuracy)).toFixed(2)}% validation accuracy` : 'no epoch finished';
    $('status').textContent = `${summary.stopReason ? `stopped (${summary.stopReason})` : 'done'}: ${acc}, ${summary.seconds.toFixed(1)} s`;
    predictDrawing();
  } catch (e) {
    showError(`training failed: ${e.message}`);
  }
}

$('start').onclick = start;
$('pause').onclick = () => (trainer.state === 'paused' ? trainer.resume() : trainer.pause());
$('stop').onclick = () => trainer.stop('stopped from the page');
$('download').onclick = async () => {
  try {
    treadTrain.downloadBytes(await trainer.weights(), 'mnist-cnn.safetensors');
  } catch (e) {
    showError(`download failed: ${e.message}`);
  }
};
$('save').onclick = async () => {
  try {
    const bytes = await trainer.weights();
    const where = [];
    await treadTrain.indexedDBStore('tread-demo').put('mnist-cnn.safetensors', bytes);
    where.push('IndexedDB');
    try {
      await treadTrain.opfsStore('tread-demo').put('mnist-cnn.safetensors', bytes);
      where.push('OPFS');
    } catch (e) {
      console.warn(`OPFS not used: ${e.message}`);
    }
    state.saved = { bytes: bytes.length, where };
    $('status').textContent = `saved ${(bytes.length / 1024).toFixed(0)} KiB of weights to ${where.join(' and ')} (key mnist-cnn.safetensors)`;
  } catch (e) {
    showError(`saving failed: ${e.message}`);
  }
};

// ---- the drawing pad ----
const pad = $('pad');
const pen = pad.getContext('2d');
pen.lineCap = pen.lineJoin = 'round';
pen.lineWidth = 22;
pen.strokeStyle = '#fff';
let drawing = false;
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  pen.beginPath();
  pen.moveTo(e.offsetX, e.offsetY);
  pen.lineTo(e.offsetX + 0.01, e.offsetY);
  pen.stroke();
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  pen.lineTo(e.offsetX, e.offsetY);
  pen.stroke();
});
pad.addEventListener('pointerup', () => {
  drawing = false;
  predictDrawing();
});
$('clear').onclick = () => {
  pen.clearRect(0, 0, pad.width, pad.height);
  $('preview').getContext('2d').clearRect(0, 0, 28, 28);
  $('probs').replaceChildren();
  $('guess').textContent = 'draw a digit';
  state.prediction = null;
};

/**
 * The drawing as MNIST prepared its digits: the ink's bounding box scaled to fit 20x20
 * (keeping its aspect), placed in 28x28 so that its centre of mass is at the centre.
 */
function drawingAsDigit() {
  const { data } = pen.getImageData(0, 0, pad.width, pad.height);
  let x0 = pad.width;
  let y0 = pad.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      if (data[(y * pad.width + x) * 4 + 3] > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const s = 20 / Math.max(w, h);
  const sw = Math.max(1, Math.round(w * s));
  const sh = Math.max(1, Math.round(h * s));
  const small = new OffscreenCanvas(sw, sh);
  const sg = small.getContext('2d');
  sg.imageSmoothingQuality = 'high';
  sg.drawImage(pad, x0, y0, w, h, 0, 0, sw, sh);
  const a = sg.getImageData(0, 0, sw, sh).data;
  let m = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const v = a[(y * sw + x) * 4 + 3];
      m += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const dx = Math.round(14 - mx / m);
  const dy = Math.round(14 - my / m);
  const out = new Float32Array(784);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const tx = x + dx;
      const ty = y + dy;
      if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) out[ty * 28 + tx] = a[(y * sw + x) * 4 + 3] / 255;
    }
  }
  return out;
}

async function predictDrawing() {
  const x = drawingAsDigit();
  if (!x) return;
  const preview = $('preview').getContext('2d');
  const img = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) img.data.set([x[i] * 255, x[i] * 255, x[i] * 255, 255], i * 4);
  preview.putImageData(img, 0, 0);
  if (trainer.state !== 'finished' && trainer.state !== 'paused' && trainer.state !== 'running') return;
  try {
    const { data } = await trainer.predict(x, [1, 1, 28, 28]);
    const mx = Math.max(...data);
    const e = Array.from(data, (v) => Math.exp(v - mx));
    const sum = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / sum);
    const best = p.indexOf(Math.max(...p));
    state.prediction = { digit: best, probabilities: p };
    $('guess').textContent = `it looks like a ${best} (${(100 * p[best]).toFixed(1)}%)`;
    const box = $('probs');
    box.replaceChildren();
    p.forEach((v, d) => {
      const row = document.createElement('div');
      const label = document.createElement('span');
      label.textContent = `${d} ${(100 * v).toFixed(1).padStart(5)}%`;
      const bar = document.createElement('span');
      bar.className = 'b';
      bar.style.width = `${Math.round(v * 120)}px`;
      row.append(label, bar);
      box.append(row);
    });
  } catch (e) {
    showError(`prediction failed: ${e.message}`);
  }
}

if (params.get('autostart') === '1') trainer.ready().then(start);

/**
 * The landscape of the model just trained: SVG that tread made in the Worker (landscape.landscapeHtml:
 * every text in it is escaped), parsed as HTML into its own section.
 */
function showLandscape(l) {
  const box = $('landscape');
  box.replaceChildren(...new DOMParser().parseFromString(l.html, 'text/html').body.childNodes);
  box.hidden = false;
  window.__demo.landscape = { monotone: l.monotone };
}
