// Opens every shard of a corpusflow shard directory with Arrow JS, the
// JavaScript implementation of Apache Arrow, to prove the shards are readable
// by an Arrow implementation other than the Go one that wrote them.
//
//   node tools/arrowjs/check.mjs SHARD_DIR [--ids N]
//
// For each shard listed in manifest.json it decodes the whole table, checks
// its row count against the manifest, and prints one JSON object on stdout:
// the schema as Arrow JS sees it, the schema metadata, and per shard the row
// count, the first N ids and the first row's input_ids. The Go test
// (pack/arrowjs_test.go) compares that with the Go reader. Exit status 1 on
// any mismatch or decoding error, with the reason on stderr.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, compressionRegistry, CompressionType } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import lz4 from 'lz4js';

// Arrow JS ships no codecs: register the two that Arrow IPC allows.
compressionRegistry.set(CompressionType.ZSTD, { decode: (data) => zstdDecompress(data) });
compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: (data) => Uint8Array.from(lz4.decompress(data)) });

function fail(message) {
  process.stderr.write(`arrowjs check: ${message}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
if (args.length < 1) fail('usage: node check.mjs SHARD_DIR [--ids N]');
const dir = args[0];
let idsPerShard = 5;
const idsFlag = args.indexOf('--ids');
if (idsFlag >= 0) idsPerShard = Number(args[idsFlag + 1]);

let manifest;
try {
  manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
} catch (err) {
  fail(`${dir}: cannot read manifest.json: ${err.message}`);
}
if (manifest.version !== 1) fail(`${dir}: manifest version ${manifest.version}, expected 1`);

const report = { format: manifest.format, compression: manifest.compression, rows: 0, schema: null, metadata: {}, shards: [] };
for (const shard of manifest.shards) {
  const path = join(dir, shard.file);
  let table;
  try {
    table = tableFromIPC(readFileSync(path));
  } catch (err) {
    fail(`${path}: Arrow JS cannot decode it: ${err.stack || err}`);
  }
  if (table.numRows !== shard.rows) {
    fail(`${path}: Arrow JS reads ${table.numRows} rows, the manifest says ${shard.rows}`);
  }
  if (report.schema === null) {
    report.schema = table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) }));
    for (const [k, v] of table.schema.metadata) report.metadata[k] = v;
  }
  const idCol = table.getChild('id');
  const ids = [];
  for (let i = 0; i < Math.min(idsPerShard, table.numRows); i++) ids.push(idCol.get(i));
  const inputIDs = table.getChild('input_ids');
  const firstRow = inputIDs && table.numRows > 0 ? Array.from(inputIDs.get(0)) : null;
  report.shards.push({ file: shard.file, rows: table.numRows, ids, first_input_ids: firstRow });
  report.rows += table.numRows;
}
if (report.rows !== manifest.rows) fail(`${dir}: ${report.rows} rows in the shards, the manifest says ${manifest.rows}`);
process.stdout.write(JSON.stringify(report) + '\n');
