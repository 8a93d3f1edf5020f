-- The roles the monitoring stack logs in with. Idempotent: run it as a superuser in bo1's database after
-- bo1's migrations and cost-rollup.sql, with the passwords in the settings bo1.grafana_password and
-- bo1.exporter_password. With psql, monitoring-passwords.psql sets them from the environment (no quoting
-- of the password anywhere):
--   BO1_GRAFANA_PG_PASSWORD=... POSTGRES_EXPORTER_PASSWORD=... psql -d boardofone -v ON_ERROR_STOP=1 \
--     -f cost-rollup.sql -f monitoring-passwords.psql -f monitoring-roles.sql
-- The compose profile runs it (service postgres-monitoring-roles, at every `up`); the local stack runs this
-- same file.
--
-- grafana_ro: Grafana's Postgres datasource. Reads exactly the columns the dashboards read (the `reads`
--   map below; tests/test_monitoring_roles.py runs every SQL panel as grafana_ro and checks that each
--   column is read by some panel), nothing else: no other table, no other column (users' Stripe ids, ...),
--   no table bo1 creates later. Never writes (no privilege; read-only transactions by default).
--   bo1 enables row level security on sessions and api_costs (policies on app.current_user_id) and a
--   plain role would read no rows there. Instead of BYPASSRLS (every row of every table), a SELECT-only
--   policy for grafana_ro on each table it reads lets it see all rows of those tables only.
--   Grants on tables that do not exist yet (before bo1's migrations, or cost-rollup.sql) are left out with
--   a notice: run the file again after them (compose does at the next `up`).
--   Column grants and this policy do not hold back bo1's migrations (a view over bo1's columns would:
--   PostgreSQL refuses to alter or drop a column a view reads).
-- postgres_exporter: pg_monitor, for postgres_exporter. Its password may hold any character but white
--   space, which postgres_exporter cannot take (refused here with a message).
DO $roles$
DECLARE
  reads CONSTANT jsonb := '{
    "api_costs": ["created_at", "model_name", "provider", "session_id", "total_cost", "user_id"],
    "api_costs_daily": ["day", "total_cost"],
    "api_costs_daily_model": ["day", "model_name", "provider", "total_cost"],
    "api_costs_daily_session": ["day", "session_id", "total_cost"],
    "api_costs_daily_user": ["day", "total_cost", "user_id"],
    "sessions": ["created_at", "round_number", "status", "updated_at"],
    "users": ["email", "id"]
  }';
  tbl text;
  cols text;
  missing text;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_ro') THEN
    CREATE ROLE grafana_ro LOGIN;
  END IF;
  EXECUTE format('ALTER ROLE grafana_ro WITH LOGIN NOBYPASSRLS PASSWORD %L', current_setting('bo1.grafana_password'));
  ALTER ROLE grafana_ro SET default_transaction_read_only = on;

  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres_exporter') THEN
    CREATE ROLE postgres_exporter LOGIN;
  END IF;
  -- postgres_exporter splits its connection string on spaces (also one it builds from DATA_SOURCE_PASS).
  IF current_setting('bo1.exporter_password') ~ '\s' THEN
    RAISE EXCEPTION 'POSTGRES_EXPORTER_PASSWORD (bo1.exporter_password) contains white space: postgres_exporter cannot log in with it (it splits its connection string on spaces); choose one without';
  END IF;
  EXECUTE format('ALTER ROLE postgres_exporter WITH LOGIN PASSWORD %L', current_setting('bo1.exporter_password'));
  ALTER ROLE postgres_exporter SET default_transaction_read_only = on;
  GRANT pg_monitor TO postgres_exporter;

  EXECUTE format('GRANT CONNECT ON DATABASE %I TO grafana_ro, postgres_exporter', current_database());
  GRANT USAGE ON SCHEMA public TO grafana_ro;

  -- Start from nothing: what an earlier run granted (also the SELECT on every table, present and future,
  -- that earlier versions of this file gave) goes; REVOKE on a table takes its column grants with it.
  REVOKE ALL ON ALL TABLES IN SCHEMA public FROM grafana_ro;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'bo1') THEN
    ALTER DEFAULT PRIVILEGES FOR ROLE bo1 IN SCHEMA public REVOKE SELECT ON TABLES FROM grafana_ro;
  END IF;

  FOR tbl, cols IN
    SELECT key, string_agg(quote_ident(col), ', ' ORDER BY col)
    FROM jsonb_each(reads), jsonb_array_elements_text(value) AS col GROUP BY key ORDER BY key
  LOOP
    IF to_regclass(format('public.%I', tbl)) IS NULL THEN
      RAISE NOTICE 'monitoring-roles.sql: public.% does not exist yet: grafana_ro cannot read it; run this file again after bo1''s migrations and cost-rollup.sql', tbl;
      CONTINUE;
    END IF;
    SELECT string_agg(col, ', ') INTO missing
    FROM jsonb_array_elements_text(reads -> tbl) AS col
    WHERE NOT EXISTS (
      SELECT FROM pg_attribute
      WHERE attrelid = format('public.%I', tbl)::regclass AND attname = col AND attnum > 0 AND NOT attisdropped
    );
    IF missing IS NOT NULL THEN
      RAISE EXCEPTION 'monitoring-roles.sql: public.% has no column %, which the dashboards read', tbl, missing
        USING HINT = 'bo1''s schema changed: update the dashboards'' SQL and the reads map of this file';
    END IF;
    EXECUTE format('GRANT SELECT (%s) ON public.%I TO grafana_ro', cols, tbl);
    IF NOT EXISTS (
      SELECT FROM pg_policies WHERE schemaname = 'public' AND tablename = tbl AND policyname = 'grafana_ro_reads_all'
    ) THEN
      EXECUTE format('CREATE POLICY grafana_ro_reads_all ON public.%I FOR SELECT TO grafana_ro USING (true)', tbl);
    END IF;
  END LOOP;
END
$roles$;
