// The conformance set written by the Rust tests (prover/tests/conformance.rs): a bundle, a
// valid proof, what it verifies to, and the tamper cases with the error each must report.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const dir =
  process.env.ZKINFER_CONFORMANCE ||
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../target/conformance/digits_mlp');

export const file = (name) => path.join(dir, name);
export const read = (name) => new Uint8Array(readFileSync(file(name)));
export const expected = () => JSON.parse(readFileSync(file('expected.json'), 'utf8'));
export const cases = () => JSON.parse(readFileSync(file('cases.json'), 'utf8'));
