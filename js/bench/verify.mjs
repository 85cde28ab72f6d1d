// Times verification of one bundle and proof in Node and in headless Chromium (the page):
// first verification (bundle decode + verifying-key rebuild + proof) and a repeated one with
// the key kept. Usage: node bench/verify.mjs BUNDLE.zkv PROOF.zkp
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { verify, Verifier } from '../index.js';
import { serve } from '../test/server.mjs';

const [bundlePath, proofPath] = process.argv.slice(2);
if (!bundlePath || !proofPath) {
  console.error('usage: node bench/verify.mjs BUNDLE.zkv PROOF.zkp');
  process.exit(2);
}
const bundle = new Uint8Array(readFileSync(bundlePath));
const proof = new Uint8Array(readFileSync(proofPath));

let t = performance.now();
await verify(bundle, proof);
const nodeFirst = performance.now() - t;
const v = await Verifier.create(bundle);
t = performance.now();
v.verify(proof);
const nodeRepeated = performance.now() - t;
console.log(`node: first ${nodeFirst.toFixed(0)} ms, repeated ${nodeRepeated.toFixed(1)} ms`);

const profile = mkdtempSync(path.join(tmpdir(), 'zkinfer-chromium-'));
const server = await serve();
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  await page.goto(`http://127.0.0.1:${server.address().port}/web/index.html`);
  await page.waitForSelector('body[data-ready="yes"]');
  const run = async () => {
    await page.click('#verify');
    await page.waitForFunction(() => ['VERIFIED', 'REJECTED'].includes(document.getElementById('status').textContent));
    return {
      status: await page.textContent('#status'),
      key: Number(await page.getAttribute('#details', 'data-key-ms')),
      proof: Number(await page.getAttribute('#details', 'data-verify-ms')),
    };
  };
  await page.setInputFiles('#bundle', bundlePath);
  await page.setInputFiles('#proof', proofPath);
  const first = await run();
  const again = await run();
  console.log(`chromium: ${first.status}, first ${(first.key + first.proof).toFixed(0)} ms, repeated ${again.proof.toFixed(1)} ms`);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
