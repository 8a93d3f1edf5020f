-- The roles the monitoring stack logs in with. Idempotent: run it as a superuser in bo1's database
-- (after bo1's migrations or before: tables created later are granted too), with the passwords in
-- the settings bo1.grafana_password and bo1.exporter_password, e.g.
--   PGOPTIONS="-c bo1.grafana_password=... -c bo1.exporter_password=..." psql -d boardofone -f monitoring-roles.sql
-- The compose profile runs it (service postgres-monitoring-roles); the local stack runs this same file.
--
-- grafana_ro: Grafana's Postgres datasource. Reads, never writes. BYPASSRLS because bo1 enables row
--   level security on api_costs, sessions and session_events: any other role would read no rows.
-- postgres_exporter: pg_monitor, for postgres_exporter.
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_ro') THEN
    CREATE ROLE grafana_ro LOGIN;
  END IF;
  EXECUTE format('ALTER ROLE grafana_ro WITH LOGIN BYPASSRLS PASSWORD %L', current_setting('bo1.grafana_password'));
  ALTER ROLE grafana_ro SET default_transaction_read_only = on;

  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres_exporter') THEN
    CREATE ROLE postgres_exporter LOGIN;
  END IF;
  EXECUTE format('ALTER ROLE postgres_exporter WITH LOGIN PASSWORD %L', current_setting('bo1.exporter_password'));
  ALTER ROLE postgres_exporter SET default_transaction_read_only = on;
  GRANT pg_monitor TO postgres_exporter;

  EXECUTE format('GRANT CONNECT ON DATABASE %I TO grafana_ro, postgres_exporter', current_database());
  GRANT USAGE ON SCHEMA public TO grafana_ro;
  GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana_ro;
  -- bo1 (the owner) creates its tables and monthly partitions as it goes.
  ALTER DEFAULT PRIVILEGES FOR ROLE bo1 IN SCHEMA public GRANT SELECT ON TABLES TO grafana_ro;
END
$roles$;
