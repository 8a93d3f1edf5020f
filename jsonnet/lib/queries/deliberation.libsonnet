// Queries of the deliberation dashboard. bo1 never emits session completion, rounds or durations
// as metrics (see the contract's never_updated_summary), so the session lifecycle comes from the
// Postgres `sessions` table; Prometheus gives what bo1 really emits live.
{
  // Sessions created in the range.
  sessionsStarted(c):: |||
    SELECT count(*) AS "sessions started"
    FROM sessions
    WHERE $__timeFilter(created_at)
  |||,

  // Sessions that completed in the range (updated_at is set on completion; completed_at never is).
  sessionsCompleted(c):: |||
    SELECT count(*) AS "sessions completed"
    FROM sessions
    WHERE status = 'completed' AND $__timeFilter(updated_at)
  |||,

  // completed / (completed + failed + killed) of sessions that finished in the range; no data
  // when none finished (a rate of nothing is not 0%).
  completionRate(c):: |||
    SELECT count(*) FILTER (WHERE status = 'completed')::float8 / NULLIF(count(*), 0) AS "completion rate"
    FROM sessions
    WHERE status IN ('completed', 'failed', 'killed') AND $__timeFilter(updated_at)
  |||,

  // Sessions running now (paused ones wait on a clarification and are not counted).
  activeSessions(c):: |||
    SELECT count(*) AS "running sessions"
    FROM sessions
    WHERE status = 'running' AND created_at <= $__timeTo()
  |||,

  sessionsByOutcome(c):: |||
    SELECT $__timeGroupAlias(created_at, '1h'), status AS metric, count(*) AS "sessions"
    FROM sessions
    WHERE $__timeFilter(created_at)
    GROUP BY 1, 2
    ORDER BY 1
  |||,

  roundsPerSession(c):: |||
    SELECT $__timeGroupAlias(updated_at, '1h'), avg(round_number)::float8 AS "rounds per session"
    FROM sessions
    WHERE status = 'completed' AND $__timeFilter(updated_at)
    GROUP BY 1
    ORDER BY 1
  |||,

  averageDuration(c):: |||
    SELECT avg(EXTRACT(EPOCH FROM updated_at - created_at))::float8 AS "average duration"
    FROM sessions
    WHERE status = 'completed' AND $__timeFilter(updated_at)
  |||,

  // bo1_sessions_total only ever carries status created and terminated.
  lifecycleRate(c)::
    'sum by (status) (rate(bo1_sessions_total{%s}[$__rate_interval])) * 60' % c.apiSelector,

  // Graph node panels read the recording rules of rules/rules.libsonnet (bo1-dashboards.rules) as they
  // are: they always show the last _config.liveRange, a step of a few rule evaluations at most.
  local nodeRule(c, rule, sel) = '%s:rate%s{%s}' % [rule, c.dashboardRateWindow, sel],

  nodeP95(c)::
    'histogram_quantile(0.95, sum by (le, node_name) (%s))'
    % nodeRule(c, 'node_name:bo1_graph_node_duration_seconds_bucket', c.apiSelector),

  nodeErrorRatio(c)::
    local all = 'sum by (node_name) (%s)' % nodeRule(c, 'node_name_status:bo1_graph_node', c.apiSelector);
    local errors = 'sum by (node_name) (%s)'
                   % nodeRule(c, 'node_name_status:bo1_graph_node', '%s, status="error"' % c.apiSelector);
    '(%s or %s * 0) / %s' % [errors, all, all],
}
