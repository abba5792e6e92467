// The comparison query of README's performance table, in Polars (npm
// nodejs-polars, lazy NDJSON scan so only the needed fields are kept): the
// same as query_duckdb.js.
// Usage: node query_polars.js LOG.jsonl
const pl = require('nodejs-polars');

const df = pl.scanJson(process.argv[2])
  .select(pl.col('scalar_reward').alias('r'), pl.col('components'))
  .collectSync();
const r = df.getColumn('r');
const comps = df.getColumn('components').struct;
console.log(JSON.stringify({
  n: df.height,
  max_mean: r.rollingMean(100).max(),
  max_std: r.rollingStd(100).max(),
  correctness: comps.field('correctness').mean(),
  format: comps.field('format').mean(),
  length_penalty: comps.field('length_penalty').mean(),
}));
