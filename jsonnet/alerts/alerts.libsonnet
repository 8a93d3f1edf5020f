// Alerts of the bo1 mixin. Each alert is `<Component><Symptom>` with labels.severity
// (warning|critical) and annotations summary, description and runbook_url (a section of
// docs/runbooks.md). Thresholds come from `_config.thresholds` and `_config.slo`.
//
// Text is joined with `+`, not `%`: the C++ jsonnet formats in Jsonnet, character by character (a long
// description costs milliseconds, and there are dozens); numbers go through `num` (`%g`, exact).
local num(x) = if x == std.floor(x) && std.abs(x) < 1e6 then std.toString(x) else '%g' % x;
local pct(x) = num(x * 100) + '%';

{
  local c = $._config,
  local runbook(alert) = c.runbookBaseUrl + '#' + std.asciiLower(alert),
  local alert(name, severity, expr, forDuration, summary, description, labels={}) = {
    alert: name,
    expr: expr,
    'for': forDuration,
    labels: { severity: severity } + labels,
    annotations: {
      summary: summary,
      description: description,
      runbook_url: runbook(name),
    },
  },

  local errorBudget = 1 - c.slo.availability,
  local latencyBudget = 1 - c.slo.latencyQuantile,

  local burnRate(name, ratioRecord, budget, what) = [
    local limit = '(' + num(w.factor) + ' * ' + num(budget) + ')';
    alert(
      name,
      w.severity,
      ratioRecord + w.long + ' > ' + limit + '\nand\n' + ratioRecord + w.short + ' > ' + limit + '\n',
      w['for'],
      'bo1 API is burning its ' + what + ' error budget ' + num(w.factor) + 'x too fast.',
      '{{ $labels.job }}: more than ' + pct(w.factor * budget) + ' of requests (stream excluded) '
      + (if what == 'availability' then 'failed with 5xx' else 'took longer than ' + num(c.slo.latencySeconds) + 's')
      + ' over the last ' + w.long + ' and the last ' + w.short + '; the objective allows ' + pct(budget) + '.',
      { long: w.long, short: w.short },
    )
    for w in c.sloBurnRateWindows
  ],

  local saturation(name, ratioExpr, forDuration, what) =
    // std.split is native; std.findSubstr walks the string in Jsonnet (40 ms a call on the C++ jsonnet).
    local byName = std.length(std.split(ratioExpr, 'name')) > 1;
    local description = '{{ $labels.instance }}' + (if byName then ' {{ $labels.name }}' else '')
                        + ': ' + what + ' is at {{ $value | humanizePercentage }}.';
    [
      alert(name, sev.severity, ratioExpr + ' > ' + num(sev.threshold), forDuration, what + ' is above ' + pct(sev.threshold) + '.', description)
      for sev in [
        { severity: 'warning', threshold: c.thresholds.saturationWarning },
        { severity: 'critical', threshold: c.thresholds.saturationCritical },
      ]
    ],

  local isApi(t) = t.selector == c.apiSelector,
  local spike = c.thresholds.llmSpendSpikeFactor,
  local llmLatency = c.thresholds.llmLatencyWarningSeconds,
  local queueDepth = c.thresholds.costRetryQueueDepth,

  prometheusAlerts+:: {
    groups+: [
      {
        name: 'bo1-api-slo.alerts',
        rules:
          burnRate('APIErrorBudgetBurn', 'job:http_request_errors:ratio_rate', errorBudget, 'availability')
          + burnRate('APILatencyBudgetBurn', 'job:http_requests_slow:ratio_rate', latencyBudget, 'latency'),
      },
      {
        name: 'bo1-llm.alerts',
        rules: [
          alert(
            'LLMSpendProjectedOverBudget',
            'warning',
            'bo1:llm_cost_dollars:projected_month > ' + ('%g' % c.llmMonthlyBudgetUsd),
            '30m',
            'LLM spend is projected past the monthly budget.',
            "Month-to-date spend plus the last day's rate until the end of the month comes to "
            + '{{ $value | printf "%.2f" }} USD; the budget is ' + ('%g' % c.llmMonthlyBudgetUsd) + ' USD.',
          ),
          alert(
            'LLMMonthlyBudgetExceeded',
            'critical',
            'bo1:llm_cost_dollars:increase_month_to_date > ' + ('%g' % c.llmMonthlyBudgetUsd),
            '0m',
            'LLM spend this month has passed the monthly budget.',
            'Spent {{ $value | printf "%.2f" }} USD since the 1st of the month (UTC); the budget is ' + ('%g' % c.llmMonthlyBudgetUsd) + ' USD.',
          ),
          alert(
            'LLMSpendSpike',
            'warning',
            'bo1:llm_cost_dollars:rate1h * 3600 > ' + num(c.thresholds.llmSpendSpikeMinUsdPerHour) + '\nand\n'
            + 'bo1:llm_cost_dollars:rate1h > ' + num(spike) + ' * avg_over_time(bo1:llm_cost_dollars:rate1h[7d])\n',
            '15m',
            'LLM spend rate is ' + num(spike) + 'x its 7-day average.',
            'The last hour cost {{ $value | printf "%.2f" }} USD, more than ' + num(spike)
            + 'x the average hourly spend of the last 7 days.',
          ),
        ] + [
          alert(
            'LLMProviderErrorRatioHigh',
            sev.severity,
            'provider:bo1_llm_request_errors:ratio_rate10m > ' + num(sev.threshold),
            '10m',
            'LLM calls to {{ $labels.provider }} fail above ' + pct(sev.threshold) + '.',
            '{{ $value | humanizePercentage }} of LLM calls to {{ $labels.provider }} failed after retries over the last 10 minutes.',
          )
          for sev in [
            { severity: 'warning', threshold: c.thresholds.llmErrorRatioWarning },
            { severity: 'critical', threshold: c.thresholds.llmErrorRatioCritical },
          ]
        ] + [
          alert(
            'LLMProviderLatencyHigh',
            'warning',
            'provider:bo1_llm_request_duration_seconds:histogram_quantile10m > ' + num(llmLatency),
            '15m',
            'LLM calls to {{ $labels.provider }} are slow (p95 above ' + num(llmLatency) + 's).',
            'p95 of {{ $labels.provider }} call duration over 10 minutes is {{ $value | humanizeDuration }}.',
          ),
          alert(
            'LLMCircuitBreakerOpen',
            'warning',
            'max by (job, provider) (circuit_breaker_state{' + c.apiSelector + ', state="open"}) == 1',
            '1m',
            'The circuit breaker for {{ $labels.provider }} is open.',
            '{{ $labels.job }} stopped calling {{ $labels.provider }} after repeated failures; calls fall back to another provider or fail fast.',
          ),
          alert(
            'CostTrackingFlushFailing',
            'warning',
            'sum by (job) (rate(bo1_cost_flush_total{' + c.apiSelector + ', status="failure"}[15m]))\n/\n'
            + 'sum by (job) (rate(bo1_cost_flush_total{' + c.apiSelector + '}[15m]))\n'
            + '> ' + num(c.thresholds.costFlushFailureRatio) + '\n',
            '15m',
            'Cost records fail to reach Postgres.',
            '{{ $labels.job }}: {{ $value | humanizePercentage }} of cost-tracking flushes failed over 15 minutes; api_costs (and the cost dashboard) fall behind.',
          ),
          alert(
            'CostTrackingBacklog',
            'warning',
            'max by (job, instance) (bo1_cost_retry_queue_depth{' + c.apiSelector + '}) > ' + num(queueDepth),
            '15m',
            'Cost records are piling up in the retry queue.',
            '{{ $labels.instance }}: {{ $value }} cost records wait for a retry (threshold ' + num(queueDepth) + ').',
          ),
        ],
      },
      {
        name: 'bo1-infrastructure.alerts',
        rules: [
          // The API may run as two blue/green jobs of which one is idle (down) by design:
          // it is down when no target of the selector is up.
          if isApi(t) then alert(
            'ScrapeTargetDown',
            'critical',
            'max(up{' + t.selector + '}) == 0',
            '2m',
            t.name + ' is down.',
            'No ' + t.name + ' target ({' + t.selector + '}) answered its last scrapes.',
            { target: t.name },
          ) else alert(
            'ScrapeTargetDown',
            'warning',
            'up{' + t.selector + '} == 0',
            '5m',
            t.name + ' target {{ $labels.instance }} is down.',
            'Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }}; its panels and alerts are blind.',
            { target: t.name },
          )
          for t in c.scrapeTargets
        ] + [
          alert(
            'ScrapeTargetMissing',
            'warning',
            'absent(up{' + t.selector + '})',
            '15m',
            t.name + ' is not scraped at all.',
            'Prometheus has no target matching {' + t.selector + '}: the scrape job is missing or renamed (see _config).',
            { target: t.name },
          )
          for t in c.scrapeTargets
        ] + [
          alert(
            'RedisDown',
            'critical',
            'redis_up{' + c.redisSelector + '} == 0',
            '2m',
            'Redis is down.',
            'redis_exporter {{ $labels.instance }} cannot reach Redis: sessions, SSE and rate limiting fail.',
          ),
        ] + saturation(
          'RedisMemoryHigh',
          '(redis_memory_used_bytes{' + c.redisSelector + '} / (redis_memory_max_bytes{' + c.redisSelector + '} > 0))',
          '10m',
          'Redis memory used of maxmemory',
        ) + [
          alert(
            'RedisEvictingKeys',
            'warning',
            'rate(redis_evicted_keys_total{' + c.redisSelector + '}[5m]) > 0',
            '15m',
            'Redis is evicting keys.',
            '{{ $labels.instance }} evicts {{ $value | humanize }} keys/s at maxmemory: checkpoints and event history may be lost.',
          ),
          alert(
            'PostgresDown',
            'critical',
            'pg_up{' + c.postgresSelector + '} == 0',
            '2m',
            'Postgres is down.',
            'postgres_exporter {{ $labels.instance }} cannot reach Postgres.',
          ),
        ] + saturation(
          'PostgresConnectionsHigh',
          '(sum by (job, instance) (pg_stat_database_numbackends{' + c.postgresSelector + '})'
          + ' / on (job, instance) max by (job, instance) (pg_settings_max_connections{' + c.postgresSelector + '}))',
          '10m',
          'Postgres connections used of max_connections',
        ) + [
          local sel = c.nodeSelector + ', ' + c.diskSelector;
          alert(
            'NodeDiskFillingUp',
            sev.severity,
            '(\n  node_filesystem_avail_bytes{' + sel + '} / node_filesystem_size_bytes{' + sel + '} < ' + num(sev.free) + '\n'
            + '  and\n  predict_linear(node_filesystem_avail_bytes{' + sel + '}[6h], ' + ('%d' % sev.hours) + ' * 3600) < 0\n)\n'
            + 'and on (instance, device, mountpoint)\nnode_filesystem_readonly{' + sel + '} == 0\n',
            sev['for'],
            'Disk {{ $labels.mountpoint }} on {{ $labels.instance }} fills up within ' + ('%d' % sev.hours) + ' hours.',
            'Only {{ $value | humanizePercentage }} of {{ $labels.mountpoint }} is free and the 6h trend reaches zero within '
            + ('%d' % sev.hours) + ' hours.',
          )
          for sev in [
            { severity: 'warning', free: c.thresholds.diskFreeWarning, hours: c.thresholds.diskFillHoursWarning, 'for': '1h' },
            { severity: 'critical', free: c.thresholds.diskFreeCritical, hours: c.thresholds.diskFillHoursCritical, 'for': '30m' },
          ]
        ] + saturation(
          'ContainerMemoryNearLimit',
          local sel = c.cadvisorSelector + ', ' + c.containerSelector;
          '(max by (job, instance, name) (container_memory_working_set_bytes{' + sel + '})'
          + ' / max by (job, instance, name) (container_spec_memory_limit_bytes{' + sel + '} > 0))',
          '15m',
          'container memory (working set) of its limit',
        ),
      },
    ],
  },
}
