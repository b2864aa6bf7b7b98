// goldens.js writes the golden files the Go tests of tokenize/ compare with:
//
//   testdata/tokenize/golden/corpus.jsonl.gz   the texts, one JSON object a line
//   testdata/tokenize/golden/NAME.ids.gz       Hugging Face's ids, one line per text
//   testdata/tokenize/golden/NAME.decode.jsonl.gz   Hugging Face's decode of them
//   testdata/tokenize/golden/manifest.json     which vocabulary and options each NAME used
//
// The ids come from Hugging Face tokenizers itself (the npm package
// "tokenizers", its Node binding of the Rust library); for GPT-2 they are
// also checked against OpenAI's tiktoken (npm "tiktoken", r50k_base) and the
// script stops if the two disagree on any text.
//
// The texts: WikiText-2, Chinese Wikipedia, XQuAD en/zh, Common Crawl (CCNet
// documents from Dolma, a WET file), hand-written messy lines (accents,
// emoji, control and zero-width characters, very long words, mixed scripts,
// special tokens written in the text) and seeded random Unicode soup.
//
// Usage (from the repo root, after `npm ci --prefix tools/golden`):
//   node tools/golden/goldens.js [TESTDATA_DIR]
// TESTDATA_DIR defaults to the repository's testdata/, so a fresh clone
// regenerates the committed goldens byte for byte.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const hf = require('tokenizers');
const { get_encoding } = require('tiktoken');
const { buildCorpus } = require('./corpus');

const repo = path.resolve(__dirname, '..', '..');
const testdata = path.resolve(process.argv[2] || path.join(repo, 'testdata'));
const outDir = path.join(repo, 'testdata', 'tokenize', 'golden');
const vocabDir = path.join(repo, 'testdata', 'tokenize', 'vocab');
const gpt2Dir = path.join(repo, 'testdata', 'tokenize', 'gpt2');
const rel = (p) => path.relative(path.join(repo, 'testdata', 'tokenize'), p);

const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

// bertFromVocab builds what BertTokenizerFast builds from a vocab.txt.
async function bertFromVocab(vocab, normalizer) {
  const t = new hf.Tokenizer(await hf.WordPiece.fromFile(vocab, { unkToken: '[UNK]' }));
  t.setNormalizer(hf.bertNormalizer(normalizer));
  t.setPreTokenizer(hf.bertPreTokenizer());
  t.setDecoder(hf.wordPieceDecoder('##', true));
  t.addSpecialTokens(BERT_SPECIALS);
  return t;
}

// Every golden: NAME → how the reference tokenizer is built, and what the Go
// test must load to match it. "variant" goldens cover only a subset of the
// texts (every line of the messy and random sets, every 5th line of others).
const goldens = [
  {
    name: 'bert-base-uncased',
    load: { tokenizer_json: 'vocab/bert-base-uncased-tokenizer.json', vocab_txt: 'vocab/bert-base-uncased-vocab.txt' },
    make: () => hf.Tokenizer.fromFile(path.join(vocabDir, 'bert-base-uncased-tokenizer.json')),
  },
  {
    name: 'bert-base-chinese',
    load: { tokenizer_json: 'vocab/bert-base-chinese-tokenizer.json', vocab_txt: 'vocab/bert-base-chinese-vocab.txt' },
    make: () => hf.Tokenizer.fromFile(path.join(vocabDir, 'bert-base-chinese-tokenizer.json')),
  },
  {
    name: 'gpt2',
    load: { tokenizer_json: 'gpt2/tokenizer.json', vocab_json: 'gpt2/vocab.json', merges_txt: 'gpt2/merges.txt' },
    make: () => hf.Tokenizer.fromFile(path.join(gpt2Dir, 'tokenizer.json')),
    tiktoken: 'r50k_base',
  },
  {
    // RoBERTa's way of using the GPT-2 BPE: a space before each text
    // (add_prefix_space) and special tokens, <mask> taking the space before
    // it (lstrip). The tokenizer.json is saved by Hugging Face.
    name: 'roberta-style',
    variant: true,
    load: { tokenizer_json_gz: 'golden/roberta-style.tokenizer.json.gz' },
    make: () => {
      const t = hf.Tokenizer.fromFile(path.join(gpt2Dir, 'tokenizer.json'));
      t.setPreTokenizer(hf.byteLevelPreTokenizer(true, true));
      t.addAddedTokens([
        new hf.AddedToken('<s>', true), new hf.AddedToken('<pad>', true), new hf.AddedToken('</s>', true),
        new hf.AddedToken('<unk>', true), new hf.AddedToken('<mask>', true, { leftStrip: true }),
      ]);
      const tmp = path.join(outDir, 'roberta-style.tokenizer.json');
      t.save(tmp, false);
      writeGz(tmp + '.gz', fs.readFileSync(tmp));
      fs.unlinkSync(tmp);
      return t;
    },
  },
  ...[
    ['uncased-vocab-cased', { cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false }],
    ['uncased-vocab-keep-accents', { cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: true }],
    ['uncased-vocab-strip-only', { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: false }],
    ['uncased-vocab-no-clean', { cleanText: false, handleChineseChars: true, stripAccents: true, lowercase: true }],
    ['chinese-vocab-no-cjk-split', { cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false }],
  ].map(([name, n]) => {
    const vocab = name.startsWith('chinese') ? 'vocab/bert-base-chinese-vocab.txt' : 'vocab/bert-base-uncased-vocab.txt';
    return {
      name,
      variant: true,
      load: { vocab_txt: vocab, options: { lowercase: n.lowercase, strip_accents: n.stripAccents, tokenize_chinese: n.handleChineseChars, clean_text: n.cleanText } },
      make: () => bertFromVocab(path.join(repo, 'testdata', 'tokenize', vocab), n),
    };
  }),
];

