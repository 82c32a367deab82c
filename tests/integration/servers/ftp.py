"""Fixture: a real ftp server on 127.0.0.1 (filled in by its owner)."""
