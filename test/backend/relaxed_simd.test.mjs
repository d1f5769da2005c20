// The two builds of the WASM kernels (scripts/build_kernels.mjs): build/kernels.wasm (WebAssembly
// SIMD) and build/kernels_relaxed.wasm (the same C with -mrelaxed-simd: common.h MADD is
// f32x4.relaxed_madd). Both are embedded; the engine takes the relaxed one when WebAssembly.validate
// accepts it, else the plain one, and LASAGNE_WASM_SIMD / setWasmSimd force one (engine.ts). Node 20
// validates relaxed SIMD only with --experimental-wasm-relaxed-simd, so the relaxed runs happen in
// child processes with that flag: a check script, and the WASM kernel and backend suites (every
// test/backend/wasm*.test.mjs, which compare with float64 oracles within float32 summation
// tolerances) with the relaxed build forced.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { rejects } from './env.mjs';
import {
  wasmBackend, kernelsModule, kernelsBuild, relaxedSimdSupported, setWasmSimd, wasmSimdChoice, simdName,
  KERNELS_WASM_BYTES, KERNELS_RELAXED_WASM_BYTES,
} from '../../dist/backend/wasm/index.js';
import { KERNELS_WASM_BASE64, KERNELS_RELAXED_WASM_BASE64 } from '../../dist/backend/wasm/kernels_bytes.generated.js';
import { RuntimeError, ValueError } from '../../dist/errors.js';
import { relaxPrototypeOpcodes, countRelaxedMadd } from '../../scripts/build_kernels.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const FLAG = '--experimental-wasm-relaxed-simd';
const Relaxed = suite('wasm relaxed SIMD');

const available = await wasmBackend.available();
if (!available) {
  Relaxed('skipped: the WASM backend is not available here', () => console.log('  SKIP relaxed SIMD: no kernels'));
  Relaxed.run();
}

const plainBytes = Buffer.from(KERNELS_WASM_BASE64, 'base64');
const relaxedBytes = Buffer.from(KERNELS_RELAXED_WASM_BASE64, 'base64');
const flagWorks = spawnSync(process.execPath, [FLAG, '-e', '0']).status === 0;
const childEnv = (extra) => {
  const env = { ...process.env, NO_COLOR: '1', ...extra };
  delete env.FORCE_COLOR;
  return env;
};

