// gpt2-vocab.js rebuilds GPT-2's vocab.json and merges.txt from the r50k_base
// ranks that the npm package "tiktoken" ships (encoders/r50k_base.json, MIT),
// and writes a Hugging Face tokenizer.json for them with the Node binding of
// Hugging Face tokenizers. Output: testdata/tokenize/gpt2/.
//
// r50k_base is GPT-2's encoding: rank = GPT-2 token id, 0..255 are the single
// bytes, and token 256+i is the result of merge i. The merge that made a
// token is found the way tiktoken's own converters do it: byte-pair-encode the
// token's bytes using only lower ranks; exactly two parts remain.
//
// Usage (from the repo root): node tools/golden/gpt2-vocab.js
'use strict';
const fs = require('fs');
const path = require('path');
const hf = require('tokenizers');

const repo = path.resolve(__dirname, '..', '..');
const outDir = path.join(repo, 'testdata', 'tokenize', 'gpt2');
const r50k = require('tiktoken/encoders/r50k_base.json');

// The ranks are stored as lines "! <first rank> <base64 token> <base64 token>...".
const byRank = [];
for (const line of r50k.bpe_ranks.split('\n').filter(Boolean)) {
  const [, offset, ...tokens] = line.split(' ');
  tokens.forEach((t, i) => { byRank[Number(offset) + i] = Buffer.from(t, 'base64'); });
}
const rankOf = new Map(byRank.map((b, r) => [b.toString('latin1'), r]));
if (byRank.length !== 50256) throw new Error(`expected 50256 ranks, got ${byRank.length}`);

// GPT-2's byte-level alphabet (bytes_to_unicode).
const byteChar = [];
{
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    byteChar[b] = String.fromCodePoint(printable ? b : next++);
  }
}
const show = (buf) => Array.from(buf, (b) => byteChar[b]).join('');

// bpeParts splits bytes into the parts that merges of rank < maxRank make.
function bpeParts(bytes, maxRank) {
  let parts = Array.from(bytes, (b) => Buffer.from([b]));
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = rankOf.get(Buffer.concat([parts[i], parts[i + 1]]).toString('latin1'));
      if (r !== undefined && r < maxRank && r < bestRank) { best = i; bestRank = r; }
    }
    if (best < 0) return parts;
    parts.splice(best, 2, Buffer.concat([parts[best], parts[best + 1]]));
  }
}

const merges = [];
for (let r = 0; r < byRank.length; r++) {
  const tok = byRank[r];
  if (r < 256) {
    if (tok.length !== 1) throw new Error(`rank ${r} is not a single byte`);
    continue;
  }
  const parts = bpeParts(tok, r);
  if (parts.length !== 2) throw new Error(`rank ${r}: lower ranks leave ${parts.length} parts, not 2`);
  merges.push(`${show(parts[0])} ${show(parts[1])}`);
}

fs.mkdirSync(outDir, { recursive: true });
// Written by hand, in id order: JSON.stringify would move integer-like keys
// ("0", "201") to the front.
const entries = byRank.map((b, r) => `${JSON.stringify(show(b))}: ${r}`);
for (const [tok, id] of Object.entries(r50k.special_tokens)) entries.push(`${JSON.stringify(tok)}: ${id}`);
const vocabPath = path.join(outDir, 'vocab.json');
const mergesPath = path.join(outDir, 'merges.txt');
fs.writeFileSync(vocabPath, '{' + entries.join(', ') + '}\n');
fs.writeFileSync(mergesPath, '#version: 0.2\n' + merges.join('\n') + '\n');

(async () => {
  const tok = new hf.Tokenizer(await hf.BPE.fromFile(vocabPath, mergesPath));
  tok.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
  tok.addSpecialTokens(['<|endoftext|>']);
  // The Node binding has no ByteLevel decoder constructor; the decoder is
  // written into the saved JSON and the file is loaded back to check it.
  const jsonPath = path.join(outDir, 'tokenizer.json');
  tok.save(jsonPath, false);
  const j = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  j.decoder = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  fs.writeFileSync(jsonPath, JSON.stringify(j));
  const check = hf.Tokenizer.fromFile(jsonPath);
  const text = 'Hello world, naïve café 👍';
  const enc = await check.encode(text, null, { addSpecialTokens: false });
  const back = await check.decode(enc.getIds(), false);
  if (back !== text) throw new Error(`tokenizer.json round trip: ${JSON.stringify(back)}`);
  console.log(`wrote ${outDir}: ${byRank.length + 1} tokens, ${merges.length} merges`);
})();
