// Queries of the cost dashboard. Money comes from bo1's `api_costs` ledger (USD, every provider,
// per user, exact, surviving restarts); calendar days and months are UTC. Prometheus'
// llm_cost_dollars_total gives the live spend rate only.
{
  // The UTC moment the dashboard range ends, as a timestamp without time zone.
  local end = "($__timeTo()::timestamptz AT TIME ZONE 'UTC')",

  // Spend per UTC day of the calendar month that holds the end of the range, up to that end (the
  // month-to-date panels): whole days from the rollup api_costs_daily, which triggers on api_costs keep
  // exact (infra/postgres/cost-rollup.sql), and the end's own day from the ledger on its created_at
  // index. A month's partition is not read row by row on every refresh.
  local monthByDay = |||
    SELECT day::timestamp AT TIME ZONE 'UTC' AS day, total_cost AS spend
    FROM api_costs_daily
    WHERE day >= date_trunc('month', %(end)s)::date AND day < date_trunc('day', %(end)s)::date
    UNION ALL
    SELECT date_trunc('day', %(end)s) AT TIME ZONE 'UTC', total_cost
    FROM api_costs
    WHERE created_at >= date_trunc('day', %(end)s) AT TIME ZONE 'UTC' AND created_at < $__timeTo()
  ||| % { end: end },

  dailySpend(c):: |||
    SELECT $__timeGroupAlias(created_at, '1d'), sum(total_cost)::float8 AS "spend"
    FROM api_costs
    WHERE $__timeFilter(created_at)
    GROUP BY 1
    ORDER BY 1
  |||,

  // brave/tavily calls carry no model: they show under their provider.
  spendByModel(c):: |||
    SELECT coalesce(model_name, provider) AS "model", sum(total_cost)::float8 AS "spend"
    FROM api_costs
    WHERE $__timeFilter(created_at)
    GROUP BY 1
    ORDER BY 2 DESC
  |||,

  topUsers(c):: |||
    SELECT coalesce(u.email, c.user_id) AS "user", sum(c.total_cost)::float8 AS "spend"
    FROM api_costs c
    LEFT JOIN users u ON u.id = c.user_id
    WHERE c.user_id IS NOT NULL AND $__timeFilter(c.created_at)
    GROUP BY 1
    ORDER BY 2 DESC
    LIMIT 10
  |||,

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

  costPerSession(c):: |||
    SELECT (sum(total_cost) / NULLIF(count(DISTINCT session_id), 0))::float8 AS "cost per session"
    FROM api_costs
    WHERE session_id IS NOT NULL AND $__timeFilter(created_at)
  |||,

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
