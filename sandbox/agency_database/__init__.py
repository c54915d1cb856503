"""The Ministry of Health's HR system (``*.G04``): a vendor database the hub reads directly.

There is no service here: the system is its PostgreSQL database (``schema.sql``), in the
vendor's own English abbreviations and code lists (``codes.py``), as an HR package installed
at the ministry would keep it. The hub connects read-only and reads the tables itself.
"""
