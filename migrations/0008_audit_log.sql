-- The audit log: one record per GraphQL operation, append-only and tamper-evident.
--
-- The hub runs as the role hub_runtime (HUB_DATABASE_ROLE): it reads the national database,
-- keeps client-assertion ids, and may only INSERT and SELECT audit rows. Migrations, seeding
-- and retention run as the database owner. Privileges stop the hub from changing the log; the
-- triggers below stop everyone else who has not first disabled them; the hash chains and the
-- signed checkpoints (hub/audit/chain.py) reveal whatever a database superuser does anyway.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hub_runtime') THEN
        CREATE ROLE hub_runtime NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO hub_runtime;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO hub_runtime;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO hub_runtime;
GRANT INSERT, UPDATE, DELETE ON oauth_assertion_jti TO hub_runtime;

-- Every operation's record. The whole record is the jsonb `entry`, which the chain hash
-- covers; the other columns repeat parts of it for partitioning and look-ups (verification
-- checks that they agree with the entry).
CREATE TABLE audit_record (
    recorded_at  timestamptz NOT NULL,
    chain_id     uuid NOT NULL,
    seq          bigint NOT NULL CHECK (seq > 0),
    client_id    text NOT NULL,
    purpose      text,
    outcome      text NOT NULL CHECK (outcome IN ('allowed', 'partial', 'refused', 'failed')),
    subject_ids  text[] NOT NULL DEFAULT '{}',
    entry        jsonb NOT NULL,
    prev_hash    bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash         bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (chain_id, seq, recorded_at)
) PARTITION BY RANGE (recorded_at);

-- Who accessed this person's record (GIN: a record names many subjects); what did this
-- client read; and time order for exports (BRIN: records arrive in time order).
CREATE INDEX audit_record_subject_idx ON audit_record USING gin (subject_ids);
CREATE INDEX audit_record_client_idx ON audit_record (client_id, recorded_at);
CREATE INDEX audit_record_time_idx ON audit_record USING brin (recorded_at);

-- Signed statements of chain heads, themselves a hash chain (one writer at a time, under an
-- advisory lock; never on a request's path). `kind`: open (a new chain), head (a chain got
-- longer), close (a chain ended: nothing may follow), retention (records before a point were
-- removed by the retention policy, and what the chains held there).
CREATE TABLE audit_checkpoint (
    id          bigint PRIMARY KEY CHECK (id > 0),
    created_at  timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('open', 'head', 'close', 'retention')),
    heads       jsonb NOT NULL,
    prev_hash   bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash        bytea NOT NULL CHECK (length(hash) = 32),
    jws         text NOT NULL
);

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_record
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Monthly partitions (UTC), created ahead of need by the writer, which may not create tables
-- itself: this function runs with its owner's rights and can do nothing else. A TRUNCATE of
-- one partition does not fire the parent's trigger, so each partition gets its own.
CREATE FUNCTION audit_ensure_partitions(at timestamptz, months integer DEFAULT 2)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    first_month timestamp := date_trunc('month', at AT TIME ZONE 'UTC');
    month_start timestamp;
    name text;
    created integer := 0;
BEGIN
    IF months < 1 OR months > 24 THEN
        RAISE EXCEPTION 'months must be between 1 and 24';
    END IF;
    PERFORM pg_advisory_xact_lock(7307547361282410868);  -- two writers: one creates
    FOR i IN 0 .. months - 1 LOOP
        month_start := first_month + make_interval(months => i);
        name := format('audit_record_%s', to_char(month_start, 'YYYY_MM'));
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF audit_record'
                           ' FOR VALUES FROM (%L) TO (%L)', name,
                           month_start AT TIME ZONE 'UTC',
                           (month_start + interval '1 month') AT TIME ZONE 'UTC');
            EXECUTE format('CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON %I'
                           ' FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()', name);
            EXECUTE format('GRANT SELECT, INSERT ON %I TO hub_runtime', name);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;

REVOKE ALL ON FUNCTION audit_ensure_partitions(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_ensure_partitions(timestamptz, integer) TO hub_runtime;

REVOKE ALL ON audit_record, audit_checkpoint FROM hub_runtime;
GRANT SELECT, INSERT ON audit_record, audit_checkpoint TO hub_runtime;

SELECT audit_ensure_partitions(now(), 2);
