// The comparison query of README's performance table, in DuckDB (npm
// @duckdb/node-api): read a rewardspy JSONL log, compute the rolling (by step)
// 100-record mean (full windows only, as pandas and Polars) and standard deviation of the reward and the mean of each
// component, and print a few aggregates so nothing is skipped.
// Usage: node query_duckdb.js LOG.jsonl
const { DuckDBInstance } = require('@duckdb/node-api');

(async () => {
  const path = process.argv[2];
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const c = await db.connect();
  const r = await c.runAndReadAll(`
    WITH t AS (
      SELECT step AS i, scalar_reward AS r,
             components.correctness AS c1, components.format AS c2,
             components.length_penalty AS c3
      FROM read_json('${path}', format = 'newline_delimited')),
    w AS (
      SELECT count(r) OVER win AS k, avg(r) OVER win AS m, stddev_samp(r) OVER win AS s, c1, c2, c3
      FROM t WINDOW win AS (ORDER BY i ROWS BETWEEN 99 PRECEDING AND CURRENT ROW))
    SELECT count(*) AS n, max(m) FILTER (k = 100) AS max_mean, max(s) FILTER (k = 100) AS max_std,
           avg(c1) AS correctness, avg(c2) AS format, avg(c3) AS length_penalty
    FROM w`);
  console.log(JSON.stringify(r.getRowObjectsJson()));
})().catch((e) => { console.error(e); process.exit(1); });
