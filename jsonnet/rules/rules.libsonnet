// Recording rules of the bo1 mixin: the queries dashboards and alerts repeat, or that are costly
// over long ranges. Names are `level:metric:operations` with the window in the name. Every
// selector comes from `_config`; nothing here names a job.
local seconds(d) =
  local n = std.parseInt(std.substr(d, 0, std.length(d) - 1));
  n * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[d[std.length(d) - 1]];
// Every window an SLO alert reads, shortest first.
local windowsOf(c) =
  std.set(std.flattenArrays([[w.long, w.short] for w in c.sloBurnRateWindows]), seconds);

// The `le` label of a prometheus_client histogram bucket: 0.5 -> "0.5", 1 -> "1.0".
local leLabel(seconds) =
  if seconds == std.floor(seconds) then '%d.0' % seconds else std.toString(seconds);

{
  local c = $._config,
  // Selectors shared with alerts/alerts.libsonnet.
  _ruleSelectors:: {
    api: c.apiSelector,
    // Everything the SLOs count: the SSE stream lasts a whole session, so it is no request to time.
    apiNoStream: c.apiNonStreamSelector,
    latencyLe: leLabel(c.slo.latencySeconds),
  },
  local s = $._ruleSelectors,
  // Window of the per-series rules the dashboards read instead of raw counters.
  local w = c.dashboardRateWindow,

  prometheusRules+:: {
    groups+: [
      {
        name: 'bo1-api.rules',
        interval: c.ruleEvaluationInterval,
        rules: [
          {
            record: 'handler:http_requests:rate%s' % w,
            expr: 'sum by (job, handler, method, status) (rate(http_requests_total{%s}[%s]))' % [s.api, w],
          },
          {
            record: 'handler:http_request_duration_seconds_bucket:rate%s' % w,
            expr: 'sum by (job, handler, le) (rate(http_request_duration_seconds_bucket{%s}[%s]))' % [s.apiNoStream, w],
          },
          {
            // Requests being served per handler (the in-flight panel); the stream is the live-streams stat's.
            record: 'handler:http_requests_inprogress:sum',
            expr: 'sum by (job, handler) (http_requests_inprogress{%s})' % s.apiNoStream,
          },
          {
            record: 'job:http_request_duration_seconds_bucket:rate%s' % w,
            expr: 'sum by (job, le) (handler:http_request_duration_seconds_bucket:rate%s)' % w,
          },
        ] + [
          {
            record: 'handler:http_request_duration_seconds:histogram_quantile%s' % w,
            expr: 'histogram_quantile(%s, handler:http_request_duration_seconds_bucket:rate%s)' % [q, w],
            labels: { quantile: q },
          }
          for q in ['0.5', '0.95', '0.99']
        ] + [
          {
            record: 'job:http_request_duration_seconds:histogram_quantile%s' % w,
            expr: 'histogram_quantile(%s, job:http_request_duration_seconds_bucket:rate%s)' % [q, w],
            labels: { quantile: q },
          }
          for q in ['0.5', '0.95', '0.99']
        ],
      },
      {
        // The per-handler latency buckets at a coarse step, for tables summed over the whole dashboard
        // range: rates over windows that follow each other, evaluated once per window.
        name: 'bo1-api-range.rules',
        interval: c.rangeTableRuleWindow,
        rules: [
          {
            record: 'handler:http_request_duration_seconds_bucket:rate%s' % c.rangeTableRuleWindow,
            expr: 'sum by (job, handler, le) (rate(http_request_duration_seconds_bucket{%s}[%s]))'
                  % [s.apiNoStream, c.rangeTableRuleWindow],
          },
        ],
      },
      {
        // One rate/ratio triple per burn-rate window; the SLO alerts compare them to the budget.
        name: 'bo1-api-slo.rules',
        interval: c.ruleEvaluationInterval,
        rules: std.flattenArrays([
          // Joined with `+`, not `%`: the C++ jsonnet formats in Jsonnet, character by character, and
          // these blocks are formatted once per window.
          local sel = s.apiNoStream;
          [
            {
              record: 'job:http_requests:rate' + w,
              expr: 'sum by (job) (rate(http_requests_total{' + sel + '}[' + w + ']))',
            },
            {
              // Share of requests answered with a server error (availability SLI).
              record: 'job:http_request_errors:ratio_rate' + w,
              expr: 'sum by (job) (rate(http_requests_total{' + sel + ', status="' + c.errorStatus + '"}[' + w + ']))\n'
                    + '/\n'
                    + 'sum by (job) (rate(http_requests_total{' + sel + '}[' + w + ']))\n',
            },
            {
              // Share of requests slower than the latency objective (latency SLI).
              record: 'job:http_requests_slow:ratio_rate' + w,
              expr: '1 - (\n'
                    + '  sum by (job) (rate(http_request_duration_seconds_bucket{' + sel + ', le="' + s.latencyLe + '"}[' + w + ']))\n'
                    + '  /\n'
                    + '  sum by (job) (rate(http_request_duration_seconds_count{' + sel + '}[' + w + ']))\n'
                    + ')\n',
            },
          ]
          for w in windowsOf(c)
        ]),
      },
      {
        // What the deliberation and cost dashboards read instead of raw counters and histograms.
        name: 'bo1-dashboards.rules',
        interval: c.ruleEvaluationInterval,
        rules: [
          {
            // Requests per job and status class, SSE stream excluded: the API's range-wide 5xx ratio.
            record: 'job_status:http_requests:rate%s' % w,
            expr: 'sum by (job, status) (rate(http_requests_total{%s}[%s]))' % [s.apiNoStream, w],
          },
          {
            record: 'node_name:bo1_graph_node_duration_seconds_bucket:rate%s' % w,
            expr: 'sum by (job, node_name, le) (rate(bo1_graph_node_duration_seconds_bucket{%s}[%s]))' % [s.api, w],
          },
          {
            record: 'node_name_status:bo1_graph_node:rate%s' % w,
            expr: 'sum by (job, node_name, status) (rate(bo1_graph_node_total{%s}[%s]))' % [s.api, w],
          },
          {
            record: 'provider:llm_cost_dollars:rate%s' % w,
            expr: 'sum by (job, provider) (rate(llm_cost_dollars_total{%s}[%s]))' % [s.api, w],
          },
          {
            record: 'token_type:llm_tokens:rate%s' % w,
            expr: 'sum by (job, token_type) (rate(llm_tokens_total{%s}[%s]))' % [s.api, w],
          },
        ],
      },
      {
        name: 'bo1-llm-spend.rules',
        interval: c.ruleEvaluationInterval,
        rules: [
          {
            record: 'provider_model:llm_cost_dollars:rate5m',
            expr: 'sum by (provider, model) (rate(llm_cost_dollars_total{%s}[5m]))' % s.api,
          },
          {
            record: 'provider_model:llm_cost_dollars:rate1h',
            expr: 'sum by (provider, model) (rate(llm_cost_dollars_total{%s}[1h]))' % s.api,
          },
          {
            record: 'bo1:llm_cost_dollars:rate1h',
            expr: 'sum(provider_model:llm_cost_dollars:rate1h)',
          },
          {
            record: 'bo1:llm_cost_dollars:rate1d',
            expr: 'sum(rate(llm_cost_dollars_total{%s}[1d]))' % s.api,
          },
          {
            // USD spent since 00:00 UTC on the 1st of this month, up to the last full hour.
            // A range cannot start at a computed time, so: sum the hourly spend of the last 31 days
            // (a 1h-step subquery over the 1h rate tiles time exactly) and keep only the hours after
            // the month started. The month start is computed once, at the evaluation time (`@ end()`),
            // from day_of_month() and the seconds since midnight. rate() absorbs counter resets
            // (API restarts); the month boundary resets the sum by construction (0 in the first hour).
            record: 'bo1:llm_cost_dollars:increase_month_to_date',
            expr: |||
              sum_over_time(
                (
                  bo1:llm_cost_dollars:rate1h * 3600
                  and on ()
                  (vector(time()) > scalar(last_over_time(
                    (vector(time()) - (day_of_month() - 1) * 86400 - vector(time()) % 86400)[1h:1h] @ end()
                  )))
                )[31d:1h]
              )
              or on ()
              (0 * bo1:llm_cost_dollars:rate1h)
            |||,
          },
          {
            // Month-to-date spend plus the last day's spend rate over what is left of the month
            // (days_in_month() makes February 28 days long).
            record: 'bo1:llm_cost_dollars:projected_month',
            expr: |||
              bo1:llm_cost_dollars:increase_month_to_date
              + on ()
              bo1:llm_cost_dollars:rate1d
              * on ()
              ((days_in_month() - day_of_month() + 1) * 86400 - vector(time()) % 86400 + vector(time()) % 3600)
            |||,
          },
        ],
      },
      {
        name: 'bo1-llm.rules',
        interval: c.ruleEvaluationInterval,
        rules: [
          {
            record: 'provider:bo1_llm_requests:rate10m',
            expr: 'sum by (provider) (rate(bo1_llm_requests_total{%s}[10m]))' % s.api,
          },
          {
            record: 'provider:bo1_llm_request_errors:ratio_rate10m',
            expr: |||
              sum by (provider) (rate(bo1_llm_requests_total{%(sel)s, status="error"}[10m]))
              /
              provider:bo1_llm_requests:rate10m
            ||| % { sel: s.api },
          },
          {
            record: 'provider:bo1_llm_request_duration_seconds:histogram_quantile10m',
            expr: 'histogram_quantile(0.95, sum by (provider, le) (rate(bo1_llm_request_duration_seconds_bucket{%s}[10m])))' % s.api,
            labels: { quantile: '0.95' },
          },
        ],
      },
    ],
  },
}
