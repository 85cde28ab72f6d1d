// zkinfer-verifier: verify zkinfer proofs in browsers and in Node.
//
//   import { verify, Verifier } from 'zkinfer-verifier';
//   const result = await verify(bundleBytes, proofBytes);   // rejects with the reason
//   const v = await Verifier.create(bundleBytes);           // keeps the verifying key
//   const again = v.verify(otherProofBytes);
//
// Both take `{ verifier: 'own' | 'stock' }` as a last argument: 'own' (the default) checks with
// the bundle's verifying key; 'stock' rebuilds the key with halo2's keygen from the bundle's
// model (it must equal the bundle's) and checks with halo2's verifier (seconds in a browser).
//
// `result` is the verified outputs: { circuit_identity, input, outputs: [{ name, shape, scale,
// values, real }], predicted: { class, label } | null }, the same document as `zkinfer verify
// --json` and the Python package return. The WebAssembly module is built from the Rust
// verifier (`verifier-wasm/`) by `scripts/build-js.sh` into `pkg/`.

import init, { verify as wasmVerify, Verifier as WasmVerifier } from './pkg/zkinfer_verifier_wasm.js';

const wasmUrl = new URL('./pkg/zkinfer_verifier_wasm_bg.wasm', import.meta.url);
let ready = null;

/** Loads the WebAssembly module once (fetch in browsers, the file system in Node). */
export function load() {
  if (!ready) {
    ready = (async () => {
      const isNode = typeof process !== 'undefined' && process.versions != null && process.versions.node != null;
      if (isNode) {
        const { readFile } = await import('node:fs/promises');
        await init({ module_or_path: await readFile(wasmUrl) });
      } else {
        await init({ module_or_path: wasmUrl });
      }
    })();
  }
  return ready;
}

function bytes(x, what) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  throw new TypeError(`${what} must be a Uint8Array or ArrayBuffer`);
}

/** Verifies a proof file's bytes against a verification bundle's bytes. */
export async function verify(bundleBytes, proofBytes, { verifier = 'own' } = {}) {
  await load();
  return JSON.parse(wasmVerify(bytes(bundleBytes, 'bundle'), bytes(proofBytes, 'proof'), verifier));
}

/** A verifier for one bundle that keeps its verifying key across proofs. */
export class Verifier {
  constructor(inner) {
    this.inner = inner;
  }

  /** Decodes and checks the bundle and prepares its verifying key ('stock': halo2's keygen). */
  static async create(bundleBytes, { verifier = 'own' } = {}) {
    await load();
    return new Verifier(new WasmVerifier(bytes(bundleBytes, 'bundle'), verifier));
  }

  /** The verifier it checks proofs with: 'own' or 'stock'. */
  get choice() {
    return this.inner.choice;
  }

  /** The circuit identity (hex) this verifier accepts proofs for. */
  get identity() {
    return this.inner.identity;
  }

  /** Verifies one proof file's bytes; throws an Error with the reason on rejection. */
  verify(proofBytes) {
    return JSON.parse(this.inner.verify(bytes(proofBytes, 'proof')));
  }
}
