-- OAuth 2.0 clients of the hub (client credentials grant) and the client assertions already
-- used, so a private_key_jwt assertion cannot be replayed, whichever hub process receives it.

-- Client ids travel in HTTP Basic credentials (user:password) and in log lines, so they are
-- restricted to a plain alphabet: no colon, no spaces, no percent-encoding surprises.
CREATE TABLE oauth_client (
    client_id    text PRIMARY KEY
                 CHECK (client_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$'),
    name         text NOT NULL CHECK (name <> ''),
    -- scrypt$n$r$p$salt$hash (hub/auth/secret_hash.py); never the secret itself.
    secret_hash  text CHECK (secret_hash IS NULL OR secret_hash LIKE 'scrypt$%'),
    -- Public keys (a JWK set) for private_key_jwt client authentication.
    jwks         jsonb CHECK (jwks IS NULL OR jsonb_typeof(jwks -> 'keys') = 'array'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- A client that cannot authenticate by any method is a registration mistake.
    CHECK (secret_hash IS NOT NULL OR jwks IS NOT NULL)
);

CREATE FUNCTION oauth_client_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER oauth_client_touch BEFORE UPDATE ON oauth_client
    FOR EACH ROW EXECUTE FUNCTION oauth_client_touch();

-- Every running hub keeps the clients in memory and LISTENs on this channel: a revocation
-- made anywhere (the CLI, plain SQL) reaches all of them within moments. The payload is the
-- client id, which the check above keeps far below NOTIFY's 8000-byte limit.
CREATE FUNCTION oauth_client_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('oauth_client_changed', OLD.client_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.client_id <> OLD.client_id) THEN
        PERFORM pg_notify('oauth_client_changed', NEW.client_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER oauth_client_notify AFTER INSERT OR UPDATE OR DELETE ON oauth_client
    FOR EACH ROW EXECUTE FUNCTION oauth_client_notify();

-- RFC 7523 §3: the "jti" of a client assertion may be used only once. Rows are kept until the
-- assertion expires and purged after that.
CREATE TABLE oauth_assertion_jti (
    client_id   text NOT NULL REFERENCES oauth_client (client_id)
                ON DELETE CASCADE ON UPDATE CASCADE,
    jti         text NOT NULL CHECK (length(jti) BETWEEN 1 AND 256),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX oauth_assertion_jti_expiry_idx ON oauth_assertion_jti (expires_at);
