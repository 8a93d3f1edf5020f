-- api_costs_daily: bo1's LLM spend per UTC day and provider, kept exact by triggers on the api_costs
-- ledger. The cost dashboard's month-to-date panels (month to date, budget used, cumulative monthly
-- spend) read whole days here and only the current day from api_costs, instead of reading the month's
-- partition row by row on every refresh (docs/benchmark.md).
--
-- Idempotent: run it as api_costs' owner (bo1) or a superuser in bo1's database, after bo1's migrations
-- and before monitoring-roles.sql (which grants grafana_ro SELECT on it), e.g.
--   psql -d boardofone -v ON_ERROR_STOP=1 -f cost-rollup.sql -f monitoring-roles.sql
-- The compose profile runs it (service postgres-monitoring-roles); the local stack runs this same file.
--
-- - First run: creates the table and its triggers and fills it from the ledger, in one transaction that
--   holds off ledger writes meanwhile (SHARE ROW EXCLUSIVE: reads go on), so no row is missed or counted
--   twice. Later runs only replace the trigger function. To refill it from the ledger, drop the trigger
--   api_costs_daily_insert and run the file again (docs/runbooks.md). Before bo1's migrations (no api_costs yet) it
--   does nothing and says so.
-- - The triggers are statement-level (one aggregate upsert per INSERT/COPY statement): inserts add,
--   deletes (a session's CASCADE included) subtract, updates move the difference. ON CONFLICT DO NOTHING
--   inserts add only the rows really inserted. Transactions that write the ledger take one advisory lock
--   (the rollup's) from their first ledger write to their commit: they queue one after the other there
--   instead of deadlocking on rollup rows. bo1's cost tracker commits small batches, so the wait is short.
-- - Dropping an old api_costs partition (bo1's 90-day retention) does not touch the rollup: its days
--   stay. TRUNCATE of api_costs is not followed: run `TRUNCATE api_costs_daily` with it.
-- - To remove it: DROP TABLE api_costs_daily; DROP FUNCTION api_costs_daily_apply() CASCADE;
DO $rollup$
DECLARE
  ledger_owner name;
  installed boolean;
BEGIN
  IF to_regclass('public.api_costs') IS NULL THEN
    RAISE NOTICE 'cost-rollup.sql: public.api_costs does not exist yet (bo1''s migrations have not run): nothing installed; run it again after them';
    RETURN;
  END IF;
  SELECT tableowner INTO ledger_owner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'api_costs';

  CREATE TABLE IF NOT EXISTS public.api_costs_daily (
    day date NOT NULL,                        -- UTC calendar day of api_costs.created_at
    provider varchar(50) NOT NULL,
    total_cost numeric NOT NULL DEFAULT 0,    -- USD, sum of api_costs.total_cost
    calls bigint NOT NULL DEFAULT 0,          -- ledger rows
    PRIMARY KEY (day, provider)
  );
  COMMENT ON TABLE public.api_costs_daily IS
    'LLM spend per UTC day and provider, kept by triggers on api_costs (bo1-dashboards infra/postgres/cost-rollup.sql)';

  -- SECURITY DEFINER (owned by the ledger's owner, fixed search_path): a role that may write api_costs
  -- but has no grant on the rollup (an app role other than the owner) still writes through the trigger.
  CREATE OR REPLACE FUNCTION public.api_costs_daily_apply() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $apply$
  BEGIN
    -- One writer of the rollup at a time, until its transaction ends: bo1 may insert a batch as one
    -- statement per row, so the keys a transaction upserts cannot be put in one order across its
    -- statements; a single lock leaves no lock cycle between ledger writers.
    PERFORM pg_advisory_xact_lock('pg_class'::regclass::oid::int, 'api_costs_daily'::regclass::oid::int);
    IF TG_OP = 'INSERT' THEN
      INSERT INTO api_costs_daily AS d (day, provider, total_cost, calls)
      SELECT (created_at AT TIME ZONE 'UTC')::date, provider, sum(total_cost), count(*)
      FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (day, provider) DO UPDATE
        SET total_cost = d.total_cost + excluded.total_cost, calls = d.calls + excluded.calls;
    ELSIF TG_OP = 'DELETE' THEN
      INSERT INTO api_costs_daily AS d (day, provider, total_cost, calls)
      SELECT (created_at AT TIME ZONE 'UTC')::date, provider, -sum(total_cost), -count(*)
      FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (day, provider) DO UPDATE
        SET total_cost = d.total_cost + excluded.total_cost, calls = d.calls + excluded.calls;
    ELSIF TG_OP = 'UPDATE' THEN
      INSERT INTO api_costs_daily AS d (day, provider, total_cost, calls)
      SELECT day, provider, sum(cost), sum(n) FROM (
        SELECT (created_at AT TIME ZONE 'UTC')::date AS day, provider, total_cost AS cost, 1 AS n FROM new_rows
        UNION ALL
        SELECT (created_at AT TIME ZONE 'UTC')::date, provider, -total_cost, -1 FROM old_rows
      ) AS moved
      GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (day, provider) DO UPDATE
        SET total_cost = d.total_cost + excluded.total_cost, calls = d.calls + excluded.calls;
    END IF;
    RETURN NULL;
  END
  $apply$;

  SELECT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = 'public.api_costs'::regclass
                 AND tgname = 'api_costs_daily_insert') INTO installed;
  IF NOT installed THEN
    LOCK TABLE public.api_costs IN SHARE ROW EXCLUSIVE MODE;
    -- A refill (docs/runbooks.md): the insert trigger was dropped, the others may still be there.
    DROP TRIGGER IF EXISTS api_costs_daily_delete ON public.api_costs;
    DROP TRIGGER IF EXISTS api_costs_daily_update ON public.api_costs;
    DELETE FROM public.api_costs_daily;
    INSERT INTO public.api_costs_daily (day, provider, total_cost, calls)
    SELECT (created_at AT TIME ZONE 'UTC')::date, provider, sum(total_cost), count(*)
    FROM public.api_costs GROUP BY 1, 2;
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
  EXECUTE format('ALTER FUNCTION public.api_costs_daily_apply() OWNER TO %I', ledger_owner);
  REVOKE ALL ON FUNCTION public.api_costs_daily_apply() FROM PUBLIC;
END
$rollup$;
