"""The audit log: one tamper-evident record per GraphQL operation.

``entry`` (what a record holds), ``chain`` (hashes and signed checkpoints), ``writer`` (group
commit on the request path, fail closed), ``verify`` / ``export`` / ``retention`` and ``cli``
(the ``hub audit`` commands). Modules are imported where used: the command line stays fast.
"""
