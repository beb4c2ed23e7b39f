// A GPT-2-shaped model whose every weight is 0, in 16 bits: its numbers mean nothing, but a
// long prompt takes the engine real time per layer (a zero costs what any weight costs), so a
// test can watch a long prefill's progress and cancel it. Made in memory in milliseconds.
export function zeroGpt2({ layers, width, positions, vocab = 50257 }) {
  const c = width;
  const shapes = { 'wte.weight': [vocab, c], 'wpe.weight': [positions, c] };
  for (let i = 0; i < layers; i += 1) {
    const h = `h.${i}`;
    Object.assign(shapes, {
      [`${h}.ln_1.weight`]: [c], [`${h}.ln_1.bias`]: [c],
      [`${h}.attn.c_attn.weight`]: [c, 3 * c], [`${h}.attn.c_attn.bias`]: [3 * c],
      [`${h}.attn.c_proj.weight`]: [c, c], [`${h}.attn.c_proj.bias`]: [c],
      [`${h}.ln_2.weight`]: [c], [`${h}.ln_2.bias`]: [c],
      [`${h}.mlp.c_fc.weight`]: [c, 4 * c], [`${h}.mlp.c_fc.bias`]: [4 * c],
      [`${h}.mlp.c_proj.weight`]: [4 * c, c], [`${h}.mlp.c_proj.bias`]: [c],
    });
  }
  shapes['ln_f.weight'] = [c];
  shapes['ln_f.bias'] = [c];
  const header = {};
  let offset = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the format pads the header to 8 bytes
  const weights = Buffer.alloc(8 + json.length + offset);
  weights.writeBigUInt64LE(BigInt(json.length));
  weights.write(json, 8, 'latin1');
  const config = {
    model_type: 'gpt2', vocab_size: vocab, n_positions: positions, n_embd: c, n_layer: layers,
    n_head: 4, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new',
  };
  return { config: JSON.stringify(config), weights };
}