if (available) {
  Relaxed('both builds are embedded: they differ, the relaxed one holds f32x4.relaxed_madd (0xfd 0x85 0x02) and the plain one none', () => {
    assert.is(plainBytes.length, KERNELS_WASM_BYTES);
    assert.is(relaxedBytes.length, KERNELS_RELAXED_WASM_BYTES);
    assert.ok(KERNELS_RELAXED_WASM_BYTES > 1000, `relaxed build has ${KERNELS_RELAXED_WASM_BYTES} bytes`);
    assert.not.ok(plainBytes.equals(relaxedBytes), 'the two builds are the same bytes');
    assert.ok(countRelaxedMadd(relaxedBytes) >= 40, `relaxed build has ${countRelaxedMadd(relaxedBytes)} relaxed_madd`);
    assert.is(countRelaxedMadd(plainBytes), 0);
    // no prototype opcode is left for the decoder to rewrite, and it walks both modules to the end
    assert.is(relaxPrototypeOpcodes(relaxedBytes).rewritten, 0);
    assert.is(relaxPrototypeOpcodes(plainBytes).rewritten, 0);
    assert.ok(WebAssembly.validate(plainBytes), 'the plain build validates here');
    // the same exports in both
    const names = (b) => WebAssembly.Module.exports(new WebAssembly.Module(b)).map((e) => `${e.kind} ${e.name}`).sort();
    if (relaxedSimdSupported()) assert.equal(names(relaxedBytes), names(plainBytes));
  });

  Relaxed('relaxPrototypeOpcodes rewrites the prototype f32x4.fma instruction only, never the same bytes inside an immediate', () => {
    // (func (param v128 v128 v128) (result v128) i32.const <immediate 0xfd 0xaf 0x01 ...> drop
    //   local.get 0 local.get 1 local.get 2 f32x4.fma)
    const body = [0x00, 0x41, 0xfd, 0xaf, 0x81, 0x80, 0x00, 0x1a, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0xaf, 0x01, 0x0b];
    const module = Uint8Array.from([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) -> v128
      0x03, 0x02, 0x01, 0x00, // function section
      0x0a, body.length + 2, 0x01, body.length, ...body, // code section
    ]);
    const { bytes, rewritten } = relaxPrototypeOpcodes(module);
    assert.is(rewritten, 1);
    const expected = Uint8Array.from(module);
    expected.set([0x85, 0x02], module.length - 3); // the instruction's 0xaf 0x01 -> 0x85 0x02
    assert.equal([...bytes], [...expected]);
    assert.equal([...bytes.slice(28, 33)], [0xfd, 0xaf, 0x81, 0x80, 0x00], 'the i32.const immediate is untouched');
    assert.is(countRelaxedMadd(bytes), 1);
    // an instruction it does not know, and a prototype relaxed opcode it has no rewrite for, are errors
    const unknown = Uint8Array.from(module);
    unknown[module.length - 4] = 0xfe;
    assert.throws(() => relaxPrototypeOpcodes(unknown), /unknown instruction 0xfe/);
    const fms = Uint8Array.from(module);
    fms[module.length - 3] = 0xb0;
    assert.throws(() => relaxPrototypeOpcodes(fms), /prototype relaxed-SIMD opcode 0xfd 0xb0 has no standard rewrite/);
  });

  Relaxed('the module choice: relaxed where the engine validates it, plain otherwise and where forced; bad choices named', async () => {
    const saved = process.env.LASAGNE_WASM_SIMD;
    try {
      delete process.env.LASAGNE_WASM_SIMD;
      assert.is(relaxedSimdSupported(), WebAssembly.validate(relaxedBytes));
      assert.is(wasmSimdChoice(), 'auto');
      assert.is(kernelsBuild(), relaxedSimdSupported() ? 'relaxed' : 'plain');
      const auto = await kernelsModule();
      assert.is(simdName(auto), relaxedSimdSupported() ? 'WebAssembly relaxed SIMD' : 'WebAssembly SIMD');
      setWasmSimd('plain');
      assert.is(kernelsBuild(), 'plain');
      assert.is(simdName(await kernelsModule()), 'WebAssembly SIMD');
      process.env.LASAGNE_WASM_SIMD = 'relaxed';
      assert.is(wasmSimdChoice(), 'plain', 'setWasmSimd wins over the environment');
      setWasmSimd(null);
      assert.is(wasmSimdChoice(), 'relaxed');
      if (relaxedSimdSupported()) assert.is(simdName(await kernelsModule()), 'WebAssembly relaxed SIMD');
      else await rejects(() => kernelsModule(), (e) => e instanceof RuntimeError && /--experimental-wasm-relaxed-simd/.test(e.message), 'forced relaxed');
      process.env.LASAGNE_WASM_SIMD = 'fast';
      assert.throws(() => wasmSimdChoice(), (e) => e instanceof ValueError && /LASAGNE_WASM_SIMD must be one of auto, relaxed, plain, but it is "fast"/.test(e.message));
      assert.throws(() => setWasmSimd('fma'), (e) => e instanceof ValueError && /setWasmSimd requires choice to be one of/.test(e.message) && /"fma"/.test(e.message));
    } finally {
      setWasmSimd(null);
      if (saved === undefined) delete process.env.LASAGNE_WASM_SIMD;
      else process.env.LASAGNE_WASM_SIMD = saved;
    }
  });

  Relaxed(`under ${FLAG}: relaxed is chosen, runs on the calling thread and in workers (bit-identical), agrees with plain; LASAGNE_WASM_SIMD=plain forces plain`, () => {
    if (!flagWorks) {
      console.log(`  SKIP: this Node does not accept ${FLAG}`);
      return;
    }
    const check = (env) => {
      const r = spawnSync(process.execPath, [FLAG, 'test/backend/relaxed_check.mjs'], { cwd: root, encoding: 'utf8', env: childEnv(env), timeout: 120000 });
      assert.is(r.status, 0, `relaxed_check failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop());
    };
    const relaxed = check({ LASAGNE_WASM_SIMD: '' });
    assert.is(relaxed.supported, true);
    assert.is(relaxed.build, 'relaxed');
    assert.match(relaxed.devices.auto1, /^WebAssembly relaxed SIMD \(calling thread/);
    assert.match(relaxed.devices.auto2, /^WebAssembly relaxed SIMD \(2 worker threads/);
    assert.match(relaxed.devices.plain1, /^WebAssembly SIMD \(calling thread/);
    const plain = check({ LASAGNE_WASM_SIMD: 'plain' });
    assert.is(plain.build, 'plain');
    assert.match(plain.devices.auto1, /^WebAssembly SIMD \(/);
    assert.match(plain.devices.auto2, /^WebAssembly SIMD \(2 worker threads/);
    assert.is(plain.maxDiff, 0, 'plain against plain');
  });

  Relaxed(`every WASM backend suite (test/backend/wasm*.test.mjs) passes with the relaxed build forced, under ${FLAG}`, () => {
    if (!flagWorks) {
      console.log(`  SKIP: this Node does not accept ${FLAG}`);
      return;
    }
    const uvu = fileURLToPath(new URL('../../node_modules/uvu/bin.js', import.meta.url));
    const r = spawnSync(process.execPath, [FLAG, uvu, 'test', 'backend/wasm[a-z_]*\\.test\\.mjs$', '--no-color'], {
      cwd: root, encoding: 'utf8', env: childEnv({ LASAGNE_WASM_SIMD: 'relaxed' }), timeout: 540000, maxBuffer: 1 << 26,
    });
    const total = Number((/Total:\s+(\d+)/.exec(r.stdout) ?? [])[1]);
    const passed = Number((/Passed:\s+(\d+)/.exec(r.stdout) ?? [])[1]);
    assert.ok(total >= 40, `the relaxed run found ${total} tests:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
    assert.is(passed, total, `relaxed run: ${passed} of ${total} passed:\n${r.stdout.slice(-6000)}`);
    assert.is(r.status, 0);
  });
}

Relaxed.run();
