-- Code lists of the national database of cadres, civil servants and public employees.
-- Every table carries version / updated_at / updated_by so later writes can keep a history.

CREATE TABLE province (
    code        char(2) PRIMARY KEY,
    name        text NOT NULL,
    valid_from  date NOT NULL DEFAULT DATE '2025-07-01',
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT 'migration'
);

-- The 63 province-level units in force until 30 June 2025, each mapped to the unit that
-- absorbed it on 1 July 2025 (Resolution 202/2025/QH15). Personal IDs of people born before
-- the merger carry these codes (as 0NN), so the crosswalk must stay.
CREATE TABLE legacy_province (
    code            char(2) PRIMARY KEY,
    name            text NOT NULL,
    valid_to        date NOT NULL DEFAULT DATE '2025-06-30',
    successor_code  char(2) NOT NULL REFERENCES province (code),
    merged_on       date NOT NULL DEFAULT DATE '2025-07-01',
    version         integer NOT NULL DEFAULT 1,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL DEFAULT 'migration'
);

-- Ranks (ngạch) of civil servants and professional titles (chức danh nghề nghiệp, e.g.
-- V.07.01.03) of public employees, with the pay group that fixes their salary ladder.
CREATE TABLE rank (
    code               text PRIMARY KEY,
    name               text NOT NULL,
    category           text NOT NULL CHECK (category IN ('civil_servant', 'public_employee')),
    pay_group          text NOT NULL,
    first_coefficient  numeric(4, 2) NOT NULL,
    step_increment     numeric(4, 2) NOT NULL,
    steps              smallint NOT NULL CHECK (steps BETWEEN 1 AND 20),
    version            integer NOT NULL DEFAULT 1,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    updated_by         text NOT NULL DEFAULT 'migration'
);

-- One row per step of a rank's ladder: a coefficient not on its rank's ladder is invalid,
-- and the employee table's foreign key makes it impossible to store.
CREATE TABLE salary_ladder (
    rank_code    text NOT NULL REFERENCES rank (code),
    step         smallint NOT NULL,
    coefficient  numeric(4, 2) NOT NULL,
    PRIMARY KEY (rank_code, step),
    UNIQUE (rank_code, step, coefficient)
);

CREATE TABLE position (
    code                   text PRIMARY KEY,
    name                   text NOT NULL,
    leadership             boolean NOT NULL DEFAULT false,
    allowance_coefficient  numeric(4, 2) NOT NULL DEFAULT 0,
    version                integer NOT NULL DEFAULT 1,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    updated_by             text NOT NULL DEFAULT 'migration'
);

CREATE TABLE discipline_form (
    code                    text PRIMARY KEY,
    name                    text NOT NULL,
    severity                smallint NOT NULL,
    applies_to              text[] NOT NULL,
    appointment_bar_months  smallint,
    version                 integer NOT NULL DEFAULT 1,
    updated_at              timestamptz NOT NULL DEFAULT now(),
    updated_by              text NOT NULL DEFAULT 'migration'
);

CREATE TABLE evaluation_grade (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    ordinal     smallint NOT NULL UNIQUE,
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT 'migration'
);
