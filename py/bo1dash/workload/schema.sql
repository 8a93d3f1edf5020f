-- bo1's tables as its migrations leave them (only the columns and constraints the dashboards and
-- the workload touch, with bo1's names, types, defaults, CHECKs and indexes). Idempotent.
CREATE TABLE IF NOT EXISTS users (
    id varchar(255) PRIMARY KEY,
    email varchar(255) UNIQUE,
    auth_provider varchar(50),
    subscription_tier varchar(50) DEFAULT 'free',
    gdpr_consent_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    is_admin boolean NOT NULL DEFAULT false,
    tier_override jsonb,
    deleted_at timestamptz,
    deleted_by varchar(255),
    is_locked boolean NOT NULL DEFAULT false,
    locked_at timestamptz,
    locked_by varchar(255),
    lock_reason text,
    email_verified_at timestamptz,
    stripe_customer_id varchar(255),
    stripe_subscription_id varchar(255)
);

CREATE TABLE IF NOT EXISTS sessions (
    id varchar(255) PRIMARY KEY,
    user_id varchar(255) REFERENCES users(id) ON DELETE CASCADE,
    problem_statement text,
    problem_context json,
    status varchar(50) NOT NULL DEFAULT 'active',
    phase varchar(50),
    total_cost numeric(10,4) NOT NULL DEFAULT 0,
    total_tokens integer NOT NULL DEFAULT 0,
    round_number integer NOT NULL DEFAULT 0,
    expert_count integer NOT NULL DEFAULT 0,
    contribution_count integer NOT NULL DEFAULT 0,
    focus_area_count integer NOT NULL DEFAULT 0,
    task_count integer NOT NULL DEFAULT 0,
    last_completed_sp_index integer,
    total_sub_problems integer,
    billable_portion double precision,
    termination_type varchar(32),
    termination_reason text,
    synthesis_text text,
    final_recommendation text,
    killed_by varchar(255),
    kill_reason varchar(500),
    workspace_id uuid,
    dataset_id uuid,
    template_id uuid,
    persona_count_variant integer,
    used_promo_credit boolean,
    context_ids jsonb,
    has_untracked_costs boolean,
    recovery_needed boolean,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    killed_at timestamptz,
    terminated_at timestamptz,
    failure_acknowledged_at timestamptz,
    sp_checkpoint_at timestamptz,
    CONSTRAINT sessions_status_check CHECK (status IN
        ('created', 'running', 'completed', 'failed', 'killed', 'deleted', 'paused', 'terminated')),
    CONSTRAINT sessions_phase_check CHECK (phase IS NULL OR phase IN
        ('intake', 'decomposition', 'selection', 'initial_round', 'discussion', 'voting', 'synthesis',
         'complete', 'problem_decomposition', 'context_collection', 'convergence', 'exploration',
         'identify_gaps', 'clarification_needed', 'challenge', 'recommendations'))
);
CREATE INDEX IF NOT EXISTS idx_sessions_user_id ON sessions (user_id);
CREATE INDEX IF NOT EXISTS idx_sessions_status ON sessions (status);
CREATE INDEX IF NOT EXISTS idx_sessions_created_at ON sessions (created_at);
CREATE INDEX IF NOT EXISTS idx_sessions_workspace_id ON sessions (workspace_id);
CREATE INDEX IF NOT EXISTS idx_sessions_terminated_at ON sessions (terminated_at);
CREATE INDEX IF NOT EXISTS idx_sessions_persona_count_variant ON sessions (persona_count_variant);
CREATE INDEX IF NOT EXISTS idx_sessions_used_promo_credit ON sessions (used_promo_credit);

