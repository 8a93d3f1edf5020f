// Defaults the recording rules and alerts need on top of jsonnet/config.libsonnet.
// Merged into the one `_config` (config.libsonnet must come first in the mixin); a consumer
// overrides any of them like any other field: `+ { _config+:: { thresholds+: { ... } } }`.
{
  _config+:: {
    // Windows of the multi-window multi-burn-rate SLO alerts (SRE workbook, chapter 5):
    // page when both windows burn faster than `factor`; ticket on the slow pair.
    // Change the factors only together with the SLO period (they assume 30 days).
    sloBurnRateWindows: [
      { long: '1h', short: '5m', factor: 14.4, severity: 'critical', 'for': '2m' },
      { long: '6h', short: '30m', factor: 6, severity: 'critical', 'for': '15m' },
      { long: '3d', short: '6h', factor: 1, severity: 'warning', 'for': '1h' },
    ],
    // The grouped status value of server errors (the instrumentator groups codes: 2xx..5xx).
    // Change only if your app exports raw codes (then use a regex matcher in a fork).
    errorStatus: '5xx',

    // Evaluation interval of every rule group (also the resolution of the month-to-date spend).
    ruleEvaluationInterval: '1m',

    thresholds+: {
      // LLM calls (after retries) that fail, per provider: warning / critical ratio over 10m.
      llmErrorRatioWarning: 0.05,
      llmErrorRatioCritical: 0.2,
      // p95 of bo1_llm_request_duration_seconds per provider above this many seconds (warning).
      llmLatencyWarningSeconds: 10,
      // Spend spike: the last hour's spend rate above this multiple of the 7-day average ...
      llmSpendSpikeFactor: 3,
      // ... and above this many USD per hour (keeps a quiet night from paging).
      llmSpendSpikeMinUsdPerHour: 1,
      // Share of cost-tracking flushes (bo1_cost_flush_total) failing over 15m (warning).
      costFlushFailureRatio: 0.05,
      // Cost records waiting for a retry (bo1_cost_retry_queue_depth) (warning).
      costRetryQueueDepth: 100,
      // Disk: warn when free space is under this share and the 6h trend fills it within 24h;
      // critical under the second share and a fill within 4h.
      diskFreeWarning: 0.4,
      diskFreeCritical: 0.2,
      diskFillHoursWarning: 24,
      diskFillHoursCritical: 4,
    },
  },
}
