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
      dashboard.new(c, 'deliberation', 'Deliberation', 'Deliberation sessions: how many start, complete, fail; rounds, durations and graph node times.', [
        layout.row('Sessions'),
        layout.cell(panels.stat(pg, 'Sessions started', 'Sessions created in the dashboard range (sessions table).', 'short', [sql(q.sessionsStarted(c))]), 5, 6),
        layout.cell(panels.stat(pg, 'Sessions completed', 'Sessions that completed in the dashboard range (status completed, by updated_at).', 'short', [sql(q.sessionsCompleted(c))]), 5, 6),
        layout.cell(panels.stat(pg, 'Completion rate', 'completed / (completed + failed + killed) of sessions that finished in the range; no data when none finished.', 'percentunit', [sql(q.completionRate(c))], warn=t.completionRateWarning, crit=t.completionRateCritical, lowIsBad=true, decimals=1), 5, 6),
        layout.cell(panels.stat(pg, 'Average session duration', 'Mean created -> completed time of sessions completed in the range (updated_at - created_at: bo1 never writes completed_at).', 's', [sql(q.averageDuration(c))]), 5, 6),
        layout.cell(panels.gauge(pg, 'Active sessions', 'Sessions running right now (status running; paused ones wait on a clarification).', 'short', [sql(q.activeSessions(c))], max=50, warn=30, crit=45), 4, 6),
        layout.cell(panels.timeseries(pg, 'Sessions by outcome', 'Sessions created per hour, by their status now.', 'short', [sql(q.sessionsByOutcome(c), 'time_series')], stack=true, bars=true), 12, 8),
        layout.cell(panels.timeseries(pg, 'Rounds per session', 'Average rounds of the sessions completed in each hour.', 'short', [sql(q.roundsPerSession(c), 'time_series')]), 12, 8),
        layout.row('Live (Prometheus)'),
        layout.cell(panels.live(panels.timeseries(prom, 'Session lifecycle events', 'Sessions created and terminated per minute, as bo1 emits them (bo1_sessions_total: only created and terminated exist).', 'opm', [panels.prom(c, q.lifecycleRate(c), '{{status}}')]), c.liveRange), 8, 8),
        layout.cell(panels.live(panels.timeseries(prom, 'Graph node p95 duration', 'p95 time of each deliberation graph node (round, vote, synthesis...).', 's', [panels.prom(c, q.nodeP95(c), '{{node_name}}')]), c.liveRange), 8, 8),
        layout.cell(panels.live(panels.timeseries(prom, 'Graph node error ratio', "Share of each graph node's executions that ended in error (0 where a node ran without errors).", 'percentunit', [panels.prom(c, q.nodeErrorRatio(c), '{{node_name}}')], warn=t.errorRatioWarning, crit=t.errorRatioCritical), c.liveRange), 8, 8),
      ], from='now-24h'),
  },
}
