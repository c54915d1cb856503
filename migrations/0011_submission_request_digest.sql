-- A retry under an idempotency key must be the same request: the digest of what was sent
-- (kind, signed change, employee's co-signature) is kept with the submission, so a key reused
-- for another request is refused instead of silently answered with the first decision.
-- Submissions received before this column existed have none (any retry of them matches).
ALTER TABLE submission ADD COLUMN request_digest text;
