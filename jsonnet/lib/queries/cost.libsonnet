// Queries of the cost dashboard. Money comes from bo1's `api_costs` ledger (USD, every provider,
// per user, exact, surviving restarts); calendar days and months are UTC. Prometheus'
// llm_cost_dollars_total gives the live spend rate only.
{
  // The UTC moment the dashboard range ends, as a timestamp without time zone.
  local end = "($__timeTo()::timestamptz AT TIME ZONE 'UTC')",

  // Spend per UTC day of the calendar month that holds the end of the range, up to that end (the
  // month-to-date panels): whole days from the rollup api_costs_daily, which triggers on api_costs keep
  // exact (infra/postgres/cost-rollup.sql), and the end's own day from the ledger on its created_at
  // index, summed there (no row when the day has none). A month's partition is not read row by row on
  // every refresh.
  local monthByDay = |||
    SELECT day::timestamp AT TIME ZONE 'UTC' AS day, total_cost AS spend
    FROM api_costs_daily
    WHERE day >= date_trunc('month', %(end)s)::date AND day < date_trunc('day', %(end)s)::date
    UNION ALL
    SELECT date_trunc('day', %(end)s) AT TIME ZONE 'UTC', sum(total_cost)
    FROM api_costs
    WHERE created_at >= date_trunc('day', %(end)s) AT TIME ZONE 'UTC' AND created_at < $__timeTo()
    HAVING count(*) > 0
  ||| % { end: end },

  // The range's whole UTC days come from the rollup (infra/postgres/cost-rollup.sql), its partial first
  // day and its last day from the ledger on its created_at index, so a long range reads days, not rows.
  // firstDay: the first UTC midnight at or after the range's start; lastDay: the last one at or before
  // its end. Whole days: [firstDay, lastDay). The ledger rows of the range before firstDay and from
  // max(firstDay, lastDay) on are the rest, each counted once (a range inside one day: all its rows).
  local firstDay = "(date_trunc('day', ($__timeFrom()::timestamptz AT TIME ZONE 'UTC') - interval '1 microsecond') + interval '1 day')",
  local lastDay = "date_trunc('day', %s)" % end,

  // `cols` of `table`'s rows for the range's whole days.
  local rollupDays(table, cols) = |||
    SELECT %(cols)s FROM %(table)s
    WHERE day >= %(first)s::date AND day < %(last)s::date
  ||| % { cols: cols, table: table, first: firstDay, last: lastDay },

  // The ledger rows of the range outside its whole days (`where`: a further condition), summed per
  // `keys` as `spend` in each part, so the outer query adds up groups rather than rows.
  local ledgerEdges(keys, where='') = |||
    SELECT %(keys)s, sum(total_cost) AS spend FROM api_costs
    WHERE %(where)s$__timeFilter(created_at) AND created_at < %(first)s AT TIME ZONE 'UTC'
    GROUP BY %(keys)s
    UNION ALL
    SELECT %(keys)s, sum(total_cost) AS spend FROM api_costs
    WHERE %(where)s$__timeFilter(created_at)
      AND created_at >= %(first)s AT TIME ZONE 'UTC' AND created_at >= %(last)s AT TIME ZONE 'UTC'
    GROUP BY %(keys)s
  ||| % { keys: keys, where: if where == '' then '' else where + ' AND ', first: firstDay, last: lastDay },

  dailySpend(c):: |||
    SELECT $__timeGroupAlias(t, '1d'), sum(spend)::float8 AS "spend"
    FROM (
    %sUNION ALL
    %s) AS spend
    GROUP BY 1
    ORDER BY 1
  ||| % [
    rollupDays('api_costs_daily', "day::timestamp AT TIME ZONE 'UTC' AS t, total_cost AS spend"),
    ledgerEdges("date_trunc('day', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"),
  ],

  // brave/tavily calls carry no model: they show under their provider.
  spendByModel(c):: |||
    SELECT coalesce(model_name, provider) AS "model", sum(spend)::float8 AS "spend"
    FROM (
    %sUNION ALL
    %s) AS spend
    GROUP BY 1
    ORDER BY 2 DESC
  ||| % [
    rollupDays('api_costs_daily_model', 'provider, model_name, total_cost AS spend'),
    ledgerEdges('provider, model_name'),
  ],

  topUsers(c):: |||
    SELECT coalesce(u.email, s.user_id) AS "user", sum(s.spend)::float8 AS "spend"
    FROM (
    %sUNION ALL
    %s) AS s
    LEFT JOIN users u ON u.id = s.user_id
    GROUP BY 1
    ORDER BY 2 DESC
    LIMIT 10
  ||| % [
    rollupDays('api_costs_daily_user', 'user_id, total_cost AS spend'),
    ledgerEdges('user_id', 'user_id IS NOT NULL'),
  ],

  // An empty month is a true $0.
  monthToDate(c):: |||
    SELECT coalesce(sum(spend), 0)::float8 AS "month to date"
    FROM (
    %s) AS month
  ||| % monthByDay,

  cumulativeMonthly(c):: |||
    SELECT day AS "time", sum(sum(spend)) OVER (ORDER BY day)::float8 AS "month-to-date spend"
    FROM (
    %s) AS month
    GROUP BY day
    ORDER BY 1
  ||| % monthByDay,

  // A session spending on several days of the range is one session (distinct over the days' rows).
  costPerSession(c):: |||
    SELECT (sum(spend) / NULLIF(count(DISTINCT session_id), 0))::float8 AS "cost per session"
    FROM (
    %sUNION ALL
    %s) AS s
  ||| % [
    rollupDays('api_costs_daily_session', 'session_id, total_cost AS spend'),
    ledgerEdges('session_id', 'session_id IS NOT NULL'),
  ],

  budgetUsed(c):: |||
    SELECT (coalesce(sum(spend), 0) / %s)::float8 AS "budget used"
    FROM (
    %s) AS month
  ||| % [c.llmMonthlyBudgetUsd, monthByDay],

  // Live rates read the recording rules of rules/rules.libsonnet (bo1-dashboards.rules) as they are:
  // these panels always show the last _config.liveRange, whose step is a few rule evaluations at most.
  // (An avg_over_time() would over-weigh the first minute of every series that appears.)
  liveSpendRate(c)::
    'sum by (provider) (provider:llm_cost_dollars:rate%s{%s}) * 3600' % [c.dashboardRateWindow, c.apiSelector],

  tokensByType(c)::
    'sum by (token_type) (token_type:llm_tokens:rate%s{%s})' % [c.dashboardRateWindow, c.apiSelector],
}
