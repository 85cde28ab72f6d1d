// The verifier page: pick a bundle and a proof, see VERIFIED with the outputs, or the reason
// for the rejection. A verifier is kept per bundle, so checking another proof of the same
// model skips the verifying-key rebuild.
import { Verifier, load } from '../index.js';

const $ = (id) => document.getElementById(id);
let cached = { name: null, size: 0, modified: 0, verifier: null };

function show(status, cls) {
  $('status').textContent = status;
  $('status').className = cls;
}

function readFile(input) {
  const file = input.files[0];
  return file.arrayBuffer().then((b) => ({ file, bytes: new Uint8Array(b) }));
}

function renderOutputs(result) {
  const rows = result.outputs.map((o) => {
    const cells = o.real.slice(0, 32).map((v) => `<td>${v.toFixed(4)}</td>`).join('');
    return `<tr><th>${o.name} [${o.shape.join(', ')}]</th>${cells}</tr>`;
  });
  $('outputs').innerHTML = `<table>${rows.join('')}</table>`;
  const p = result.predicted;
  $('predicted').textContent = p ? `predicted class: ${p.class}${p.label != null ? ` (${p.label})` : ''}` : '';
}

async function run() {
  show('verifying...', '');
  $('reason').textContent = '';
  $('predicted').textContent = '';
  $('outputs').textContent = '';
  try {
    const [bundle, proof] = await Promise.all([readFile($('bundle')), readFile($('proof'))]);
    const t0 = performance.now();
    let first = false;
    if (cached.name !== bundle.file.name || cached.size !== bundle.file.size || cached.modified !== bundle.file.lastModified) {
      cached = {
        name: bundle.file.name,
        size: bundle.file.size,
        modified: bundle.file.lastModified,
        verifier: await Verifier.create(bundle.bytes),
      };
      first = true;
    }
    const t1 = performance.now();
    const result = cached.verifier.verify(proof.bytes);
    const t2 = performance.now();
    show('VERIFIED', 'verified');
    renderOutputs(result);
    $('details').textContent =
      `circuit ${result.circuit_identity}; ` +
      (first ? `verifying key rebuilt in ${(t1 - t0).toFixed(0)} ms, ` : 'verifying key kept, ') +
      `proof checked in ${(t2 - t1).toFixed(0)} ms`;
    $('details').dataset.keyMs = (t1 - t0).toFixed(1);
    $('details').dataset.verifyMs = (t2 - t1).toFixed(1);
  } catch (e) {
    show('REJECTED', 'rejected');
    $('reason').textContent = e && e.message ? e.message : String(e);
    $('details').textContent = '';
  }
}

function update() {
  $('verify').disabled = !($('bundle').files.length && $('proof').files.length);
}

$('bundle').addEventListener('change', update);
$('proof').addEventListener('change', update);
$('verify').addEventListener('click', run);
load().then(() => document.body.dataset.ready = 'yes');
