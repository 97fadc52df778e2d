// main.js: the page starts the Worker and shows what it reports.
const out = document.querySelector('#out');
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onmessage = ({ data }) => {
  out.textContent = data.error ?? `${data.variant}, ${data.threads} threads: loss ${data.losses[0].toFixed(3)} -> ${data.losses.at(-1).toFixed(3)}`;
  window.result = data;
};
worker.onerror = (e) => {
  out.textContent = `worker failed: ${e.message}`;
  window.result = { error: e.message };
};
