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
      dashboard.new(
        c,
        key='infrastructure',
        title='Infrastructure',
        description='Scrape targets, containers (cAdvisor), Redis, Postgres, disks and processes behind bo1.',
        items=[
          layout.row('Scrape targets'),
        ] + [
          layout.cell(w=statusWidth, h=4, panel=panels.targetStatus(
            ds=ds,
            title='%s target' % target.name,
            description='UP when Prometheus scrapes %s (%s of up{%s}); NO DATA when it is not configured at all.' % [target.name, std.get(target, 'aggregation', 'min'), target.selector],
            targets=[panels.promInstant(c, q.targetUp(target))],
          ))
          for target in targets
        ] + [
          layout.row('Containers (cAdvisor)'),
          layout.cell(w=12, h=8, panel=panels.timeseries(
            ds=ds,
            title='Container CPU',
            description='CPU used per bo1 container (1 = one core).',
            unit='percentunit',
            targets=[prom(q.containerCpu(c), '{{name}}')],
          )),
          layout.cell(w=12, h=8, panel=panels.timeseries(
            ds=ds,
            title='Container memory (working set)',
            description='Working set memory per bo1 container (what the OOM killer looks at).',
            unit='bytes',
            targets=[prom(q.containerMemory(c), '{{name}}')],
          )),
          layout.row('Redis and Postgres'),
          layout.cell(w=6, h=8, panel=panels.timeseries(
            ds=ds,
            title='Redis memory',
            description='Memory Redis uses against its maxmemory (bo1 runs allkeys-lru: at the limit it evicts checkpoints and event history).',
            unit='bytes',
            targets=[
              prom(q.redisMemoryUsed(c), 'used {{instance}}'),
              prom(q.redisMemoryMax(c), 'maxmemory {{instance}}'),
            ],
          )),
          layout.cell(w=6, h=8, panel=panels.timeseries(
            ds=ds,
            title='Redis connections',
            description='Connected and blocked Redis clients.',
            unit='short',
            targets=[
              prom(q.redisClients(c), 'connected {{instance}}'),
              prom(q.redisBlocked(c), 'blocked {{instance}}'),
            ],
          )),
          layout.cell(w=6, h=8, panel=panels.timeseries(
            ds=ds,
            title='Postgres connections',
            description='Backends connected to Postgres against max_connections.',
            unit='short',
            targets=[
              prom(q.pgConnections(c), 'connections {{instance}}'),
              prom(q.pgMaxConnections(c), 'max_connections {{instance}}'),
            ],
          )),
          layout.cell(w=6, h=8, panel=panels.timeseries(
            ds=ds,
            title='Postgres longest transaction',
            description='Age of the oldest open transaction, by connection state (long ones hold locks and bloat tables).',
            unit='s',
            targets=[prom(q.pgLongestTransaction(c), '{{state}}')],
          )),
          layout.row('Host'),
          layout.cell(w=8, h=8, panel=panels.timeseries(
            ds=ds,
            title='Disk usage',
            description='Share of each filesystem used (node-exporter).',
            unit='percentunit',
            targets=[prom(q.diskUsage(c), '{{instance}} {{mountpoint}}')],
            warn=t.saturationWarning,
            crit=t.saturationCritical,
          )),
          layout.cell(w=8, h=8, panel=panels.timeseries(
            ds=ds,
            title='Process CPU',
            description='CPU per process group (process-exporter), for hosts without containers.',
            unit='percentunit',
            targets=[prom(q.processCpu(c), '{{groupname}}')],
          )),
          layout.cell(w=8, h=8, panel=panels.timeseries(
            ds=ds,
            title='Process memory',
            description='Resident memory per process group (process-exporter).',
            unit='bytes',
            targets=[prom(q.processMemory(c), '{{groupname}}')],
          )),
        ],
      ),
  },
}
