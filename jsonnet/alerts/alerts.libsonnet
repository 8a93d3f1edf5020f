// Alerts of the bo1 mixin. Each alert is `<Component><Symptom>` with labels.severity
// (warning|critical) and annotations summary, description and runbook_url (a section of
// docs/runbooks.md). Thresholds come from `_config.thresholds` and `_config.slo`.
local pct(x) = '%g%%' % (x * 100);

{
  local c = $._config,
  local runbook(alert) = '%s#%s' % [c.runbookBaseUrl, std.asciiLower(alert)],
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
    alert(
      name,
      w.severity,
      |||
        %(rec)s%(long)s > (%(factor)g * %(budget)g)
        and
        %(rec)s%(short)s > (%(factor)g * %(budget)g)
      ||| % { rec: ratioRecord, long: w.long, short: w.short, factor: w.factor, budget: budget },
      w['for'],
      'bo1 API is burning its %s error budget %gx too fast.' % [what, w.factor],
      '{{ $labels.job }}: more than %s of requests (stream excluded) %s over the last %s and the last %s; the objective allows %s.'
      % [pct(w.factor * budget), if what == 'availability' then 'failed with 5xx' else 'took longer than %gs' % c.slo.latencySeconds, w.long, w.short, pct(budget)],
      { long: w.long, short: w.short },
    )
    for w in c.sloBurnRateWindows
  ],

  local saturation(name, ratioExpr, forDuration, what) = [
    alert(
      name,
      sev.severity,
      '%s > %g' % [ratioExpr, sev.threshold],
      forDuration,
      '%s is above %s.' % [what, pct(sev.threshold)],
      '{{ $labels.instance }}%s: %s is at {{ $value | humanizePercentage }}.' % [
        if std.length(std.findSubstr('name', ratioExpr)) > 0 then ' {{ $labels.name }}' else '',
        what,
      ],
    )
    for sev in [
      { severity: 'warning', threshold: c.thresholds.saturationWarning },
      { severity: 'critical', threshold: c.thresholds.saturationCritical },
    ]
  ],

  local isApi(t) = t.selector == c.apiSelector,

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
            'bo1:llm_cost_dollars:projected_month > %g' % c.llmMonthlyBudgetUsd,
            '30m',
            'LLM spend is projected past the monthly budget.',
            'Month-to-date spend plus the last day\'s rate until the end of the month comes to {{ $value | printf "%%.2f" }} USD; the budget is %g USD.' % c.llmMonthlyBudgetUsd,
          ),
          alert(
            'LLMMonthlyBudgetExceeded',
            'critical',
            'bo1:llm_cost_dollars:increase_month_to_date > %g' % c.llmMonthlyBudgetUsd,
            '0m',
            'LLM spend this month has passed the monthly budget.',
            'Spent {{ $value | printf "%%.2f" }} USD since the 1st of the month (UTC); the budget is %g USD.' % c.llmMonthlyBudgetUsd,
          ),
          alert(
            'LLMSpendSpike',
            'warning',
            |||
              bo1:llm_cost_dollars:rate1h * 3600 > %(min)g
              and
              bo1:llm_cost_dollars:rate1h > %(factor)g * avg_over_time(bo1:llm_cost_dollars:rate1h[7d])
            ||| % { min: c.thresholds.llmSpendSpikeMinUsdPerHour, factor: c.thresholds.llmSpendSpikeFactor },
            '15m',
            'LLM spend rate is %gx its 7-day average.' % c.thresholds.llmSpendSpikeFactor,
            'The last hour cost {{ $value | printf "%%.2f" }} USD, more than %gx the average hourly spend of the last 7 days.' % c.thresholds.llmSpendSpikeFactor,
          ),
        ] + [
          alert(
            'LLMProviderErrorRatioHigh',
            sev.severity,
            'provider:bo1_llm_request_errors:ratio_rate10m > %g' % sev.threshold,
            '10m',
            'LLM calls to {{ $labels.provider }} fail above %s.' % pct(sev.threshold),
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
            'provider:bo1_llm_request_duration_seconds:histogram_quantile10m > %g' % c.thresholds.llmLatencyWarningSeconds,
            '15m',
            'LLM calls to {{ $labels.provider }} are slow (p95 above %gs).' % c.thresholds.llmLatencyWarningSeconds,
            'p95 of {{ $labels.provider }} call duration over 10 minutes is {{ $value | humanizeDuration }}.',
          ),
          alert(
            'LLMCircuitBreakerOpen',
            'warning',
            'max by (job, provider) (circuit_breaker_state{%s, state="open"}) == 1' % c.apiSelector,
            '1m',
            'The circuit breaker for {{ $labels.provider }} is open.',
            '{{ $labels.job }} stopped calling {{ $labels.provider }} after repeated failures; calls fall back to another provider or fail fast.',
          ),
          alert(
            'CostTrackingFlushFailing',
            'warning',
            |||
              sum by (job) (rate(bo1_cost_flush_total{%(sel)s, status="failure"}[15m]))
              /
              sum by (job) (rate(bo1_cost_flush_total{%(sel)s}[15m]))
              > %(t)g
            ||| % { sel: c.apiSelector, t: c.thresholds.costFlushFailureRatio },
            '15m',
            'Cost records fail to reach Postgres.',
            '{{ $labels.job }}: {{ $value | humanizePercentage }} of cost-tracking flushes failed over 15 minutes; api_costs (and the cost dashboard) fall behind.',
          ),
          alert(
            'CostTrackingBacklog',
            'warning',
            'max by (job, instance) (bo1_cost_retry_queue_depth{%s}) > %g' % [c.apiSelector, c.thresholds.costRetryQueueDepth],
            '15m',
            'Cost records are piling up in the retry queue.',
            '{{ $labels.instance }}: {{ $value }} cost records wait for a retry (threshold %g).' % c.thresholds.costRetryQueueDepth,
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
            'max(up{%s}) == 0' % t.selector,
            '2m',
            '%s is down.' % t.name,
            'No %s target ({%s}) answered its last scrapes.' % [t.name, t.selector],
            { target: t.name },
          ) else alert(
            'ScrapeTargetDown',
            'warning',
            'up{%s} == 0' % t.selector,
            '5m',
            '%s target {{ $labels.instance }} is down.' % t.name,
            'Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }}; its panels and alerts are blind.',
            { target: t.name },
          )
          for t in c.scrapeTargets
        ] + [
          alert(
            'ScrapeTargetMissing',
            'warning',
            'absent(up{%s})' % t.selector,
            '15m',
            '%s is not scraped at all.' % t.name,
            'Prometheus has no target matching {%s}: the scrape job is missing or renamed (see _config).' % t.selector,
            { target: t.name },
          )
          for t in c.scrapeTargets
        ] + [
          alert(
            'RedisDown',
            'critical',
            'redis_up{%s} == 0' % c.redisSelector,
            '2m',
            'Redis is down.',
            'redis_exporter {{ $labels.instance }} cannot reach Redis: sessions, SSE and rate limiting fail.',
          ),
        ] + saturation(
          'RedisMemoryHigh',
          '(redis_memory_used_bytes{%(sel)s} / (redis_memory_max_bytes{%(sel)s} > 0))' % { sel: c.redisSelector },
          '10m',
          'Redis memory used of maxmemory',
        ) + [
          alert(
            'RedisEvictingKeys',
            'warning',
            'rate(redis_evicted_keys_total{%s}[5m]) > 0' % c.redisSelector,
            '15m',
            'Redis is evicting keys.',
            '{{ $labels.instance }} evicts {{ $value | humanize }} keys/s at maxmemory: checkpoints and event history may be lost.',
          ),
          alert(
            'PostgresDown',
            'critical',
            'pg_up{%s} == 0' % c.postgresSelector,
            '2m',
            'Postgres is down.',
            'postgres_exporter {{ $labels.instance }} cannot reach Postgres.',
          ),
        ] + saturation(
          'PostgresConnectionsHigh',
          '(sum by (job, instance) (pg_stat_database_numbackends{%(sel)s}) / on (job, instance) max by (job, instance) (pg_settings_max_connections{%(sel)s}))' % { sel: c.postgresSelector },
          '10m',
          'Postgres connections used of max_connections',
        ) + [
          alert(
            'NodeDiskFillingUp',
            sev.severity,
            |||
              (
                node_filesystem_avail_bytes{%(sel)s} / node_filesystem_size_bytes{%(sel)s} < %(free)g
                and
                predict_linear(node_filesystem_avail_bytes{%(sel)s}[6h], %(hours)d * 3600) < 0
              )
              and on (instance, device, mountpoint)
              node_filesystem_readonly{%(sel)s} == 0
            ||| % { sel: '%s, %s' % [c.nodeSelector, c.diskSelector], free: sev.free, hours: sev.hours },
            sev['for'],
            'Disk {{ $labels.mountpoint }} on {{ $labels.instance }} fills up within %d hours.' % sev.hours,
            'Only {{ $value | humanizePercentage }} of {{ $labels.mountpoint }} is free and the 6h trend reaches zero within %d hours.' % sev.hours,
          )
          for sev in [
            { severity: 'warning', free: c.thresholds.diskFreeWarning, hours: c.thresholds.diskFillHoursWarning, 'for': '1h' },
            { severity: 'critical', free: c.thresholds.diskFreeCritical, hours: c.thresholds.diskFillHoursCritical, 'for': '30m' },
          ]
        ] + saturation(
          'ContainerMemoryNearLimit',
          '(max by (job, instance, name) (container_memory_working_set_bytes{%(sel)s}) / max by (job, instance, name) (container_spec_memory_limit_bytes{%(sel)s} > 0))' % { sel: '%s, %s' % [c.cadvisorSelector, c.containerSelector] },
          '15m',
          'container memory (working set) of its limit',
        ),
      },
    ],
  },
}
