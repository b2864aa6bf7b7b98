// bench.js times Hugging Face tokenizers (Node binding) and tiktoken on the
// same lines as tokenize's Go benchmarks (the golden corpus: en = WikiText-2,
// XQuAD en, CCNet documents; zh = zhwiki, XQuAD zh). Run through
// tools/golden/bench.sh, which runs both sides in one go.
//
// Modes: "line" awaits encode() for one line at a time (how a streaming
// pipeline would call it); "batch" hands all lines to encodeBatch() (Rust
// threads, as many as RAYON_NUM_THREADS); tiktoken encodes one line at a time
// (WASM, single-threaded).
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const hf = require('tokenizers');
const { get_encoding } = require('tiktoken');

const repo = path.resolve(__dirname, '..', '..');
const td = path.join(repo, 'testdata', 'tokenize');
const corpus = zlib.gunzipSync(fs.readFileSync(path.join(td, 'golden', 'corpus.jsonl.gz'))).toString('utf8')
  .split('\n').filter(Boolean).map((l) => JSON.parse(l));
const SOURCES = { en: ['wikitext', 'xquad.en', 'commoncrawl'], zh: ['zhwiki', 'xquad.zh'] };
const TOKENIZERS = [
  ['wordpiece-uncased', 'vocab/bert-base-uncased-tokenizer.json'],
  ['wordpiece-chinese', 'vocab/bert-base-chinese-tokenizer.json'],
  ['bpe-gpt2', 'gpt2/tokenizer.json'],
];
const ROUNDS = Number(process.env.ROUNDS || 2);

// best runs fn ROUNDS times and returns the shortest wall-clock time and the
// least CPU time (all threads of the process, as Go's cpuMB/s counts it).
async function best(fn) {
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    wall = Math.min(wall, Number(process.hrtime.bigint() - t0) / 1e9);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  return { wall, cpu };
}

(async () => {
  const threads = process.env.RAYON_NUM_THREADS || 'all';
  for (const [name, file] of TOKENIZERS) {
    const tok = hf.Tokenizer.fromFile(path.join(td, file));
    for (const lang of ['en', 'zh']) {
      const lines = corpus.filter((r) => SOURCES[lang].includes(r.src)).map((r) => r.text);
      const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l, 'utf8'), 0);
      let tokens = 0;
      const line = await best(async () => {
        tokens = 0;
        for (const l of lines) tokens += (await tok.encode(l, null, { addSpecialTokens: false })).getLength();
      });
      let batchTokens = 0;
      const batch = await best(async () => {
        batchTokens = 0;
        for (const e of await tok.encodeBatch(lines, { addSpecialTokens: false })) batchTokens += e.getLength();
      });
      const mb = bytes / 1e6;
      // rate: MB/s and millions of tokens/s, each on the wall clock and per
      // CPU-second of the whole process.
      const rate = (t, n) => `${(mb / t.wall).toFixed(2)} MB/s (${(mb / t.cpu).toFixed(2)} cpuMB/s) `
        + `${(n / t.wall / 1e6).toFixed(2)} M tokens/s (${(n / t.cpu / 1e6).toFixed(2)} M tokens/cpu-s)`;
      let out = `hf ${name}/${lang} threads=${threads}: line ${rate(line, tokens)}; encodeBatch ${rate(batch, batchTokens)}`;
      if (name === 'bpe-gpt2') {
        const enc = get_encoding('r50k_base');
        let ttTokens = 0;
        const tt = await best(async () => {
          ttTokens = 0;
          for (const l of lines) ttTokens += enc.encode_ordinary(l).length;
        });
        enc.free();
        out += `; tiktoken line ${rate(tt, ttTokens)}`;
      }
      console.log(out);
    }
  }
})().catch((e) => { console.error(e); process.exit(1); });
