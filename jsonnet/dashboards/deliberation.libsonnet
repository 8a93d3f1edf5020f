// bo1 / Deliberation: sessions and their rounds. Lifecycle from Postgres (bo1 never emits it as
// metrics), live rates and graph node timings from Prometheus.
local dashboard = import '../lib/dashboard.libsonnet';
local layout = import '../lib/layout.libsonnet';
local panels = import '../lib/panels.libsonnet';
local q = import '../lib/queries/deliberation.libsonnet';

{
  grafanaDashboards+:: {
    'deliberation.json':
      local c = $._config;
      local prom = c.datasources.prometheus;
      local pg = c.datasources.postgres;
      local sql(text, format='table') = panels.sql(c, text, format);
      local t = c.thresholds;
      dashboard.new(
        c,
        key='deliberation',
        title='Deliberation',
        description='Deliberation sessions: how many start, complete, fail; rounds, durations and graph node times.',
        from='now-24h',
        items=[
          layout.row('Sessions'),
          layout.cell(w=5, h=6, panel=panels.stat(
            ds=pg,
            title='Sessions started',
            description='Sessions created in the dashboard range (sessions table).',
            unit='short',
            targets=[sql(q.sessionsStarted(c))],
          )),
          layout.cell(w=5, h=6, panel=panels.stat(
            ds=pg,
            title='Sessions completed',
            description='Sessions that completed in the dashboard range (status completed, by updated_at).',
            unit='short',
            targets=[sql(q.sessionsCompleted(c))],
          )),
          layout.cell(w=5, h=6, panel=panels.stat(
            ds=pg,
            title='Completion rate',
            description='completed / (completed + failed + killed) of sessions that finished in the range; no data when none finished.',
            unit='percentunit',
            targets=[sql(q.completionRate(c))],
            warn=t.completionRateWarning,
            crit=t.completionRateCritical,
            lowIsBad=true,
            decimals=1,
          )),
          layout.cell(w=5, h=6, panel=panels.stat(
            ds=pg,
            title='Average session duration',
            description='Mean created -> completed time of sessions completed in the range (updated_at - created_at: bo1 never writes completed_at).',
            unit='s',
            targets=[sql(q.averageDuration(c))],
          )),
          layout.cell(w=4, h=6, panel=panels.gauge(
            ds=pg,
            title='Active sessions',
            description='Sessions running right now (status running; paused ones wait on a clarification).',
            unit='short',
            targets=[sql(q.activeSessions(c))],
            max=50,
            warn=30,
            crit=45,
          )),
          layout.cell(w=12, h=8, panel=panels.timeseries(
            ds=pg,
            title='Sessions by outcome',
            description='Sessions created per hour, by their status now.',
            unit='short',
            targets=[sql(q.sessionsByOutcome(c), 'time_series')],
            stack=true,
            bars=true,
          )),
          layout.cell(w=12, h=8, panel=panels.timeseries(
            ds=pg,
            title='Rounds per session',
            description='Average rounds of the sessions completed in each hour.',
            unit='short',
            targets=[sql(q.roundsPerSession(c), 'time_series')],
          )),
          layout.row('Live (Prometheus)'),
          layout.cell(w=8, h=8, panel=panels.timeseries(
            ds=prom,
            title='Session lifecycle events',
            description='Sessions created and terminated per minute, as bo1 emits them (bo1_sessions_total: only created and terminated exist).',
            unit='opm',
            targets=[panels.prom(c, q.lifecycleRate(c), '{{status}}')],
            live=c.liveRange,
          )),
          layout.cell(w=8, h=8, panel=panels.timeseries(
            ds=prom,
            title='Graph node p95 duration',
            description='p95 time of each deliberation graph node (round, vote, synthesis...).',
            unit='s',
            targets=[panels.prom(c, q.nodeP95(c), '{{node_name}}')],
            live=c.liveRange,
          )),
          layout.cell(w=8, h=8, panel=panels.timeseries(
            ds=prom,
            title='Graph node error ratio',
            description="Share of each graph node's executions that ended in error (0 where a node ran without errors).",
            unit='percentunit',
            targets=[panels.prom(c, q.nodeErrorRatio(c), '{{node_name}}')],
            warn=t.errorRatioWarning,
            crit=t.errorRatioCritical,
            live=c.liveRange,
          )),
        ],
      ),
  },
}
