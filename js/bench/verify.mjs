// Times verification of one bundle and proof in Node and in headless Chromium (the page):
// first verification (bundle decode, verifying key from the bundle, proof) in a fresh process
// or browser profile each run, and a repeated one with the key kept. First verifications swing
// with the JIT's timing, so each is taken RUNS times (default 5) and reported as median, min
// and max. In Chromium the click comes SETTLE ms after the page is ready (default 1000;
// environment variable ZKINFER_BENCH_SETTLE_MS): a browser started on a fresh profile is busy
// with its own start-up for its first second or so, which on a small machine takes the cores
// the page needs (with 0 the spread is two to three times as wide). Nothing of the verifier runs
// before the click: the module's functions are compiled when first called, inside the timed
// span. Usage: node bench/verify.mjs BUNDLE.zkv PROOF.zkp [RUNS]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { serve } from '../test/server.mjs';

const [bundlePath, proofPath, runsArg] = process.argv.slice(2);
if (!bundlePath || !proofPath) {
  console.error('usage: node bench/verify.mjs BUNDLE.zkv PROOF.zkp [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg || 5);
const settleMs = Number(process.env.ZKINFER_BENCH_SETTLE_MS ?? 1000);
const here = path.dirname(fileURLToPath(import.meta.url));

const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `median ${median.toFixed(0)} ms (min ${sorted[0].toFixed(0)}, max ${sorted[sorted.length - 1].toFixed(0)}, ${sorted.length} runs)`;
};

// Node: each run a fresh process (bench/node_once.mjs prints "first repeated").
const nodeFirst = [];
const nodeRepeated = [];
for (let i = 0; i < runs; i++) {
  const out = execFileSync(process.execPath, [path.join(here, 'node_once.mjs'), bundlePath, proofPath]).toString();
  const [first, repeated] = out.trim().split(' ').map(Number);
  nodeFirst.push(first);
  nodeRepeated.push(repeated);
}
console.log(`node: first ${summary(nodeFirst)}; repeated ${summary(nodeRepeated)}`);

// Chromium: each run a fresh browser profile and page.
const server = await serve();
const chromeFirst = [];
const chromeRepeated = [];
const chromeKey = [];
try {
  for (let i = 0; i < runs; i++) {
    const profile = mkdtempSync(path.join(tmpdir(), 'zkinfer-chromium-'));
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
      await page.waitForTimeout(settleMs);
      const first = await run();
      const again = await run();
      if (first.status !== 'VERIFIED' || again.status !== 'VERIFIED') {
        throw new Error(`the page answered ${first.status} / ${again.status}`);
      }
      chromeFirst.push(first.key + first.proof);
      chromeKey.push(first.key);
      chromeRepeated.push(again.proof);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }
} finally {
  server.close();
}
console.log(`chromium (click ${settleMs} ms after the page is ready): first ${summary(chromeFirst)} (of which bundle and key ${summary(chromeKey)}); repeated ${summary(chromeRepeated)}`);
