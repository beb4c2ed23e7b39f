// Two JSON values walked together: numbers within a tolerance, everything else equal.
import assert from 'node:assert/strict';

export function assertClose(got, want, path = '$', tolerance = 1e-5) {
  if (typeof want === 'number') {
    assert.equal(typeof got, 'number', `${path}: ${JSON.stringify(got)} is not a number`);
    assert.ok(Math.abs(got - want) <= tolerance, `${path}: ${got} vs ${want}`);
  } else if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${path} is not an array`);
    assert.equal(got.length, want.length, `${path}: length`);
    want.forEach((w, i) => assertClose(got[i], w, `${path}[${i}]`, tolerance));
  } else if (want !== null && typeof want === 'object') {
    assert.deepEqual(Object.keys(got ?? {}).sort(), Object.keys(want).sort(), `${path}: fields`);
    for (const key of Object.keys(want)) assertClose(got[key], want[key], `${path}.${key}`, tolerance);
  } else {
    assert.equal(got, want, path);
  }
}
