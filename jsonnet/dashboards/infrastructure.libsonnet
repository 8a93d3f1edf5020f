// bo1 / Infrastructure: is every scrape target up, and how loaded are containers, Redis,
// Postgres, disks and processes.
local dashboard = import '../lib/dashboard.libsonnet';
local layout = import '../lib/layout.libsonnet';
local panels = import '../lib/panels.libsonnet';
local q = import '../lib/queries/infrastructure.libsonnet';

{
  grafanaDashboards+:: {
    'infrastructure.json':
      local c = $._config;
      local ds = c.datasources.prometheus;
      local prom(expr, legend=null) = panels.prom(c, expr, legend);
      local t = c.thresholds;
      local targets = c.scrapeTargets;
      local statusWidth = std.max(2, std.floor(24 / std.length(targets)));
      dashboard.new(c, 'infrastructure', 'Infrastructure', 'Scrape targets, containers (cAdvisor), Redis, Postgres, disks and processes behind bo1.', [
        layout.row('Scrape targets'),
      ] + [
        layout.cell(panels.targetStatus(ds, '%s target' % target.name, 'UP when Prometheus scrapes %s (%s of up{%s}); NO DATA when it is not configured at all.' % [target.name, std.get(target, 'aggregation', 'min'), target.selector], [panels.promInstant(c, q.targetUp(target))]), statusWidth, 4)
        for target in targets
      ] + [
        layout.row('Containers (cAdvisor)'),
        layout.cell(panels.timeseries(ds, 'Container CPU', 'CPU used per bo1 container (1 = one core).', 'percentunit', [prom(q.containerCpu(c), '{{name}}')]), 12, 8),
        layout.cell(panels.timeseries(ds, 'Container memory (working set)', 'Working set memory per bo1 container (what the OOM killer looks at).', 'bytes', [prom(q.containerMemory(c), '{{name}}')]), 12, 8),
        layout.row('Redis and Postgres'),
        layout.cell(panels.timeseries(ds, 'Redis memory', 'Memory Redis uses against its maxmemory (bo1 runs allkeys-lru: at the limit it evicts checkpoints and event history).', 'bytes', [prom(q.redisMemoryUsed(c), 'used {{instance}}'), prom(q.redisMemoryMax(c), 'maxmemory {{instance}}')]), 6, 8),
        layout.cell(panels.timeseries(ds, 'Redis connections', 'Connected and blocked Redis clients.', 'short', [prom(q.redisClients(c), 'connected {{instance}}'), prom(q.redisBlocked(c), 'blocked {{instance}}')]), 6, 8),
        layout.cell(panels.timeseries(ds, 'Postgres connections', 'Backends connected to Postgres against max_connections.', 'short', [prom(q.pgConnections(c), 'connections {{instance}}'), prom(q.pgMaxConnections(c), 'max_connections {{instance}}')]), 6, 8),
        layout.cell(panels.timeseries(ds, 'Postgres longest transaction', 'Age of the oldest open transaction, by connection state (long ones hold locks and bloat tables).', 's', [prom(q.pgLongestTransaction(c), '{{state}}')]), 6, 8),
        layout.row('Host'),
        layout.cell(panels.timeseries(ds, 'Disk usage', 'Share of each filesystem used (node-exporter).', 'percentunit', [prom(q.diskUsage(c), '{{instance}} {{mountpoint}}')], warn=t.saturationWarning, crit=t.saturationCritical), 8, 8),
        layout.cell(panels.timeseries(ds, 'Process CPU', 'CPU per process group (process-exporter), for hosts without containers.', 'percentunit', [prom(q.processCpu(c), '{{groupname}}')]), 8, 8),
        layout.cell(panels.timeseries(ds, 'Process memory', 'Resident memory per process group (process-exporter).', 'bytes', [prom(q.processMemory(c), '{{groupname}}')]), 8, 8),
      ]),
  },
}
