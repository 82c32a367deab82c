"""Pick up bank statement files (CAMT.053, CSV) from a folder, one file at a time.

For each waiting file: read it, hand it to ``store`` (the caller parses it, stores its
movements and commits), and only then move it to ``done/``; a file ``store`` refuses
with a :class:`PermanentError` (malformed, another account's statement) goes to
``error/`` with a ``<name>.reason.txt`` beside it. Any other failure ends the run and
leaves the file where it is, so it is read again next time: ``store`` must be idempotent
(the movements' unique keys make a second import of the same file store nothing).

A folder is anything with ``list_files()``, ``download(name)`` and ``move(name,
folder, reason)``; :class:`LocalStatementFolder` is a directory on the server,
:class:`FtpStatementFolder` a folder on an FTP server (explicit FTPS on request),
:class:`SftpStatementFolder` one on an SFTP server (host key pinned). They are the
folders of :mod:`.remote_folder`, shared with the order file import: a moved file never
replaces one in ``done/`` or ``error/``, it gets a counter (``a.xml``, ``a-2.xml``).
"""

from __future__ import annotations

from pathlib import Path

from ...mail_crm_shop.services.errors import PermanentError
from .remote_folder import (
    FOLDERS,
    MAX_FILE_BYTES,
    FtpFolder,
    FtpFolderSettings,
    LocalFolder,
    PickedFile,
    RemoteFolder,
    SftpFolder,
    SftpFolderSettings,
    pick_up,
    safe_name,
)

__all__ = [
    "FOLDERS",
    "MAX_FILE_BYTES",
    "SUFFIXES",
    "FtpFolderSettings",
    "FtpStatementFolder",
    "LocalStatementFolder",
    "PickedFile",
    "SftpFolderSettings",
    "SftpStatementFolder",
    "StatementFolder",
    "file_format",
    "pick_up",
    "safe_name",
]

SUFFIXES = {".xml": "camt", ".camt": "camt", ".053": "camt", ".csv": "csv", ".txt": "csv"}

StatementFolder = RemoteFolder
LocalStatementFolder = LocalFolder
FtpStatementFolder = FtpFolder
SftpStatementFolder = SftpFolder


def file_format(name: str) -> str:
    """``"camt"`` or ``"csv"`` from the file name's suffix; a PermanentError otherwise."""
    kind = SUFFIXES.get(Path(name).suffix.lower())
    if kind is None:
        raise PermanentError(f"{name}: not a statement file (.xml for CAMT.053, .csv)")
    return kind
