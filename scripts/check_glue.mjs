// Compares a compiled WebAssembly module with the ABI the TypeScript glue declares for it
// (src/planner/planner_abi.ts, src/backend/wasm/kernels_abi.ts): every declared export must exist with the
// same signature, no undeclared function or memory may be exported, and the imports must match.
// Run as a script it checks build/planner.wasm (and build/kernels.wasm, build/kernels_relaxed.wasm when present) and exits 1
// on any difference, which fails the build.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { decode } = require('@webassemblyjs/wasm-parser');

/** Exports and imports of a module: { functions: {name: [params, results]}, memories: [...], imports: [...] }. */
export function readModuleAbi(bytes) {
  const ast = decode(bytes, { ignoreCodeSection: true, ignoreDataSection: true, ignoreCustomNameSection: true });
  const fields = ast.body[0].fields;
  const types = fields.filter((f) => f.type === 'TypeInstruction').map((t) => t.functype);
  const sig = (s) => [s.params.map((p) => p.valtype), [...s.results]];
  const funcSigs = [];
  const imports = [];
  for (const f of fields.filter((x) => x.type === 'ModuleImport')) {
    imports.push(`${f.module}.${f.name}`);
    if (f.descr.type === 'FuncImportDescr') funcSigs.push(sig(f.descr.signature));
  }
  for (const f of fields.filter((x) => x.type === 'Func')) {
    const s = f.signature.type === 'Signature' ? f.signature : types[f.signature.value];
    funcSigs.push(sig(s));
  }
  const functions = {};
  const memories = [];
  const others = [];
  for (const e of fields.filter((x) => x.type === 'ModuleExport')) {
    if (e.descr.exportType === 'Func') functions[e.name] = funcSigs[e.descr.id.value];
    else if (e.descr.exportType === 'Memory') memories.push(e.name);
    else others.push(`${e.descr.exportType} ${e.name}`);
  }
  return { functions, memories, imports, others };
}

const fmt = ([p, r]) => `(${p.join(', ')}) -> (${r.join(', ')})`;

/** The differences between a module's bytes and a declared ABI, as sentences (empty: they agree). */
export function compareAbi(bytes, declared, label = 'module') {
  const actual = readModuleAbi(bytes);
  const problems = [];
  for (const [name, want] of Object.entries(declared.functions)) {
    const have = actual.functions[name];
    if (!have) problems.push(`${label}: the glue declares export '${name}' ${fmt(want)}, but the module does not export it`);
    else if (fmt(have) !== fmt(want)) problems.push(`${label}: export '${name}' is ${fmt(have)} in the module but ${fmt(want)} in the glue`);
  }
  for (const name of Object.keys(actual.functions)) {
    if (!(name in declared.functions)) problems.push(`${label}: the module exports '${name}' ${fmt(actual.functions[name])}, which the glue does not declare`);
  }
  for (const m of declared.memories) if (!actual.memories.includes(m)) problems.push(`${label}: memory export '${m}' is missing`);
  for (const m of actual.memories) if (!declared.memories.includes(m)) problems.push(`${label}: undeclared memory export '${m}'`);
  for (const i of actual.imports) if (!declared.imports.includes(i)) problems.push(`${label}: undeclared import '${i}'`);
  for (const i of declared.imports) if (!actual.imports.includes(i)) problems.push(`${label}: declared import '${i}' is missing`);
  for (const o of actual.others) problems.push(`${label}: unexpected export ${o}`);
  return problems;
}

/** Checks every built module against its declaration in dist/; returns the problems. */
export async function checkAll(root) {
  const problems = [];
  const modules = [
    ['build/planner.wasm', 'dist/planner/planner_abi.js', 'PLANNER_ABI'],
    ['build/kernels.wasm', 'dist/backend/wasm/kernels_abi.js', 'KERNELS_ABI'],
    ['build/kernels_relaxed.wasm', 'dist/backend/wasm/kernels_abi.js', 'KERNELS_ABI'],
  ];
  for (const [wasmPath, abiPath, exportName] of modules) {
    const wasmUrl = new URL(wasmPath, root);
    if (!existsSync(wasmUrl)) {
      if (wasmPath === 'build/planner.wasm') problems.push(`${wasmPath} is missing`);
      continue;
    }
    const abi = (await import(new URL(abiPath, root).href))[exportName];
    problems.push(...compareAbi(readFileSync(wasmUrl), abi, wasmPath));
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = await checkAll(new URL('../', import.meta.url));
  if (problems.length) {
    console.error(`glue check failed:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log('glue check: every wasm export matches its TypeScript declaration');
}
