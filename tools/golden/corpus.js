// corpus.js assembles the texts the goldens are computed on, deterministically
// (same test data in, same corpus out). Each record: {src, text}.
//
// It reads the repository's testdata/ (byte-for-byte copies of the shared
// sample data): WikiText-2 and zhwiki from testdata/corpus/*.gz, the Dolma
// CCNet pages from testdata/text, XQuAD from testdata/testsets and the WET
// file from testdata/warc. A directory laid out like the shared test data
// (text/*.txt uncompressed) works too.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

function nonEmptyLines(text) {
  return text.split('\n').filter((l) => l.trim() !== '');
}

// wetConversions returns the text of each WET "conversion" record.
function wetConversions(buf) {
  const text = zlib.gunzipSync(buf).toString('utf8');
  const out = [];
  for (const rec of text.split('WARC/1.0\r\n').slice(1)) {
    const sep = rec.indexOf('\r\n\r\n');
    if (sep < 0 || !/WARC-Type: conversion/.test(rec.slice(0, sep))) continue;
    out.push(rec.slice(sep + 4).trim());
  }
  return out;
}

// Hand-written lines for what web text throws at a tokenizer.
const MESSY = [
  'Café au lait, naïve façade, résumé, jalapeño, Ångström, Øresund, smörgåsbord.',
  'İstanbul İİİ ıi DİYARBAKIR straße STRASSE ǅemal ǈubljana ǋoć ΣΊΣΥΦΟΣ ὈΔΥΣΣΕΎΣ',
  'Zalgo: Z̴̡̧̛̖̗̘̙̜̝̞̟̠̤̥̦̩̪̫̬̭̮̯̰̱̲̳̹̺̻̼͇͈͉͍͎̀́̂̃̄̅̆̇̈̉̊̋̌̍̎̏̐̑̒̓̔̽̾̿̀́͂̓̈́͆͊͋͌ͅ͏͓͔͕͖͙͚͐͑͒͗͛ͣͤͥͦͧͨͩͪͫͬͭͮͯ͘͜͟͢͝͞͠͡a̸l̷g̶o̵',
  'Emoji 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇯🇵 ❤️ ☺︎ 1️⃣ #️⃣ 🫠 🧑🏿‍🚀 and text👍after',
  'Controls:\u0000NUL\u0001SOH\u0007BEL\u0008BS\u001b[31mred\u001b[0m\u007fDEL\u0085NEL\u009fAPC end',
  'Zero\u200bwidth\u200cjoiners\u200dand\u2060word\ufeffjoiner\u00adsoft\u00adhyphen\u200e\u200f\u202a\u202e',
  'Spaces:\u00a0nbsp\u2002en\u2003em\u2009thin\u202fnarrow\u205fmath\u3000ideographic\u1680ogham\u2028line\u2029para\tTab\u000bVT\u000cFF\rCR',
  'Replacement \ufffd char and private use \ue000\uf8ff\udb80\udc00 and noncharacters \ufdd0 \ufffe \uffff',
  'a'.repeat(99) + ' ' + 'b'.repeat(100) + ' ' + 'c'.repeat(101) + ' ' + 'd'.repeat(300),
  'Pneumonoultramicroscopicsilicovolcanoconiosis supercalifragilisticexpialidocious antidisestablishmentarianism',
  'https://example.com/path?query=1&b=two#frag user@example.org C:\\Windows\\System32 ~/.bashrc /usr/local/bin',
  'function f(x) { return x*2 + y[3] - z->w; } // C++: std::vector<int> v{1,2,3}; #include <stdio.h>',
  '[CLS] starts, middle [SEP] here, [MASK]ed and [UNK]x y[PAD]z [cls] [ SEP ] [[SEP]] <|endoftext|>between<|endoftext|>',
  'Mixed scripts: English, Русский текст, Ελληνικά, עברית, العربية, हिन्दी, ไทย, 한국어 텍스트, 日本語のテキスト, 中文文本。',
  'Korean: 안녕하세요 세계 ㄱㄴㄷ ᄀᄁᄂ 가각간 Japanese: ｶﾀｶﾅ ﾊﾝｶｸ カタカナ ひらがな 漢字 Fullwidth: ＡＢＣ１２３！？',
  'Numbers: 3.14159 1,000,000 1e-10 ½ ¾ ² ³ ① Ⅻ ٣ ๓ 〇 一二三 0x1F 007 -42 +7 10^9 ∞',
  'Math & symbols: ∀x∈ℝ, ∃y: x²+y²≤1 ⇒ √2 ≈ 1.414 ± 0.001 € £ ¥ ₹ © ® ™ § ¶ † ‡ • … ‰ ′ ″',
  'Quotes “double” ‘single’ «guillemets» „German“ 「Japanese」 『double』 — em – en ‐ hyphen',
  "Contractions: don't won't it's I'm you're we've they'll he'd O'Neil rock'n'roll 'quoted' ''double''",
  "Apostrophes: DON'T IT'S 's 't 're 've 'm 'll 'd 'S 'T 'x",
  '   leading spaces and trailing spaces   ',
  '\t\ttabs\tand\nnew\nlines\r\nand  double  spaces',
  'CJK compatibility 豈 更 車 and extension B 𠀀 𠀁 𪜀 and radicals ⺀ ⼀ and strokes ㇀',
  'Decomposables: Å Å ḱ ǘ ẛ̣ ﬁ ﬀ ﬃ Ⅳ ㎏ ℃ ℉ ℡ ǆ Ǆ ǅ ŉ ẞ ß ſ K Ω',
  'Combining sequences: e\u0301 e\u0301\u0327 a\u0328\u0301 o\u031b\u0323 u\u0308\u0304 q\u0307\u0323 x\u0345\u0301',
  'Hangul tone marks 〮〯 and Tibetan ཀྵ ཱི ྲྀ and Devanagari क्षत्रिय and Thai กินข้าว',
  'All caps SENTENCE WITH ACRONYMS like NASA, U.S.A., and e.g. i.e. etc.',
  'Repeated punctuation!!!??? ... ---- ==== **** #### @@@ $$$ %%% ^^^ &&& ((( ))) ___ +++',
  '',
  ' ',
  '\u0000',
  '😀',
  'x',
  '##',
  '##ing ##s',
  'A' + '\u0301'.repeat(50) + 'B',
  'hello<|endoftext|>',
  'RoBERTa: fill the <mask> and  <mask>here, <s>start</s> <pad><pad> <unk> and <mask>',
  '<mask>',
  ' <mask> ',
  'Tab-separated\tvalues\tin\ta\tline\t1\t2\t3',
  'Arabic with diacritics: بِسْمِ ٱللَّٰهِ ٱلرَّحْمَٰنِ ٱلرَّحِيمِ and Hebrew niqqud: בְּרֵאשִׁית',
  'Vietnamese: Tiếng Việt có dấu, Nguyễn, Phở, Đà Nẵng, Hà Nội',
  'Long number 12345678901234567890123456789012345678901234567890 and hex deadbeefcafebabe0123456789abcdef',
  'base64 ' + 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk'.repeat(4),
  'DNA ' + 'ACGTTGCAACGGTTCA'.repeat(40),
  '=' .repeat(200),
  'A Ｂ Ｃ and ﹖ ﹗ and ︰ vertical forms ︵ ︶',
];