const inVariant = (rec, i) => rec.src === 'messy' || rec.src === 'random' || i % 5 === 0;

function writeGz(file, text) {
  fs.writeFileSync(file, zlib.gzipSync(text, { level: 9 }));
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const corpus = buildCorpus(testdata);
  writeGz(path.join(outDir, 'corpus.jsonl.gz'), corpus.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const manifest = { generator: 'tools/golden/goldens.js', tokenizers: require('tokenizers/package.json').version, tiktoken: JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', 'tiktoken', 'package.json'), 'utf8')).version, texts: corpus.length, goldens: [] };
  for (const g of goldens) {
    const tok = await g.make();
    const idx = corpus.map((r, i) => (!g.variant || inVariant(r, i) ? i : -1)).filter((i) => i >= 0);
    const encs = await tok.encodeBatch(idx.map((i) => corpus[i].text), { addSpecialTokens: false });
    const ids = new Array(corpus.length).fill(null);
    idx.forEach((i, k) => { ids[i] = encs[k].getIds(); });
    let tokens = 0;
    for (const x of ids) if (x) tokens += x.length;
    if (g.tiktoken) checkTiktoken(g, corpus, ids);
    const decoded = await tok.decodeBatch(idx.map((i) => ids[i]), false);
    const dec = new Array(corpus.length).fill(null);
    idx.forEach((i, k) => { dec[i] = decoded[k]; });
    // Half sequences cut multi-byte characters (BPE) and words (WordPiece).
    const halves = await tok.decodeBatch(idx.map((i) => ids[i].slice(0, Math.ceil(ids[i].length / 2))), false);
    const half = new Array(corpus.length).fill(null);
    idx.forEach((i, k) => { half[i] = halves[k]; });
    writeGz(path.join(outDir, `${g.name}.ids.gz`), ids.map((x) => (x ? x.join(' ') : '-')).join('\n') + '\n');
    writeGz(path.join(outDir, `${g.name}.decode.jsonl.gz`), dec.map((d, i) => JSON.stringify(d === null ? null : { full: d, half: half[i] })).join('\n') + '\n');
    manifest.goldens.push({ name: g.name, texts: idx.length, tokens, ...g.load, tiktoken: g.tiktoken });
    console.log(`${g.name}: ${idx.length} texts, ${tokens} tokens`);
  }
  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

// checkTiktoken stops the script when OpenAI's own encoder disagrees with
// Hugging Face's on any text: the GPT-2 files were rebuilt from tiktoken's
// ranks, so agreement on every line also checks the rebuild.
function checkTiktoken(g, corpus, ids) {
  const enc = get_encoding(g.tiktoken);
  let bad = 0;
  corpus.forEach((r, i) => {
    if (!ids[i]) return;
    const want = Array.from(enc.encode(r.text, 'all'));
    if (want.join(' ') !== ids[i].join(' ')) {
      if (bad++ < 5) console.error(`tiktoken disagrees on text ${i} (${r.src}): ${JSON.stringify(r.text.slice(0, 80))}`);
    }
  });
  enc.free();
  if (bad > 0) throw new Error(`${g.name}: tiktoken and Hugging Face disagree on ${bad} texts`);
  console.log(`${g.name}: tiktoken ${g.tiktoken} agrees on every text`);
}

main().catch((e) => { console.error(e); process.exit(1); });
