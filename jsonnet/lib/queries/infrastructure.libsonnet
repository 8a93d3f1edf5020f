// PromQL of the infrastructure dashboard: cAdvisor for containers, the Redis and Postgres
// exporters (never the raw database ports), node-exporter for disks, process-exporter for hosts
// without containers.
{
  // Whether a target is scraped: min over its instances (max for the API, whose idle blue/green
  // colour is down between deployments). No series at all means "no data", never UP.
  targetUp(target):: '%s(up{%s})' % [std.get(target, 'aggregation', 'min'), target.selector],

  containerCpu(c)::
    'sum by (name) (rate(container_cpu_usage_seconds_total{%s, %s}[$__rate_interval]))'
    % [c.cadvisorSelector, c.containerSelector],

  containerMemory(c)::
    'sum by (name) (container_memory_working_set_bytes{%s, %s})' % [c.cadvisorSelector, c.containerSelector],

  redisMemoryUsed(c):: 'sum by (instance) (redis_memory_used_bytes{%s})' % c.redisSelector,
  redisMemoryMax(c):: 'max by (instance) (redis_memory_max_bytes{%s})' % c.redisSelector,
  redisClients(c):: 'sum by (instance) (redis_connected_clients{%s})' % c.redisSelector,
  redisBlocked(c):: 'sum by (instance) (redis_blocked_clients{%s})' % c.redisSelector,

  pgConnections(c):: 'sum by (instance) (pg_stat_database_numbackends{%s})' % c.postgresSelector,
  pgMaxConnections(c):: 'max by (instance) (pg_settings_max_connections{%s})' % c.postgresSelector,
  pgLongestTransaction(c):: 'max by (state) (pg_stat_activity_max_tx_duration{%s})' % c.postgresSelector,

  diskUsage(c)::
    local sel = '%s, %s' % [c.nodeSelector, c.diskSelector];
    '1 - sum by (instance, mountpoint) (node_filesystem_avail_bytes{%s}) / sum by (instance, mountpoint) (node_filesystem_size_bytes{%s})'
    % [sel, sel],

  processCpu(c)::
    'sum by (groupname) (rate(namedprocess_namegroup_cpu_seconds_total{%s, %s}[$__rate_interval]))'
    % [c.processSelector, c.processGroupSelector],

  processMemory(c)::
    'sum by (groupname) (namedprocess_namegroup_memory_bytes{%s, %s, memtype="resident"})'
    % [c.processSelector, c.processGroupSelector],
}
