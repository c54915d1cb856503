-- When a client's credentials last changed: a new secret or key set, a revocation, or its
-- lifting. Tokens issued before that are refused, so rotating a leaked secret ends the tokens
-- obtained with it, and restoring a revoked client does not bring its old tokens back.
ALTER TABLE oauth_client
    ADD COLUMN credentials_changed_at timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION oauth_client_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.secret_hash IS DISTINCT FROM OLD.secret_hash
       OR NEW.jwks IS DISTINCT FROM OLD.jwks
       OR NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        NEW.credentials_changed_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER oauth_client_credentials_changed BEFORE UPDATE ON oauth_client
    FOR EACH ROW EXECUTE FUNCTION oauth_client_credentials_changed();
