// The one object that parameterizes the bo1 mixin: every setting of the dashboards, recording
// rules and alerts is here, with a comment saying when to change it. A consumer overrides any
// field with
//   (import 'github.com/.../jsonnet/mixin.libsonnet') + { _config+:: { apiJobRegex: 'my-api' } }
// Derived fields (selectors) use `self`, so overriding a job name re-targets every query.
local configCheck = import 'lib/config-check.libsonnet';
local grizzly = import 'lib/grizzly.libsonnet';

local defaults = {
  _config+:: {
    // --- Prometheus scrape jobs --------------------------------------------------------------
    // Regex of the job label of bo1's API: dev `bo1-api`, prod blue/green `bo1-backend-blue|green`.
    // Change it when your prometheus.yml names the API job differently.
    apiJobRegex: 'bo1-api|bo1-backend-.*',
    // The job name our generated prometheus.yml (local stack, compose profile) gives the API;
    // change it only together with apiJobRegex, which must match it.
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
    // cAdvisor `name` label of bo1's containers (dev bo1-*, blue/green boardofone-*, shared infrastructure-*);
    // change it when your containers are named otherwise.
    containerSelector: 'name=~"bo1-.*|boardofone-.*|infrastructure-.*"',
    // process-exporter group names (hosts without containers); change with your process-exporter config.
    processGroupSelector: 'groupname=~"bo1-api|postgres|redis-server"',
    // bo1's SSE route lasts a whole session: kept out of latency panels and SLOs, shown as live streams.
    // Change both when bo1 moves its stream route.
    streamHandlerRegex: '.*/stream',
    streamHandler: '/api/v1/sessions/{session_id}/stream',
    // The matcher that leaves the SSE stream out, and the API selector with it (every SLO rule and
    // alert counts these requests); derived: change streamHandlerRegex instead.
    nonStreamMatcher: 'handler!~"%s"' % self.streamHandlerRegex,
    apiNonStreamSelector: '%s, %s' % [self.apiSelector, self.nonStreamMatcher],
    // The grouped status value of server errors (the instrumentator groups codes: 2xx..5xx).
    // Change only if your app exports raw codes (then use a regex matcher in a fork).
    errorStatus: '5xx',
    // Mountpoints that count as disk for the infrastructure dashboard (node-exporter); add the
    // filesystem types of your hosts that are not real disks.
    diskSelector: 'fstype!~"tmpfs|overlay|squashfs|nsfs|ramfs"',

    // Every scrape target shown in the infrastructure status row (name, selector, and how its
    // instances combine: `min` = DOWN if any is down; the API uses `max` because the idle
    // blue/green colour is down between deployments). Add your own targets here.
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
    // Default time range of every dashboard; change it to the range your team looks at first.
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
    // Lengthen it when your traffic is too sparse to show in an hour.
    liveRange: '1h',
    // Auto-refresh of every dashboard; raise it when many people keep the dashboards open.
    refresh: '30s',
    // Evaluation interval of every rule group (also the resolution of the month-to-date spend);
    // keep it at least the scrape interval.
    ruleEvaluationInterval: '1m',

    // --- SLOs and thresholds --------------------------------------------------------------
    slo: {
      // Availability objective over non-stream requests (5xx are the bad events).
      availability: 0.995,
      // Latency objective: this quantile under this many seconds.
      latencyQuantile: 0.95,
      latencySeconds: 0.5,
    },
    // Windows of the multi-window multi-burn-rate SLO alerts (SRE workbook, chapter 5):
    // page when both windows burn faster than `factor`; ticket on the slow pair.
    // Change the factors only together with the SLO period (they assume 30 days).
    sloBurnRateWindows: [
      { long: '1h', short: '5m', factor: 14.4, severity: 'critical', 'for': '2m' },
      { long: '6h', short: '30m', factor: 6, severity: 'critical', 'for': '15m' },
      { long: '3d', short: '6h', factor: 1, severity: 'warning', 'for': '1h' },
    ],
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
      // LLM calls (after retries) that fail, per provider: warning / critical ratio over 10m.
      llmErrorRatioWarning: 0.05,
      llmErrorRatioCritical: 0.2,
      // p95 of bo1_llm_request_duration_seconds per provider above this many seconds (warning).
      llmLatencyWarningSeconds: 10,
      // Spend spike: the last hour's spend rate above this multiple of the 7-day average ...
      llmSpendSpikeFactor: 3,
      // ... and above this many USD per hour (keeps a quiet night from paging).
      llmSpendSpikeMinUsdPerHour: 1,
      // Share of cost-tracking flushes (bo1_cost_flush_total) failing over 15m (warning).
      costFlushFailureRatio: 0.05,
      // Cost records waiting for a retry (bo1_cost_retry_queue_depth) (warning).
      costRetryQueueDepth: 100,
      // Disk: warn when free space is under this share and the 6h trend fills it within 24h;
      // critical under the second share and a fill within 4h.
      diskFreeWarning: 0.4,
      diskFreeCritical: 0.2,
      diskFillHoursWarning: 24,
      diskFillHoursCritical: 4,
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
    // Stable uids: links and bookmarks depend on them; never derive them from titles. Change them
    // only to install a second copy of the mixin in the same Grafana.
    dashboardUids: {
      api: 'bo1-api',
      deliberation: 'bo1-deliberation',
      cost: 'bo1-cost',
      infrastructure: 'bo1-infrastructure',
    },
    // Prefix of every dashboard title and tag set of every dashboard; change them to fit your
    // Grafana's naming (the tag also drives the dashboards' links to each other).
    dashboardTitlePrefix: 'bo1 / ',
    dashboardTags: ['bo1'],
    // Time zone of every dashboard; 'browser' shows each viewer's local time.
    timezone: 'utc',

    // --- Alerts ----------------------------------------------------------------------------
    // Where docs/runbooks.md is served; change it to your repository's URL so the link opens.
    runbookBaseUrl: 'docs/runbooks.md',

    // --- Checking ----------------------------------------------------------------------------
    // Keys a consumer adds to _config on purpose (dotted for nested ones, e.g. 'thresholds.myRatio');
    // any other key not above fails the build, naming the closest known one (a typo never builds
    // the defaults silently). Values must have the type of their default.
    extraKeys: [],
  },
};

// The check of the final _config (the consumer's overrides merged) runs when an output is read:
// it sits on the three outputs, not on _config (whose fields read $._config back) nor on the
// mixin (Jsonnet runs an object's asserts at every access to one of its fields).
defaults {
  local checked = {
    local problems = configCheck.problems($._config, defaults._config),
    assert problems == [] : configCheck.message(problems),
  },
  grafanaDashboards+:: checked,
  prometheusRules+:: checked,
  prometheusAlerts+:: checked,
}
