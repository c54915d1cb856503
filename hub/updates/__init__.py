"""The write side: agencies submit signed changes, checked before they land.

A submission is a compact JWS (RFC 7515) over a JSON payload, signed with a key registered
for the submitting agency (``signer_key``, owner_kind 'agency'); changes to an employee's own
declarations carry a second JWS over the same payload, signed with the employee's registered
key (owner_kind 'employee'). The protected header names ``alg`` (ES256, RS256 or EdDSA),
``kid`` and ``typ: hub-submission+jws``. The payload:

    jti          the submitting system's own id of this change (unique per agency): a signed
                 change is applied at most once, whoever sends it again
    iat          when it was signed (seconds since the epoch); must fall within the key's
                 validity and not in the future (beyond a small leeway)
    iss          the submitting agency's code (the agency whose key signs)
    kind         the record group and change, e.g. "position-change"
    employee     {"employeeCode": ..., "personalId": ...}
    baseVersion  the version of the record the change was prepared from (optimistic
                 concurrency; absent for a new registration)
    change       the kind's own fields
    sourceSystem the agency system the change comes from

Modules: ``signatures`` (checking the JWS against the key registry), ``keys`` (the
registry and ``hub signer``).
"""
