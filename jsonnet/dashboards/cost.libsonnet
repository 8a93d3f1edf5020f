// bo1 / Cost: LLM spend from the api_costs ledger (exact, per user, per calendar day), plus the
// live spend and token rates from Prometheus.
local dashboard = import '../lib/dashboard.libsonnet';
local layout = import '../lib/layout.libsonnet';
local panels = import '../lib/panels.libsonnet';
local q = import '../lib/queries/cost.libsonnet';

{
  grafanaDashboards+:: {
    'cost.json':
      local c = $._config;
      local prom = c.datasources.prometheus;
      local pg = c.datasources.postgres;
      local sql(text, format='table') = panels.sql(c, text, format);
      local t = c.thresholds;
      local budget = c.llmMonthlyBudgetUsd;
      dashboard.new(c, 'cost', 'Cost', 'LLM spend of bo1 in USD: per day, model, user and session, against the monthly budget of %d USD.' % budget, [
        layout.row('Spend (api_costs ledger, UTC days)'),
        layout.cell(panels.stat(pg, 'Month-to-date spend', 'Spend since the 1st of the (UTC) month that holds the end of the range.', 'currencyUSD', [sql(q.monthToDate(c))], warn=t.saturationWarning * budget, crit=budget, decimals=2), 6, 6),
        layout.cell(panels.gauge(pg, 'Budget used (month to date)', 'Month-to-date spend as a share of the monthly budget (%d USD, _config.llmMonthlyBudgetUsd).' % budget, 'percentunit', [sql(q.budgetUsed(c))], max=1, warn=t.saturationWarning, crit=1, decimals=1), 6, 6),
        layout.cell(panels.stat(pg, 'Average cost per session', 'Session-linked spend in the range divided by the number of sessions that spent.', 'currencyUSD', [sql(q.costPerSession(c))], decimals=4), 6, 6),
        layout.cell(panels.pie(pg, 'Spend by model', 'Spend per model in the range (search providers without a model show as the provider).', 'currencyUSD', [sql(q.spendByModel(c))]), 6, 6),
        layout.cell(panels.timeseries(pg, 'Daily LLM spend', 'Spend per UTC calendar day.', 'currencyUSD', [sql(q.dailySpend(c), 'time_series')], bars=true), 12, 8),
        layout.cell(panels.timeseries(pg, 'Cumulative monthly spend', 'Running total of the spend since the 1st of the month, per day.', 'currencyUSD', [sql(q.cumulativeMonthly(c), 'time_series')]), 12, 8),
        layout.cell(panels.table(pg, 'Top 10 users by spend', 'The ten users with the highest spend in the range.', 'currencyUSD', [sql(q.topUsers(c))], 'spend'), 12, 8),
        layout.cell(panels.live(panels.timeseries(prom, 'Live spend rate', 'USD per hour by provider, from llm_cost_dollars_total (all providers, live).', 'currencyUSD', [panels.prom(c, q.liveSpendRate(c), '{{provider}}')], stack=true), c.liveRange), 12, 8),
        layout.cell(panels.live(panels.timeseries(prom, 'Tokens by type', 'LLM tokens per second by type (input, output, cache read, cache write).', 'short', [panels.prom(c, q.tokensByType(c), '{{token_type}}')], stack=true), c.liveRange), 24, 7),
      ], from='now-7d'),
  },
}
