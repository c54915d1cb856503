-- Data-quality measures (hub quality measure): per agency and source, after the DAMA
-- dimensions, kept over time. hub/quality/__init__.py states every rule.

-- One measuring run: when it started and ended, what it covered and how it went.
CREATE TABLE quality_run (
    id           uuid PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    status       text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    -- the agencies asked for (null: all) and the settings (the freshness window in days)
    options      jsonb NOT NULL DEFAULT '{}',
    -- how many measures were stored, and of how many agencies
    measures     integer NOT NULL DEFAULT 0,
    agencies     integer NOT NULL DEFAULT 0,
    error        text
);
CREATE INDEX quality_run_started_idx ON quality_run (started_at);

-- One measure: a dimension of one agency's data (or, rolled up, of every agency under one
-- reporting authority: agency_code is then the authority's code, G02 or H01) in one source
-- (national: the national database; population: the national database against the population
-- registry; an agency HR system by its name in config/sources.yaml). A source that could not be
-- read leaves its measure 'not_measured' with the reason, never a score; nothing to measure
-- (an agency without employees) is 'empty'.
CREATE TABLE quality_measure (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       uuid NOT NULL REFERENCES quality_run (id),
    measured_at  timestamptz NOT NULL,
    scope        text NOT NULL CHECK (scope IN ('agency', 'authority')),
    agency_code  text NOT NULL,
    authority    text NOT NULL,
    source       text NOT NULL,
    dimension    text NOT NULL CHECK (dimension IN ('completeness', 'validity', 'uniqueness',
                                                    'consistency', 'timeliness')),
    status       text NOT NULL CHECK (status IN ('measured', 'empty', 'not_measured')),
    numerator    bigint CHECK (numerator >= 0),
    denominator  bigint CHECK (denominator >= 0),
    score        double precision CHECK (score BETWEEN 0 AND 1),
    -- per field or rule: [{item, passed, checked, value, note, examples: [employee codes]}]
    details      jsonb NOT NULL DEFAULT '[]',
    reason       text,
    CHECK ((status = 'measured') = (score IS NOT NULL)),
    CHECK (status = 'not_measured' OR (numerator IS NOT NULL AND denominator IS NOT NULL
                                       AND numerator <= denominator)),
    CHECK ((status = 'not_measured') = (reason IS NOT NULL)),
    UNIQUE (run_id, agency_code, source, dimension)
);
-- An agency's (or authority's) series over time, and what an authority's row scope reads.
CREATE INDEX quality_measure_agency_idx ON quality_measure (agency_code, measured_at);
CREATE INDEX quality_measure_authority_idx ON quality_measure (authority, measured_at);

-- The hub reads the measures (dataQuality); a scheduled measurement inside the hub writes them.
GRANT SELECT, INSERT, UPDATE ON quality_run TO hub_runtime;
GRANT SELECT, INSERT ON quality_measure TO hub_runtime;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO hub_runtime;
