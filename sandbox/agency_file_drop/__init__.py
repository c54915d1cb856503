"""Đà Nẵng's legacy HR system (``*.H48``): it keeps its staff in its own tables and drops a
full export (CSV or Excel) into a directory from time to time; the hub reads only the files.

``schema.sql`` is the system's storage, ``codes.py`` its code lists (Vietnamese labels), and
``export.py`` its export job, which writes a file under a temporary name and renames it when
complete, as the hub's adapter expects.
"""
