// bo1 / API: traffic, latency and errors of bo1's FastAPI endpoints.
local dashboard = import '../lib/dashboard.libsonnet';
local layout = import '../lib/layout.libsonnet';
local panels = import '../lib/panels.libsonnet';
local q = import '../lib/queries/api.libsonnet';

{
  grafanaDashboards+:: {
    'api.json':
      local c = $._config;
      local ds = c.datasources.prometheus;
      local prom(expr, legend=null) = panels.prom(c, expr, legend);
      local instant(expr, legend=null, format=null) = panels.promInstant(c, expr, legend, format);
      local t = c.thresholds;
      dashboard.new(c, 'api', 'API', 'Request rate, latency and errors of the bo1 API, by endpoint (route template).', [
        layout.row('Traffic'),
        layout.cell(panels.timeseries(ds, 'Request rate by status', 'Requests per second by grouped status class (2xx..5xx), all endpoints incl. SSE streams.', 'reqps', [prom(q.requestRateByStatus(c), '{{status}}')], stack=true), 12, 8),
        layout.cell(panels.stat(ds, '5xx error ratio', 'Share of non-stream requests answered 5xx over the dashboard range, all endpoints of the selected jobs. SLO: %g%% availability.' % (c.slo.availability * 100), 'percentunit', [instant(q.errorRatio(c))], warn=t.errorRatioWarning, crit=t.errorRatioCritical, decimals=2), 4, 8),
        layout.cell(panels.stat(ds, 'Live SSE streams', 'Open SSE connections to %s right now (the in-progress gauge of the stream handler).' % c.streamHandler, 'short', [instant(q.liveStreams(c))]), 4, 8),
        layout.cell(panels.pie(ds, 'Status codes', 'Requests by grouped status class over the dashboard range.', 'short', [instant(q.statusCodes(c), '{{status}}')]), 4, 8),
        layout.row('Latency (SSE stream excluded)'),
        layout.cell(panels.timeseries(ds, 'Latency p50 / p95 / p99', 'Request duration quantiles of all non-stream endpoints of the selected jobs (the handler filter does not apply: per-endpoint p95 in the top-10 table). SLO: p%g under %gs.' % [c.slo.latencyQuantile * 100, c.slo.latencySeconds], 's', [
          prom(q.latencyQuantile(c, '0.5'), 'p50'),
          prom(q.latencyQuantile(c, '0.95'), 'p95'),
          prom(q.latencyQuantile(c, '0.99'), 'p99'),
        ], warn=t.latencyWarning, crit=t.latencyCritical), 12, 8),
        layout.cell(panels.heatmap(ds, 'Latency distribution', 'Requests per second in each latency bucket, all non-stream endpoints of the selected jobs; darker cells hold more requests.', 's', [prom(q.latencyHeatmap(c), '{{le}}') + { format: 'heatmap' }]), 12, 8),
        layout.row('Endpoints'),
        layout.cell(panels.timeseries(ds, 'Error ratio by endpoint', "Share of each endpoint's requests answered 5xx, for the endpoints that have answered 5xx since the API started (0 in windows without errors); endpoints that never failed are not drawn.", 'percentunit', [prom(q.errorRatioByEndpoint(c), '{{handler}}')], warn=t.errorRatioWarning, crit=t.errorRatioCritical), 12, 8),
        layout.cell(panels.table(ds, 'Top 10 slowest endpoints (p95)', 'p95 request duration per endpoint over the dashboard range, slowest first (from %s rule windows: the newest %s may not be in yet).' % [c.rangeTableRuleWindow, c.rangeTableRuleWindow], 's', [instant(q.slowestEndpoints(c), '{{handler}}', 'table')], 'Value'), 12, 8),
        layout.cell(panels.live(panels.timeseries(ds, 'In-flight requests', 'Requests being served per endpoint over the last %s, whatever the dashboard range (a gauge: older snapshots say little); SSE streams are the Live SSE streams stat.' % c.liveRange, 'short', [prom(q.inFlight(c), '{{handler}}')]), c.liveRange), 24, 7),
      ], variables=[
        dashboard.labelVariable(c, 'job', 'job', q.jobValues(c), 'Prometheus job of the API (dev bo1-api, prod blue/green).'),
        dashboard.labelVariable(c, 'handler', 'handler', q.handlerValues(c), 'Route template of the endpoint.'),
      ]),
  },
}
