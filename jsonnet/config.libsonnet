// The one object that parameterizes the bo1 mixin. A consumer overrides any field with
//   (import 'github.com/.../jsonnet/mixin.libsonnet') + { _config+:: { apiJobRegex: 'my-api' } }
// Derived fields (selectors) use `self`, so overriding a job name re-targets every query.
local grizzly = import 'lib/grizzly.libsonnet';
{
  _config+:: {
    // --- Prometheus scrape jobs --------------------------------------------------------------
    // Regex of the job label of bo1's API: dev `bo1-api`, prod blue/green `bo1-backend-blue|green`.
    // Change it when your prometheus.yml names the API job differently.
    apiJobRegex: 'bo1-api|bo1-backend-.*',
    // The job name our generated prometheus.yml (local stack, compose profile) gives the API.
    apiJob: 'bo1-api',
    // Job names of the exporters; change them to the job_name values of your prometheus.yml.
    redisExporterJob: 'redis-exporter',
    postgresExporterJob: 'postgres-exporter',
    nodeExporterJob: 'node-exporter',
    processExporterJob: 'process-exporter',
    cadvisorJob: 'cadvisor',
    prometheusJob: 'prometheus',

    // --- Selectors (label-matcher strings), derived from the jobs above ----------------------
    // Override a selector only to add matchers (e.g. a cluster label) to every query of a target.
    apiSelector: 'job=~"%s"' % self.apiJobRegex,
    redisSelector: 'job="%s"' % self.redisExporterJob,
    postgresSelector: 'job="%s"' % self.postgresExporterJob,
    nodeSelector: 'job="%s"' % self.nodeExporterJob,
    processSelector: 'job="%s"' % self.processExporterJob,
    cadvisorSelector: 'job="%s"' % self.cadvisorJob,
    prometheusSelector: 'job="%s"' % self.prometheusJob,
    // cAdvisor `name` label of bo1's containers (dev bo1-*, blue/green boardofone-*, shared infrastructure-*).
    containerSelector: 'name=~"bo1-.*|boardofone-.*|infrastructure-.*"',
    // process-exporter group names (hosts without containers); change with your process-exporter config.
    processGroupSelector: 'groupname=~"bo1-api|postgres|redis-server"',
    // bo1's SSE route lasts a whole session: kept out of latency panels and SLOs, shown as live streams.
    streamHandlerRegex: '.*/stream',
    streamHandler: '/api/v1/sessions/{session_id}/stream',
    // Mountpoints that count as disk for the infrastructure dashboard (node-exporter).
    diskSelector: 'fstype!~"tmpfs|overlay|squashfs|nsfs|ramfs"',

    // Every scrape target shown in the infrastructure status row (name, selector, and how its
    // instances combine: `min` = DOWN if any is down; the API uses `max` because the idle
    // blue/green colour is down between deployments).
    scrapeTargets: [
      { name: 'bo1 API', selector: $._config.apiSelector, aggregation: 'max' },
      { name: 'Redis exporter', selector: $._config.redisSelector },
      { name: 'Postgres exporter', selector: $._config.postgresSelector },
      { name: 'node-exporter', selector: $._config.nodeSelector },
      { name: 'process-exporter', selector: $._config.processSelector },
      { name: 'cAdvisor', selector: $._config.cadvisorSelector },
      { name: 'Prometheus', selector: $._config.prometheusSelector },
    ],

    // --- Datasources (uids are what every panel references and provisioning creates) ---------
    datasources: {
      // Change uid/url to your Grafana's Prometheus datasource.
      prometheus: {
        uid: 'prometheus',
        name: 'Prometheus',
        type: 'prometheus',
        url: 'http://prometheus:9090',
        // Must equal the scrape interval: Grafana derives $__rate_interval from it.
        scrapeInterval: $._config.scrapeInterval,
      },
      // The bo1 database, read through a read-only role (change host/database/user to yours;
      // the password comes from $BO1_GRAFANA_PG_PASSWORD at Grafana start, never from a file here).
      postgres: {
        uid: 'bo1-postgres',
        name: 'bo1 Postgres',
        type: 'grafana-postgresql-datasource',
        url: 'postgres:5432',
        database: 'boardofone',
        user: 'grafana_ro',
        passwordEnv: 'BO1_GRAFANA_PG_PASSWORD',
        sslmode: 'disable',
      },
    },

    // --- Time ------------------------------------------------------------------------------
    // Prometheus scrape interval of the bo1 jobs (prod scrapes every 15s; change with yours).
    scrapeInterval: '15s',
    // Prometheus retention: no query looks further back than this. The budget alerts read the
    // month to date (up to 31 days), so keep your Prometheus' --storage.tsdb.retention.time >= this.
    retention: '35d',
    // Default time range and refresh of every dashboard.
    defaultRange: 'now-6h',
    // Window of the recording rules the dashboards read instead of raw counters (rules/): at least
    // four scrape intervals; the rule names carry it (handler:http_requests:rate1m).
    dashboardRateWindow: '1m',
    // Window and evaluation interval of the per-handler latency rule that tables over the whole
    // dashboard range sum (top 10 slowest endpoints): 5x fewer points to read than the 1m rule at
    // 7 and 30 days; such a table lags by at most this much.
    rangeTableRuleWindow: '5m',
    // Relative time of the live (Prometheus) panels on the cost and deliberation dashboards, whose
    // default ranges are days: a live rate is read over the last hour, not smeared over a week.
    liveRange: '1h',
    refresh: '30s',

    // --- SLOs and thresholds --------------------------------------------------------------
    slo: {
      // Availability objective over non-stream requests (5xx are the bad events).
      availability: 0.995,
      // Latency objective: this quantile under this many seconds.
      latencyQuantile: 0.95,
      latencySeconds: 0.5,
    },
    thresholds: {
      // 5xx ratio per endpoint: amber / red.
      errorRatioWarning: 0.01,
      errorRatioCritical: 0.05,
      // Latency (seconds) colouring of p95 panels: amber / red.
      latencyWarning: 0.5,
      latencyCritical: 1,
      // Share of a resource used (CPU, memory, disk, Redis maxmemory, Postgres max_connections).
      saturationWarning: 0.8,
      saturationCritical: 0.9,
      // Session completion rate below this is amber, below critical red.
      completionRateWarning: 0.9,
      completionRateCritical: 0.75,
    },

    // --- Money -----------------------------------------------------------------------------
    // Monthly LLM budget in USD: cost dashboard "budget used" and the projected-spend alert.
    llmMonthlyBudgetUsd: 1000,

    // --- Dashboards ------------------------------------------------------------------------
    // The Grafana folder of every dashboard: file provisioning (folderUid), `bo1dash apply` and
    // `grr apply jsonnet/mixin.libsonnet` (grizzly reads the title, `grafanaDashboardFolder`) all use it.
    grafanaFolder: {
      // Folder title shown in Grafana's dashboard browser; change it to move the dashboards elsewhere.
      title: 'bo1',
      // Folder uid: grizzly derives it from the title (letters, digits, - and _ kept); leave it derived.
      uid: grizzly.folderUid(self.title),
    },
    // Stable uids: links and bookmarks depend on them; never derive them from titles.
    dashboardUids: {
      api: 'bo1-api',
      deliberation: 'bo1-deliberation',
      cost: 'bo1-cost',
      infrastructure: 'bo1-infrastructure',
    },
    // Prefix of every dashboard title and tag set of every dashboard.
    dashboardTitlePrefix: 'bo1 / ',
    dashboardTags: ['bo1'],
    timezone: 'utc',
  },
}
