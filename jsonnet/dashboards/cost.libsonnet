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
      dashboard.new(
        c,
        key='cost',
        title='Cost',
        description='LLM spend of bo1 in USD: per day, model, user and session, against the monthly budget of %d USD.' % budget,
        from='now-7d',
        items=[
          layout.row('Spend (api_costs ledger, UTC days)'),
          layout.cell(w=6, h=6, panel=panels.stat(
            ds=pg,
            title='Month-to-date spend',
            description='Spend since the 1st of the (UTC) month that holds the end of the range.',
            unit='currencyUSD',
            targets=[sql(q.monthToDate(c))],
            warn=t.saturationWarning * budget,
            crit=budget,
            decimals=2,
          )),
          layout.cell(w=6, h=6, panel=panels.gauge(
            ds=pg,
            title='Budget used (month to date)',
            description='Month-to-date spend as a share of the monthly budget (%d USD, _config.llmMonthlyBudgetUsd).' % budget,
            unit='percentunit',
            targets=[sql(q.budgetUsed(c))],
            max=1,
            warn=t.saturationWarning,
            crit=1,
            decimals=1,
          )),
          layout.cell(w=6, h=6, panel=panels.stat(
            ds=pg,
            title='Average cost per session',
            description='Session-linked spend in the range divided by the number of sessions that spent.',
            unit='currencyUSD',
            targets=[sql(q.costPerSession(c))],
            decimals=4,
          )),
          layout.cell(w=6, h=6, panel=panels.pie(
            ds=pg,
            title='Spend by model',
            description='Spend per model in the range (search providers without a model show as the provider).',
            unit='currencyUSD',
            targets=[sql(q.spendByModel(c))],
          )),
          layout.cell(w=12, h=8, panel=panels.timeseries(
            ds=pg,
            title='Daily LLM spend',
            description='Spend per UTC calendar day.',
            unit='currencyUSD',
            targets=[sql(q.dailySpend(c), 'time_series')],
            bars=true,
          )),
          layout.cell(w=12, h=8, panel=panels.timeseries(
            ds=pg,
            title='Cumulative monthly spend',
            description='Running total of the spend since the 1st of the month, per day.',
            unit='currencyUSD',
            targets=[sql(q.cumulativeMonthly(c), 'time_series')],
          )),
          layout.cell(w=12, h=8, panel=panels.table(
            ds=pg,
            title='Top 10 users by spend',
            description='The ten users with the highest spend in the range.',
            unit='currencyUSD',
            targets=[sql(q.topUsers(c))],
            sortBy='spend',
          )),
          layout.cell(w=12, h=8, panel=panels.timeseries(
            ds=prom,
            title='Live spend rate',
            description='USD per hour by provider, from llm_cost_dollars_total (all providers, live).',
            unit='currencyUSD',
            targets=[panels.prom(c, q.liveSpendRate(c), '{{provider}}')],
            stack=true,
            live=c.liveRange,
          )),
          layout.cell(w=24, h=7, panel=panels.timeseries(
            ds=prom,
            title='Tokens by type',
            description='LLM tokens per second by type (input, output, cache read, cache write).',
            unit='short',
            targets=[panels.prom(c, q.tokensByType(c), '{{token_type}}')],
            stack=true,
            live=c.liveRange,
          )),
        ],
      ),
  },
}