// mulberry32: a tiny seeded PRNG, so the random soup is the same every run.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Code point ranges the soup draws from: scripts, marks, controls, format
// characters, emoji, private use, unassigned and astral planes.
const RANGES = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x00, 0x1f], [0x7f, 0x9f], [0xa0, 0xff], [0x100, 0x24f],
  [0x250, 0x2ff], [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff], [0x530, 0x58f], [0x590, 0x5ff],
  [0x600, 0x6ff], [0x700, 0x8ff], [0x900, 0x97f], [0x980, 0xdff], [0xe00, 0xfff], [0x1000, 0x10ff],
  [0x1100, 0x11ff], [0x1200, 0x1fff], [0x2000, 0x206f], [0x2070, 0x2bff], [0x2c00, 0x2fff],
  [0x3000, 0x30ff], [0x3100, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xabff],
  [0xac00, 0xd7a3], [0xd7b0, 0xd7ff], [0xe000, 0xf8ff], [0xf900, 0xfaff], [0xfb00, 0xfdff],
  [0xfe00, 0xfe6f], [0xfe70, 0xffff], [0x10000, 0x1ffff], [0x1f300, 0x1faff], [0x20000, 0x2ffff],
  [0x30000, 0x3ffff], [0xe0000, 0xe01ef], [0xf0000, 0x10ffff],
];

function soup(n, seed) {
  const rand = rng(seed);
  const out = [];
  for (let line = 0; line < n; line++) {
    const words = 1 + Math.floor(rand() * 12);
    const parts = [];
    for (let w = 0; w < words; w++) {
      const len = 1 + Math.floor(rand() * (rand() < 0.05 ? 120 : 8));
      let word = '';
      for (let k = 0; k < len; k++) {
        const [lo, hi] = RANGES[Math.floor(rand() * RANGES.length)];
        let cp = lo + Math.floor(rand() * (hi - lo + 1));
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x61; // surrogates are not characters
        word += String.fromCodePoint(cp);
      }
      parts.push(word);
    }
    const seps = [' ', ' ', ' ', '  ', '\t', '\n', '', '\u3000'];
    out.push(parts.map((p, i) => (i ? seps[Math.floor(rand() * seps.length)] : '') + p).join(''));
  }
  return out;
}

function buildCorpus(testdata) {
  const read = (...p) => fs.readFileSync(path.join(testdata, ...p), 'utf8');
  // readText reads a text sample: testdata/corpus/NAME.gz where the
  // repository keeps it compressed, else text/NAME.
  const readText = (name) => {
    const packed = path.join(testdata, 'corpus', name + '.gz');
    if (fs.existsSync(packed)) return zlib.gunzipSync(fs.readFileSync(packed)).toString('utf8');
    return read('text', name);
  };
  const recs = [];
  const add = (src, texts) => texts.forEach((text) => recs.push({ src, text }));
  add('wikitext', nonEmptyLines(readText('wikitext-2-test.txt')));
  add('zhwiki', nonEmptyLines(readText('zhwiki-AA-wiki_00.txt')));
  for (const lang of ['en', 'zh']) {
    const squad = JSON.parse(read('testsets', `xquad.${lang}.json`));
    const texts = [];
    for (const a of squad.data) {
      for (const p of a.paragraphs) {
        texts.push(p.context);
        for (const q of p.qas) texts.push(q.question, ...q.answers.map((x) => x.text));
      }
    }
    add(`xquad.${lang}`, texts);
  }
  for (const f of ['dolma-cc_en_head-0091.jsonl', 'dolma-cc_en_head-0174.jsonl']) {
    const docs = nonEmptyLines(readText(f)).map((l) => JSON.parse(l).text);
    add('commoncrawl', docs); // whole documents, newlines and all
  }
  add('wet', wetConversions(fs.readFileSync(path.join(testdata, 'warc', 'whirlwind.warc.wet.gz'))));
  add('messy', MESSY);
  add('random', soup(3000, 20240601));
  return recs;
}

module.exports = { buildCorpus };
