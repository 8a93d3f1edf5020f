-- The cost dashboard's rollup of bo1's api_costs ledger, kept exact by triggers on the ledger, per UTC day:
--   api_costs_daily          per provider: the month-to-date panels (month to date, budget used,
--                            cumulative monthly spend) and daily LLM spend;
--   api_costs_daily_model    per provider and model: spend by model;
--   api_costs_daily_user     per user: top 10 users by spend;
--   api_costs_daily_session  per session: average cost per session.
-- The panels read the whole UTC days of their range here and only the range's partial first and last days
-- from api_costs, instead of reading the range's ledger rows on every refresh (docs/benchmark.md).
-- PostgreSQL 15 or later (the per-model key treats a NULL model as one value: UNIQUE NULLS NOT DISTINCT).
--
-- Idempotent: run it as api_costs' owner (bo1) or a superuser in bo1's database, after bo1's migrations
-- and before monitoring-roles.sql (which grants grafana_ro SELECT on it), e.g.
--   psql -d boardofone -v ON_ERROR_STOP=1 -f cost-rollup.sql -f monitoring-roles.sql
-- The compose profile runs it (service postgres-monitoring-roles); the local stack runs this same file.
--
-- - First run: creates the tables and their triggers and fills them from the ledger, in one transaction that
--   holds off ledger writes meanwhile (SHARE ROW EXCLUSIVE: reads go on), so no row is missed or counted
--   twice; a run that finds one of the tables missing (an install older than it) does the same. Later runs
--   only replace the trigger function. To refill it from the ledger, drop the trigger
--   api_costs_daily_insert and run the file again (docs/runbooks.md). Before bo1's migrations (no api_costs yet) it
--   does nothing and says so.
-- - The triggers are statement-level (one aggregate upsert of each table per INSERT/COPY statement): inserts
--   add, deletes (a session's CASCADE, a user's SET NULL included) subtract, updates move the difference; a
--   provider, model, user or session left without ledger rows on a day loses its row there. ON CONFLICT DO NOTHING
--   inserts add only the rows really inserted. Transactions that write the ledger take one advisory lock
--   (the rollup's) from their first ledger write to their commit: they queue one after the other there
--   instead of deadlocking on rollup rows. bo1's cost tracker commits small batches, so the wait is short.
-- - Dropping an old api_costs partition (bo1's 90-day retention) does not touch the rollup: its days
--   stay. TRUNCATE of api_costs is not followed: run `TRUNCATE api_costs_daily, api_costs_daily_model,
--   api_costs_daily_user, api_costs_daily_session` with it.
-- - To remove it: DROP TABLE api_costs_daily, api_costs_daily_model, api_costs_daily_user,
--   api_costs_daily_session; DROP FUNCTION api_costs_daily_apply() CASCADE;
DO $rollup$
DECLARE
  ledger_owner name;
  installed boolean;
  missing boolean;
BEGIN
  IF to_regclass('public.api_costs') IS NULL THEN
    RAISE NOTICE 'cost-rollup.sql: public.api_costs does not exist yet (bo1''s migrations have not run): nothing installed; run it again after them';
    RETURN;
  END IF;
  SELECT tableowner INTO ledger_owner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'api_costs';

  -- A table that did not exist before this run (a first install, or an older install without the
  -- per-model, per-user and per-session tables) is filled with the others below.
  missing := to_regclass('public.api_costs_daily') IS NULL OR to_regclass('public.api_costs_daily_model') IS NULL
    OR to_regclass('public.api_costs_daily_user') IS NULL OR to_regclass('public.api_costs_daily_session') IS NULL;

  CREATE TABLE IF NOT EXISTS public.api_costs_daily (
    day date NOT NULL,                        -- UTC calendar day of api_costs.created_at
    provider varchar(50) NOT NULL,
    total_cost numeric NOT NULL DEFAULT 0,    -- USD, sum of api_costs.total_cost
    calls bigint NOT NULL DEFAULT 0,          -- ledger rows
    PRIMARY KEY (day, provider)
  );
  COMMENT ON TABLE public.api_costs_daily IS
    'LLM spend per UTC day and provider, kept by triggers on api_costs (bo1-dashboards infra/postgres/cost-rollup.sql)';
  -- Spend by model: per day, provider and model (NULL for calls without one: brave, tavily).
  CREATE TABLE IF NOT EXISTS public.api_costs_daily_model (
    day date NOT NULL,
    provider varchar(50) NOT NULL,
    model_name varchar(100),
    total_cost numeric NOT NULL DEFAULT 0,
    calls bigint NOT NULL DEFAULT 0,
    CONSTRAINT api_costs_daily_model_key UNIQUE NULLS NOT DISTINCT (day, provider, model_name)
  );
  COMMENT ON TABLE public.api_costs_daily_model IS
    'LLM spend per UTC day, provider and model, kept by triggers on api_costs (bo1-dashboards infra/postgres/cost-rollup.sql)';
  -- Top users: per day and user (rows without a user are left out).
  CREATE TABLE IF NOT EXISTS public.api_costs_daily_user (
    day date NOT NULL,
    user_id varchar(255) NOT NULL,
    total_cost numeric NOT NULL DEFAULT 0,
    calls bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, user_id)
  );
  COMMENT ON TABLE public.api_costs_daily_user IS
    'LLM spend per UTC day and user, kept by triggers on api_costs (bo1-dashboards infra/postgres/cost-rollup.sql)';
  -- Cost per session: per day and session (rows outside a session are left out); a session that spans
  -- midnight has a row on each day, so distinct sessions are counted over the rows, never summed per day.
  CREATE TABLE IF NOT EXISTS public.api_costs_daily_session (
    day date NOT NULL,
    session_id varchar(255) NOT NULL,
    total_cost numeric NOT NULL DEFAULT 0,
    calls bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, session_id)
  );
  COMMENT ON TABLE public.api_costs_daily_session IS
    'LLM spend per UTC day and session, kept by triggers on api_costs (bo1-dashboards infra/postgres/cost-rollup.sql)';

  -- SECURITY DEFINER (owned by the ledger's owner, fixed search_path): a role that may write api_costs
  -- but has no grant on the rollup (an app role other than the owner) still writes through the trigger.
  CREATE OR REPLACE FUNCTION public.api_costs_daily_apply() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $apply$
  DECLARE
    -- The statement's rows with their sign: inserted ones add, deleted ones subtract, an update both.
    added CONSTANT text := 'SELECT created_at, provider, model_name, user_id, session_id, total_cost, 1 FROM new_rows';
    removed CONSTANT text := 'SELECT created_at, provider, model_name, user_id, session_id, -total_cost, -1 FROM old_rows';
  BEGIN
    -- One writer of the rollup at a time, until its transaction ends: bo1 may insert a batch as one
    -- statement per row, so the keys a transaction upserts cannot be put in one order across its
    -- statements; a single lock leaves no lock cycle between ledger writers.
    PERFORM pg_advisory_xact_lock('pg_class'::regclass::oid::int, 'api_costs_daily'::regclass::oid::int);
    -- One statement upserts every table, each in key order; a key whose sums do not move is not written.
    -- (EXECUTE: the transition tables an operation has differ; the text is the same for all three.)
    EXECUTE format($upsert$
      WITH delta AS MATERIALIZED (
        SELECT (created_at AT TIME ZONE 'UTC')::date AS day, provider, model_name, user_id, session_id, cost, n
        FROM (%s) AS rows (created_at, provider, model_name, user_id, session_id, cost, n)
      ), by_provider AS (
        INSERT INTO api_costs_daily AS d (day, provider, total_cost, calls)
        SELECT day, provider, sum(cost), sum(n) FROM delta
        GROUP BY 1, 2 HAVING sum(cost) <> 0 OR sum(n) <> 0 ORDER BY 1, 2
        ON CONFLICT (day, provider) DO UPDATE
          SET total_cost = d.total_cost + excluded.total_cost, calls = d.calls + excluded.calls
      ), by_model AS (
        INSERT INTO api_costs_daily_model AS d (day, provider, model_name, total_cost, calls)
        SELECT day, provider, model_name, sum(cost), sum(n) FROM delta
        GROUP BY 1, 2, 3 HAVING sum(cost) <> 0 OR sum(n) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (day, provider, model_name) DO UPDATE
          SET total_cost = d.total_cost + excluded.total_cost, calls = d.calls + excluded.calls
      ), by_user AS (
        INSERT INTO api_costs_daily_user AS d (day, user_id, total_cost, calls)
        SELECT day, user_id, sum(cost), sum(n) FROM delta WHERE user_id IS NOT NULL
        GROUP BY 1, 2 HAVING sum(cost) <> 0 OR sum(n) <> 0 ORDER BY 1, 2
        ON CONFLICT (day, user_id) DO UPDATE
          SET total_cost = d.total_cost + excluded.total_cost, calls = d.calls + excluded.calls
      )
      INSERT INTO api_costs_daily_session AS d (day, session_id, total_cost, calls)
      SELECT day, session_id, sum(cost), sum(n) FROM delta WHERE session_id IS NOT NULL
      GROUP BY 1, 2 HAVING sum(cost) <> 0 OR sum(n) <> 0 ORDER BY 1, 2
      ON CONFLICT (day, session_id) DO UPDATE
        SET total_cost = d.total_cost + excluded.total_cost, calls = d.calls + excluded.calls
    $upsert$, CASE TG_OP WHEN 'INSERT' THEN added WHEN 'DELETE' THEN removed ELSE added || ' UNION ALL ' || removed END);
    IF TG_OP <> 'INSERT' THEN
      -- A provider, model, user or session with no ledger row left on a day has no rollup row there either
      -- (the panels list and count these rows). Only the days the statement removed rows from are looked at.
      EXECUTE $prune$
        WITH days AS (SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date AS day FROM old_rows),
        by_provider AS (DELETE FROM api_costs_daily WHERE day IN (SELECT day FROM days) AND calls = 0),
        by_model AS (DELETE FROM api_costs_daily_model WHERE day IN (SELECT day FROM days) AND calls = 0),
        by_user AS (DELETE FROM api_costs_daily_user WHERE day IN (SELECT day FROM days) AND calls = 0)
        DELETE FROM api_costs_daily_session WHERE day IN (SELECT day FROM days) AND calls = 0
      $prune$;
    END IF;
    RETURN NULL;
  END
  $apply$;

  SELECT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = 'public.api_costs'::regclass
                 AND tgname = 'api_costs_daily_insert') INTO installed;
  IF missing OR NOT installed THEN
    LOCK TABLE public.api_costs IN SHARE ROW EXCLUSIVE MODE;
    -- A refill (docs/runbooks.md): the insert trigger was dropped, the others may still be there.
    DROP TRIGGER IF EXISTS api_costs_daily_insert ON public.api_costs;
    DROP TRIGGER IF EXISTS api_costs_daily_delete ON public.api_costs;
    DROP TRIGGER IF EXISTS api_costs_daily_update ON public.api_costs;
    DELETE FROM public.api_costs_daily;
    DELETE FROM public.api_costs_daily_model;
    DELETE FROM public.api_costs_daily_user;
    DELETE FROM public.api_costs_daily_session;
    INSERT INTO public.api_costs_daily (day, provider, total_cost, calls)
    SELECT (created_at AT TIME ZONE 'UTC')::date, provider, sum(total_cost), count(*)
    FROM public.api_costs GROUP BY 1, 2;
    INSERT INTO public.api_costs_daily_model (day, provider, model_name, total_cost, calls)
    SELECT (created_at AT TIME ZONE 'UTC')::date, provider, model_name, sum(total_cost), count(*)
    FROM public.api_costs GROUP BY 1, 2, 3;
    INSERT INTO public.api_costs_daily_user (day, user_id, total_cost, calls)
    SELECT (created_at AT TIME ZONE 'UTC')::date, user_id, sum(total_cost), count(*)
    FROM public.api_costs WHERE user_id IS NOT NULL GROUP BY 1, 2;
    INSERT INTO public.api_costs_daily_session (day, session_id, total_cost, calls)
    SELECT (created_at AT TIME ZONE 'UTC')::date, session_id, sum(total_cost), count(*)
    FROM public.api_costs WHERE session_id IS NOT NULL GROUP BY 1, 2;
    CREATE TRIGGER api_costs_daily_insert AFTER INSERT ON public.api_costs
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.api_costs_daily_apply();
    CREATE TRIGGER api_costs_daily_delete AFTER DELETE ON public.api_costs
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.api_costs_daily_apply();
    CREATE TRIGGER api_costs_daily_update AFTER UPDATE ON public.api_costs
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.api_costs_daily_apply();
    RAISE NOTICE 'cost-rollup.sql: api_costs_daily installed and filled from % ledger rows',
      (SELECT coalesce(sum(calls), 0) FROM public.api_costs_daily);
  END IF;

  -- The ledger's owner owns the rollup and the function (which runs with its rights), not the superuser
  -- who may have run this file; nobody else may call the function.
  EXECUTE format('ALTER TABLE public.api_costs_daily OWNER TO %I', ledger_owner);
  EXECUTE format('ALTER TABLE public.api_costs_daily_model OWNER TO %I', ledger_owner);
  EXECUTE format('ALTER TABLE public.api_costs_daily_user OWNER TO %I', ledger_owner);
  EXECUTE format('ALTER TABLE public.api_costs_daily_session OWNER TO %I', ledger_owner);
  EXECUTE format('ALTER FUNCTION public.api_costs_daily_apply() OWNER TO %I', ledger_owner);
  REVOKE ALL ON FUNCTION public.api_costs_daily_apply() FROM PUBLIC;
END
$rollup$;
