-- Synchronisation with the agencies' HR systems (hub sync): where each system's change feed
-- was last read up to, each run and what it found, and the differences queued for review.

-- One row per agency system (its name in config/sources.yaml). The watermark is the adapter's
-- own resume point (opaque to the hub); it moves only after a page's changes are decided and
-- kept, so a run killed midway resumes from the last page it finished.
CREATE TABLE sync_state (
    system          text PRIMARY KEY,
    watermark       text,
    -- the latest agency-side change time taken in (the agency's own timestamp)
    synced_through  timestamptz,
    last_run_id     uuid,
    last_success_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sync_run (
    id              uuid PRIMARY KEY,
    system          text NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    -- records read, and how many of each outcome (new, changed, unchanged, conflict, invalid,
    -- unmatched, duplicate, applied, rejected)
    counts          jsonb NOT NULL DEFAULT '{}',
    watermark_from  text,
    watermark_to    text,
    error           text
);
CREATE INDEX sync_run_system_idx ON sync_run (system, started_at DESC);

-- Every difference a run found between an agency record and the national database, with what
-- became of it: applied (the submission that carried it), rejected by the desk, queued for
-- review, or reported (unmatched, invalid).
CREATE TABLE sync_item (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          uuid NOT NULL REFERENCES sync_run (id),
    system          text NOT NULL,
    local_id        text,
    personal_id     text,
    employee_code   text,
    agency_code     text,
    outcome         text NOT NULL CHECK (outcome IN ('new', 'changed', 'conflict', 'invalid',
                                                     'unmatched', 'duplicate')),
    kind            text,          -- the change kind submitted (register-employee, ...)
    submission_id   uuid,          -- the submission that carried it, accepted or rejected
    status          text NOT NULL CHECK (status IN ('applied', 'rejected', 'queued',
                                                    'reported')),
    reasons         jsonb NOT NULL DEFAULT '[]',
    detail          jsonb NOT NULL DEFAULT '{}',
    agency_updated_at timestamptz,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_item_run_idx ON sync_item (run_id, id);
CREATE INDEX sync_item_system_idx ON sync_item (system, recorded_at);

-- A difference the hub may not settle on its own: the national file is newer than the
-- agency's change, the identity differs from the national (registry-verified) one, or the
-- record looks like a second record of someone already registered. Both versions are kept
-- side by side until a reviewer keeps the national one or takes the agency's.
CREATE TABLE sync_conflict (
    id                uuid PRIMARY KEY,
    system            text NOT NULL,
    agency_code       text NOT NULL,
    personal_id       text,
    employee_code     text,
    local_id          text,
    kind              text NOT NULL CHECK (kind IN ('national-newer', 'identity', 'duplicate', 'transfer',
                                                  'discipline')),
    -- [{field, national, agency}] for every field that differs
    fields            jsonb NOT NULL,
    national          jsonb NOT NULL,
    agency            jsonb NOT NULL,
    national_version  integer,
    -- what taking the agency's version submits ({kind, change}); null where it cannot be
    -- taken (identity, duplicate, transfer, discipline: the agency corrects its own record)
    proposed          jsonb,
    national_updated_at timestamptz,
    agency_updated_at timestamptz,
    -- what makes this conflict this one: the system, the record and the agency's values; a
    -- rerun finding the same difference finds the same row
    fingerprint       text NOT NULL,
    detected_at       timestamptz NOT NULL DEFAULT now(),
    detected_run      uuid REFERENCES sync_run (id),
    last_seen_run     uuid REFERENCES sync_run (id),
    status            text NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'kept-national', 'taken-agency', 'dismissed')),
    resolved_at       timestamptz,
    resolved_by       text,
    resolution_note   text,
    resolution_submission uuid,
    -- taking the agency's version: what the desk decided ({status, reasons}); null until the
    -- next run submits it
    resolution_outcome jsonb,
    UNIQUE (system, fingerprint)
);
CREATE INDEX sync_conflict_agency_idx ON sync_conflict (agency_code, status, detected_at);

-- A record the national database lacks is matched to a registered person by name, birth
-- date and sex (a second record of someone under a mistyped personal ID).
CREATE INDEX employee_identity_idx ON employee (birth_date, sex);

-- The hub (hub_runtime) runs synchronisation in its scheduled mode and settles conflicts.
GRANT SELECT, INSERT, UPDATE ON sync_state, sync_run, sync_item, sync_conflict TO hub_runtime;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO hub_runtime;
