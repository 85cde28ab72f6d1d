// The verifier page in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): a person's flow of picking a bundle and a proof and pressing Verify. The
// valid proof shows VERIFIED with the predicted class; every tamper case shows REJECTED with
// the expected reason. Screenshots go to target/conformance/screenshots/.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { file, expected, cases, dir } from './conformance.mjs';
import { serve } from './server.mjs';

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = path.resolve(dir, '../screenshots');
mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(path.join(tmpdir(), 'zkinfer-chromium-'));

const server = await serve();
const url = `http://127.0.0.1:${server.address().port}/web/index.html`;
// A fresh, empty profile directory (Playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

let failures = 0;
async function check(name, f) {
  try {
    await f();
    console.log(`ok - ${name}`);
  } catch (e) {
    failures += 1;
    console.log(`not ok - ${name}\n  ${String(e && e.stack ? e.stack : e).split('\n').join('\n  ')}`);
  }
}

try {
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="yes"]', { timeout: 60000 });

  async function verifyFiles(bundle, proof) {
    await page.setInputFiles('#bundle', file(bundle));
    await page.setInputFiles('#proof', file(proof));
    await page.click('#verify');
    await page.waitForFunction(() => ['VERIFIED', 'REJECTED'].includes(document.getElementById('status').textContent), null, {
      timeout: 120000,
    });
    return {
      status: await page.textContent('#status'),
      reason: await page.textContent('#reason'),
      predicted: await page.textContent('#predicted'),
      keyMs: await page.getAttribute('#details', 'data-key-ms'),
      verifyMs: await page.getAttribute('#details', 'data-verify-ms'),
    };
  }

  await check('the valid proof shows VERIFIED and the predicted class', async () => {
    const r = await verifyFiles('bundle.zkv', 'proof.zkp');
    assert.equal(r.status, 'VERIFIED', r.reason);
    const p = expected().predicted;
    assert.equal(r.predicted, `predicted class: ${p.class} (${p.label})`);
    await page.screenshot({ path: path.join(shots, 'verified.png'), fullPage: true });
    // The same bundle again: the page keeps the verifier (and its key).
    const again = await verifyFiles('bundle.zkv', 'proof.zkp');
    assert.equal(again.status, 'VERIFIED');
    console.log(`chromium: first verification ${r.keyMs} ms key rebuild + ${r.verifyMs} ms, repeated ${again.verifyMs} ms`);
  });

  for (const c of cases()) {
    await check(`rejects ${c.name}`, async () => {
      const r = await verifyFiles(c.bundle, c.proof);
      assert.equal(r.status, 'REJECTED', `${c.name} was accepted`);
      assert.ok(r.reason.includes(c.error), `'${r.reason}' lacks '${c.error}'`);
      if (c.name === 'altered_output') {
        await page.screenshot({ path: path.join(shots, 'rejected.png'), fullPage: true });
      }
    });
  }
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}

console.log(failures === 0 ? 'browser: all checks passed' : `browser: ${failures} checks failed`);
process.exit(failures === 0 ? 0 : 1);
