/** Assertions shared by the layer tests. */
import * as assert from 'uvu/assert';

/**
 * Runs `fn` and checks that it throws an instance of `Type` whose message contains every given
 * substring; returns the error. Fails when nothing is thrown or the class or message differ.
 */
export function throwsWith(fn, Type, ...substrings) {
  let caught = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== null, `expected ${Type.name} containing ${JSON.stringify(substrings)}, but nothing was thrown`);
  assert.ok(
    caught instanceof Type,
    `expected ${Type.name}, but got ${caught?.constructor?.name}: ${caught?.message}`,
  );
  for (const s of substrings) {
    assert.ok(caught.message.includes(s), `expected the message to contain ${JSON.stringify(s)}, but it is ${JSON.stringify(caught.message)}`);
  }
  return caught;
}

/** Calls of a function spec, recorded: `spec.calls` lists the shapes it was called with. */
export function recordingSpec(make) {
  const calls = [];
  const spec = (shape) => {
    calls.push(shape);
    return make(shape);
  };
  spec.calls = calls;
  return spec;
}

/** Lasagne's test_get_params: the seven tag filters on a layer with params [W, b] (b not regularizable). */
export function expectLasagneTagFilters(layer) {
  const { W, b } = layer;
  assert.equal(layer.getParams(), [W, b]);
  assert.equal(layer.getParams({ regularizable: false }), [b]);
  assert.equal(layer.getParams({ regularizable: true }), [W]);
  assert.equal(layer.getParams({ trainable: true }), [W, b]);
  assert.equal(layer.getParams({ trainable: false }), []);
  assert.equal(layer.getParams({ _nonexistent_tag: true }), []);
  assert.equal(layer.getParams({ _nonexistent_tag: false }), [W, b]);
}
