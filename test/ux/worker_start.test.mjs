// A WASM worker that cannot start: the error names the URL it tried and the `threads: 1` way out.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = fileURLToPath(new URL('../..', import.meta.url));
const test = suite('WASM worker start failure');

test('a missing worker script: RuntimeError naming its URL and threads: 1, and threads: 1 then runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lasagne-noworker-'));
  try {
    // a copy of the built package whose worker script was not shipped (what a misconfigured bundler does)
    cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
    rmSync(join(dir, 'dist/backend/wasm/worker.js'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const script = `
      import * as l from './dist/index.js';
      const net = l.cifar10Net(2);
      const out = {};
      try { await l.compile(net, { backend: 'wasm', threads: 2 }); out.error = 'none'; }
      catch (e) { out.error = e.name + ': ' + e.message; }
      const n = await l.compile(net, { backend: 'wasm', threads: 1 });
      out.shape = (await n.run(l.ndarray(new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]))).shape;
      n.dispose();
      console.log(JSON.stringify(out));`;
    writeFileSync(join(dir, 'probe.mjs'), script);
    const r = spawnSync(process.execPath, ['probe.mjs'], { cwd: dir, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const url = pathToFileURL(join(dir, 'dist/backend/wasm/worker.js')).href;
    assert.ok(out.error.startsWith('RuntimeError: wasm backend: a worker thread failed to start from '), out.error);
    assert.ok(out.error.includes(url), `names ${url}: ${out.error}`);
    assert.ok(out.error.includes('threads: 1'), out.error);
    assert.equal(out.shape, [2, 10, 4, 4]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
