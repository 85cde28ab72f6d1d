// One Node process's first verification (bundle decode, key, proof) and a repeated one with
// the key kept, in ms: "FIRST REPEATED" (bench/verify.mjs runs it several times).
import { readFileSync } from 'node:fs';

import { verify, Verifier } from '../index.js';

const [bundlePath, proofPath] = process.argv.slice(2);
const bundle = new Uint8Array(readFileSync(bundlePath));
const proof = new Uint8Array(readFileSync(proofPath));
let t = performance.now();
await verify(bundle, proof);
const first = performance.now() - t;
const v = await Verifier.create(bundle);
t = performance.now();
v.verify(proof);
console.log(`${first.toFixed(1)} ${(performance.now() - t).toFixed(1)}`);
