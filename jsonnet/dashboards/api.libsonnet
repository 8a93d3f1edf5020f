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
      dashboard.new(
        c,
        key='api',
        title='API',
        description='Request rate, latency and errors of the bo1 API, by endpoint (route template).',
        variables=[
          dashboard.labelVariable(
            c,
            name='job',
            label='job',
            metric=q.jobValues(c),
            description='Prometheus job of the API (dev bo1-api, prod blue/green).',
          ),
          dashboard.labelVariable(
            c,
            name='handler',
            label='handler',
            metric=q.handlerValues(c),
            description='Route template of the endpoint.',
          ),
        ],
        items=[
          layout.row('Traffic'),
          layout.cell(w=12, h=8, panel=panels.timeseries(
            ds=ds,
            title='Request rate by status',
            description='Requests per second by grouped status class (2xx..5xx), all endpoints incl. SSE streams.',
            unit='reqps',
            targets=[prom(q.requestRateByStatus(c), '{{status}}')],
            stack=true,
          )),
          layout.cell(w=4, h=8, panel=panels.stat(
            ds=ds,
            title='5xx error ratio',
            description='Share of non-stream requests answered 5xx over the dashboard range, all endpoints of the selected jobs. SLO: %g%% availability.' % (c.slo.availability * 100),
            unit='percentunit',
            targets=[instant(q.errorRatio(c))],
            warn=t.errorRatioWarning,
            crit=t.errorRatioCritical,
            decimals=2,
          )),
          layout.cell(w=4, h=8, panel=panels.stat(
            ds=ds,
            title='Live SSE streams',
            description='Open SSE connections to %s right now (the in-progress gauge of the stream handler).' % c.streamHandler,
            unit='short',
            targets=[instant(q.liveStreams(c))],
          )),
          layout.cell(w=4, h=8, panel=panels.pie(
            ds=ds,
            title='Status codes',
            description='Requests by grouped status class over the dashboard range.',
            unit='short',
            targets=[instant(q.statusCodes(c), '{{status}}')],
          )),
          layout.row('Latency (SSE stream excluded)'),
          layout.cell(w=12, h=8, panel=panels.timeseries(
            ds=ds,
            title='Latency p50 / p95 / p99',
            description='Request duration quantiles of all non-stream endpoints of the selected jobs (the handler filter does not apply: per-endpoint p95 in the top-10 table). SLO: p%g under %gs.' % [c.slo.latencyQuantile * 100, c.slo.latencySeconds],
            unit='s',
            targets=[
              prom(q.latencyQuantile(c, '0.5'), 'p50'),
              prom(q.latencyQuantile(c, '0.95'), 'p95'),
              prom(q.latencyQuantile(c, '0.99'), 'p99'),
            ],
            warn=t.latencyWarning,
            crit=t.latencyCritical,
          )),
          layout.cell(w=12, h=8, panel=panels.heatmap(
            ds=ds,
            title='Latency distribution',
            description='Requests per second in each latency bucket, all non-stream endpoints of the selected jobs; darker cells hold more requests.',
            unit='s',
            targets=[prom(q.latencyHeatmap(c), '{{le}}') + { format: 'heatmap' }],
          )),
          layout.row('Endpoints'),
          layout.cell(w=12, h=8, panel=panels.timeseries(
            ds=ds,
            title='Error ratio by endpoint',
            description="Share of each endpoint's requests answered 5xx, for the endpoints that have answered 5xx since the API started (0 in windows without errors); endpoints that never failed are not drawn.",
            unit='percentunit',
            targets=[prom(q.errorRatioByEndpoint(c), '{{handler}}')],
            warn=t.errorRatioWarning,
            crit=t.errorRatioCritical,
          )),
          layout.cell(w=12, h=8, panel=panels.table(
            ds=ds,
            title='Top 10 slowest endpoints (p95)',
            description='p95 request duration per endpoint over the dashboard range, slowest first (from %s rule windows: the newest %s may not be in yet).' % [c.rangeTableRuleWindow, c.rangeTableRuleWindow],
            unit='s',
            targets=[instant(q.slowestEndpoints(c), '{{handler}}', 'table')],
            sortBy='Value',
          )),
          layout.cell(w=24, h=7, panel=panels.timeseries(
            ds=ds,
            title='In-flight requests',
            description='Requests being served per endpoint over the last %s, whatever the dashboard range (a gauge: older snapshots say little); SSE streams are the Live SSE streams stat.' % c.liveRange,
            unit='short',
            targets=[prom(q.inFlight(c), '{{handler}}')],
            live=c.liveRange,
          )),
        ],
      ),
  },
}
