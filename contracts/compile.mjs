// Compiles contracts/sol/*.sol with solc-js (the npm solc package: the Solidity compiler built
// for JavaScript, no download at run time) and writes, per contract, its ABI and creation
// bytecode to target/contracts/NAME.json. Fails on any compiler error or warning.
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import solc from 'solc';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '../target/contracts');
const sources = {};
for (const f of readdirSync(path.join(here, 'sol')).filter((f) => f.endsWith('.sol')).sort()) {
  sources[f] = { content: readFileSync(path.join(here, 'sol', f), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const result = JSON.parse(solc.compile(JSON.stringify(input)));
const problems = result.errors || [];
for (const e of problems) console.error(e.formattedMessage);
if (problems.length > 0) process.exit(1);
mkdirSync(out, { recursive: true });
for (const [file, contracts] of Object.entries(result.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    const artifact = { contract: name, source: file, compiler: solc.version(), abi: c.abi, bytecode: '0x' + c.evm.bytecode.object };
    writeFileSync(path.join(out, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
    console.log(`${name}: ${c.evm.bytecode.object.length / 2} bytes of creation code`);
  }
}
console.log(`solc ${solc.version()} -> ${out}`);
