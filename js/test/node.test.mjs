// The JavaScript package in Node: the valid proof of the conformance set verifies to the same
// outputs as in Rust, and every tamper case is rejected with the expected message.
import test from 'node:test';
import assert from 'node:assert/strict';

import { verify, Verifier } from '../index.js';
import { read, expected, cases } from './conformance.mjs';

test('the valid proof verifies to the expected outputs', async () => {
  const t0 = performance.now();
  const result = await verify(read('bundle.zkv'), read('proof.zkp'));
  const first = performance.now() - t0;
  assert.deepEqual(result, expected());
  assert.equal(result.predicted.label, String(result.predicted.class));

  const verifier = await Verifier.create(read('bundle.zkv'));
  assert.equal(verifier.identity, expected().circuit_identity);
  const t1 = performance.now();
  const again = verifier.verify(read('proof.zkp'));
  const repeated = performance.now() - t1;
  assert.deepEqual(again, expected());
  console.log(`node: first verification ${first.toFixed(0)} ms (with key rebuild), repeated ${repeated.toFixed(1)} ms`);
});

for (const c of cases()) {
  test(`rejects ${c.name}`, async () => {
    await assert.rejects(verify(read(c.bundle), read(c.proof)), (e) => {
      assert.ok(e instanceof Error, 'an Error');
      assert.ok(e.message.includes(c.error), `'${e.message}' lacks '${c.error}'`);
      return true;
    });
  });
}

test('the stock verifier gives the same outputs and rejects a tampered proof', async () => {
  const result = await verify(read('bundle.zkv'), read('proof.zkp'), { verifier: 'stock' });
  assert.deepEqual(result, expected());
  const verifier = await Verifier.create(read('bundle.zkv'), { verifier: 'stock' });
  assert.equal(verifier.choice, 'stock');
  assert.equal((await Verifier.create(read('bundle.zkv'))).choice, 'own');
  const tampered = cases().find((c) => c.name === 'altered_output');
  assert.ok(tampered, 'the conformance set has altered_output');
  assert.throws(() => verifier.verify(read(tampered.proof)), (e) => e.message.includes(tampered.error));
  await assert.rejects(verify(read('bundle.zkv'), read('proof.zkp'), { verifier: 'other' }), /unknown verifier 'other'/);
});

test('arguments that are not bytes are a TypeError', async () => {
  await assert.rejects(verify('not bytes', read('proof.zkp')), TypeError);
});
