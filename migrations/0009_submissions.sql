-- The write side: signed submissions from agencies, checked before they land.
--
-- Every submission is kept (accepted or rejected, with machine-readable reasons); an accepted
-- one writes a new version of its record in the same transaction, and the previous values go
-- to record_version, so a record's whole history stays queryable.

-- Public keys that may sign submissions: an agency's (its HR office's signing certificate) or
-- an employee's (for their own declarations). A key signs only within its validity period and
-- until it is revoked; revoking keeps the row, so older signatures can still be explained.
CREATE TABLE signer_key (
    owner_kind   text NOT NULL CHECK (owner_kind IN ('agency', 'employee')),
    owner_id     text NOT NULL CHECK (owner_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    kid          text NOT NULL CHECK (length(kid) BETWEEN 1 AND 128),
    jwk          jsonb NOT NULL CHECK (jsonb_typeof(jwk) = 'object' AND NOT jwk ? 'd'),
    valid_from   timestamptz NOT NULL,
    valid_until  timestamptz NOT NULL,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_kind, owner_id, kid),
    CHECK (valid_until > valid_from)
);
CREATE UNIQUE INDEX signer_key_kid_idx ON signer_key (kid);

-- The inbox: one row per submission received, whatever became of it. `idempotency_key` is the
-- client's: a retry with the same key gets the first answer. `jti` is the signed payload's
-- own id: the same signed change sent again under another key is a replay, refused.
CREATE TABLE submission (
    id                uuid PRIMARY KEY,
    client_id         text NOT NULL,
    agency_code       text,
    idempotency_key   text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 128),
    jti               text,
    kind              text NOT NULL,
    employee_code     text,
    personal_id       text,
    base_version      integer,
    payload           jsonb,
    signatures        jsonb NOT NULL DEFAULT '[]',
    status            text NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reasons           jsonb NOT NULL DEFAULT '[]',
    result            jsonb,
    resubmission_of   uuid REFERENCES submission (id),
    batch_id          uuid,
    received_at       timestamptz NOT NULL DEFAULT now(),
    decided_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (client_id, idempotency_key)
);
-- A signed change is applied at most once, whoever sends it again.
CREATE UNIQUE INDEX submission_jti_idx ON submission (agency_code, jti)
    WHERE jti IS NOT NULL AND status = 'accepted';
CREATE INDEX submission_inbox_idx ON submission (client_id, status, received_at);
CREATE INDEX submission_employee_idx ON submission (employee_code, received_at);
CREATE INDEX submission_batch_idx ON submission (batch_id) WHERE batch_id IS NOT NULL;

-- Every accepted change: the record before and after, who submitted it and how it was signed.
CREATE TABLE record_version (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity          text NOT NULL,
    record_key      text NOT NULL,
    employee_code   text NOT NULL,
    version         integer NOT NULL CHECK (version > 0),
    previous        jsonb,
    current         jsonb NOT NULL,
    submission_id   uuid NOT NULL REFERENCES submission (id),
    client_id       text NOT NULL,
    agency_code     text,
    signed_by       jsonb NOT NULL DEFAULT '[]',
    source_system   text,
    applied_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (entity, record_key, version)
);
CREATE INDEX record_version_employee_idx ON record_version (employee_code, applied_at);

-- The hub (hub_runtime) writes the national records, keeps submissions and history, and only
-- reads the key registry (keys are registered by the Ministry's operators with `hub signer`).
GRANT SELECT ON signer_key TO hub_runtime;
GRANT SELECT, INSERT ON submission, record_version TO hub_runtime;
GRANT SELECT, INSERT, UPDATE ON employee, allowance, work_history, qualification, training,
    award, discipline, evaluation, party_membership, health_record, asset_declaration
    TO hub_runtime;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO hub_runtime;
