-- National Population Database (simulation). The hub never reads this database directly:
-- only the population registry service does, and the hub talks to that service over HTTP.
CREATE TABLE IF NOT EXISTS citizen (
    personal_id        char(12) PRIMARY KEY CHECK (personal_id ~ '^[0-9]{12}$'),
    full_name          text NOT NULL,
    birth_date         date NOT NULL,
    sex                text NOT NULL CHECK (sex IN ('male', 'female')),
    ethnicity          text NOT NULL DEFAULT 'Kinh',
    religion           text NOT NULL DEFAULT 'Không',
    nationality        text NOT NULL DEFAULT 'Việt Nam',
    place_of_origin    text NOT NULL,          -- quê quán
    permanent_address  text NOT NULL,          -- nơi thường trú
    current_address    text NOT NULL,          -- nơi ở hiện tại
    father_id          char(12),
    mother_id          char(12),
    spouse_id          char(12),
    death_date         date,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