CREATE SEQUENCE IF NOT EXISTS api_costs_id_seq;
CREATE TABLE IF NOT EXISTS api_costs (
    id bigint NOT NULL DEFAULT nextval('api_costs_id_seq'),
    request_id uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    session_id varchar(255) REFERENCES sessions(id) ON DELETE CASCADE,
    user_id varchar(255) REFERENCES users(id) ON DELETE SET NULL,
    provider varchar(50) NOT NULL,
    model_name varchar(100),
    operation_type varchar(50) NOT NULL,
    node_name varchar(100),
    phase varchar(50),
    persona_name varchar(100),
    round_number integer,
    sub_problem_index integer,
    input_tokens integer NOT NULL DEFAULT 0,
    output_tokens integer NOT NULL DEFAULT 0,
    total_tokens integer GENERATED ALWAYS AS (input_tokens + output_tokens) STORED,
    cache_creation_tokens integer NOT NULL DEFAULT 0,
    cache_read_tokens integer NOT NULL DEFAULT 0,
    cache_hit boolean NOT NULL DEFAULT false,
    input_cost numeric(12,8),
    output_cost numeric(12,8),
    cache_write_cost numeric(12,8),
    cache_read_cost numeric(12,8),
    total_cost numeric(12,8) NOT NULL,
    optimization_type varchar(50),
    cost_without_optimization numeric(12,8),
    latency_ms integer,
    status varchar(20) NOT NULL DEFAULT 'success',
    error_message text,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    contribution_id integer,
    recommendation_id integer,
    feature varchar(50),
    cost_category varchar(50) NOT NULL DEFAULT 'user',
    CONSTRAINT api_costs_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT api_costs_request_id_created_at_key UNIQUE (request_id, created_at),
    CONSTRAINT check_provider CHECK (provider IN ('anthropic', 'voyage', 'brave', 'tavily')),
    CONSTRAINT check_total_cost CHECK (total_cost >= 0)
) PARTITION BY RANGE (created_at);
CREATE INDEX IF NOT EXISTS idx_api_costs_created_at ON api_costs (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_api_costs_session_created ON api_costs (session_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_api_costs_user_created ON api_costs (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_api_costs_provider_model ON api_costs (provider, model_name);
CREATE INDEX IF NOT EXISTS idx_api_costs_node_name ON api_costs (node_name);
CREATE INDEX IF NOT EXISTS idx_api_costs_phase ON api_costs (phase);
CREATE INDEX IF NOT EXISTS idx_api_costs_analytics ON api_costs (created_at DESC, session_id, provider, total_cost);
CREATE INDEX IF NOT EXISTS idx_api_costs_metadata ON api_costs USING gin (metadata);
CREATE INDEX IF NOT EXISTS idx_api_costs_cost_category ON api_costs (cost_category);
CREATE INDEX IF NOT EXISTS idx_api_costs_user_feature ON api_costs (user_id, feature, created_at DESC)
    WHERE feature IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_api_costs_session_sp ON api_costs (session_id, sub_problem_index);

CREATE TABLE IF NOT EXISTS daily_cost_summary (
    id bigserial PRIMARY KEY,
    date date NOT NULL,
    provider varchar(50) NOT NULL,
    category varchar(50),
    amount_usd numeric(12,6) NOT NULL DEFAULT 0,
    request_count integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS daily_user_feature_costs (
    id serial PRIMARY KEY,
    user_id varchar(255) NOT NULL,
    feature varchar(50) NOT NULL,
    date date NOT NULL,
    total_cost numeric(10,6) NOT NULL DEFAULT 0,
    request_count integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, feature, date)
);

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_costs ENABLE ROW LEVEL SECURITY;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'sessions' AND policyname = 'sessions_user_isolation') THEN
        CREATE POLICY sessions_user_isolation ON sessions
            USING (user_id = current_setting('app.current_user_id', true));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'api_costs' AND policyname = 'api_costs_user_isolation') THEN
        CREATE POLICY api_costs_user_isolation ON api_costs
            USING (user_id = current_setting('app.current_user_id', true));
    END IF;
END $$;

-- bo1's session event log (its SSE replay when Redis pub/sub is down). bo1 partitions it monthly on
-- created_at; the look-alike keeps one table (nothing here reads it by month).
CREATE TABLE IF NOT EXISTS session_events (
    id bigserial PRIMARY KEY,
    session_id varchar(255) NOT NULL,
    event_type varchar(100) NOT NULL,
    sequence integer NOT NULL,
    data jsonb NOT NULL DEFAULT '{}',
    user_id varchar(255),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_session_events_session_sequence ON session_events (session_id, sequence);
