"""Fixture: a real sftp server on 127.0.0.1 (filled in by its owner)."""
