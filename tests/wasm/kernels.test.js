// The browser engine's SIMD128 kernels (crates/model/src/compute/kernels/simd128.rs) give the
// portable loops' bits, which are the server's under NEXTTOKEN_KERNELS=portable: the engine
// compares the two itself (crates/wasm/src/kernels.rs) on random products of both forms, f32,
// f16 and bf16 weights with subnormals, infinities and NaNs, and every 16-bit value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { instantiate } from '../../web/js/engine/wasm.js';

test('the SIMD128 kernels give the portable bits', async () => {
  const engine = await instantiate(readFileSync(process.env.NEXTTOKEN_WASM));
  for (const seed of [1, 2, 3]) {
    const status = engine.exports.nt_check_kernels(seed);
    const output = engine.output();
    assert.equal(status, 0, output);
    const report = JSON.parse(output);
    assert.equal(report.path, 'simd128', 'the engine runs the SIMD128 kernels');
    assert.ok(report.products > 80, output);
  }
});
