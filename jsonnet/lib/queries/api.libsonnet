// PromQL of the API dashboard, as functions of _config (c). `$job` and `$handler` are the
// dashboard's variables; the SSE stream handler is excluded from latency and error ratios
// because a stream lasts a whole session. Time series read the per-handler recording rules
// (rules/rules.libsonnet), averaged over $__rate_interval so a long range's wide step misses no
// spike; counts over the whole range stay on the raw counters, which are exact.
{
  // The recording rule `handler:<metric>:rate<window>`, by default of _config.dashboardRateWindow.
  local rule(c, metric, window=null) =
    'handler:%s:rate%s' % [metric, if window == null then c.dashboardRateWindow else window],
  local smoothed(c, metric, sel) = 'avg_over_time(%s{%s}[$__rate_interval])' % [rule(c, metric), sel],

  // Matchers every API query shares.
  selector(c):: '%s, job=~"$job", handler=~"$handler"' % c.apiSelector,
  nonStream(c):: '%s, %s' % [self.selector(c), c.nonStreamMatcher],

  requestRateByStatus(c)::
    'sum by (status) (%s)' % smoothed(c, 'http_requests', self.selector(c)),

  // Matchers of the per-job rules (the stream is already left out by the rule): the handler
  // variable does not apply to them.
  jobSelector(c):: '%s, job=~"$job"' % c.apiSelector,

  // 5xx share of all non-stream requests over the dashboard range (0 when there were none), from
  // the per-job-and-status rule: a ratio of sums does not depend on the rule's evaluation interval.
  errorRatio(c)::
    local total(status) = 'sum(sum_over_time(job_status:http_requests:rate%s{%s%s}[$__range]))'
                          % [c.dashboardRateWindow, self.jobSelector(c), status];
    local errors = total(', status="%s"' % c.errorStatus);
    '(%s or %s * 0) / %s' % [errors, total(''), total('')],

  // Latency of all non-stream endpoints from the per-job bucket rule (about 40x fewer samples than
  // the per-handler one at 30 days); the per-endpoint p95 is in the top-10 table.
  local jobBuckets(c) = 'avg_over_time(job:http_request_duration_seconds_bucket:rate%s{%s}[$__rate_interval])'
                        % [c.dashboardRateWindow, self.jobSelector(c)],

  latencyQuantile(c, q):: 'histogram_quantile(%s, sum by (le) (%s))' % [q, jobBuckets(c)],

  // Rates, not increase over $__rate_interval: those windows overlap from one step to the next
  // and would count a request in several cells.
  latencyHeatmap(c):: 'sum by (le) (%s)' % jobBuckets(c),

  // Per-handler 5xx ratio of the endpoints that have answered 5xx since their process started: their
  // 5xx series exist, so a window without errors shows a true 0; endpoints that never failed are not
  // drawn (a line of zeros per endpoint would triple the query and bury the ones that fail).
  errorRatioByEndpoint(c)::
    local all = 'sum by (handler) (%s)' % smoothed(c, 'http_requests', self.nonStream(c));
    local errors = 'sum by (handler) (%s)' % smoothed(c, 'http_requests', '%s, status="%s"' % [self.nonStream(c), c.errorStatus]);
    '%s / %s' % [errors, all],

  statusCodes(c)::
    'sum by (status) (increase(http_requests_total{%s}[$__range]))' % self.selector(c),

  // A quantile does not change when every bucket is scaled: summing the rule's rates over the
  // range weighs each window by its traffic, like a rate over the range would, whatever the rule's
  // evaluation interval. The coarse rule of _config.rangeTableRuleWindow keeps long ranges cheap.
  slowestEndpoints(c)::
    'topk(10, histogram_quantile(0.95, sum by (le, handler) (sum_over_time(%s{%s}[$__range]))))'
    % [rule(c, 'http_request_duration_seconds_bucket', c.rangeTableRuleWindow), self.nonStream(c)],

  // The per-handler sum of the in-progress gauge (rules/), one point per evaluation instead of one per
  // scrape of every method and instance.
  inFlight(c)::
    'sum by (handler) (handler:http_requests_inprogress:sum{%s})' % self.nonStream(c),

  // Open SSE connections: the in-progress gauge of the stream handler is bo1's only live count.
  liveStreams(c)::
    'sum(http_requests_inprogress{%s, job=~"$job", handler=~"%s"})' % [c.apiSelector, c.streamHandlerRegex],

  // Template variable queries.
  jobValues(c):: 'http_requests_total{%s}' % c.apiSelector,
  handlerValues(c):: 'http_requests_total{%s, job=~"$job"}' % c.apiSelector,
}
