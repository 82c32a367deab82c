"""FTP and explicit FTPS (``AUTH TLS``) transport for delivery files and confirmations.

Uploads go to ``<name>.part`` and are renamed when complete, so the carrier never reads a
partial file; a ``.part`` left by a cut transfer is overwritten by the retry. Processed
confirmation files are moved to ``done/`` or ``error/`` below the confirmation folder.
"""

from __future__ import annotations

import contextlib
import ftplib
import io
import posixpath
import ssl
from dataclasses import dataclass

from ...mail_crm_shop.services.errors import PermanentError, TransientError
from ..services.confirmation import safe_file_name

PART_SUFFIX = ".part"
FOLDERS = ("done", "error")


@dataclass(frozen=True, slots=True)
class FtpSettings:
    """Connection of one exchange profile. ``tls``: explicit FTPS with a protected data
    channel; ``verify_tls=False`` only for a carrier with a self-signed certificate."""

    host: str
    port: int = 21
    user: str = "anonymous"
    password: str = ""
    upload_dir: str = "/in"
    confirmation_dir: str = "/out"
    tls: bool = False
    verify_tls: bool = True
    passive: bool = True
    timeout: float = 30.0


def _convert(exc: BaseException, action: str) -> Exception:
    """Map an ftplib / socket error to TransientError or PermanentError."""
    text = f"FTP {action}: {str(exc) or type(exc).__name__}".strip()  # EOFError: no text
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentError(text)
    if isinstance(exc, ftplib.error_perm):
        return PermanentError(text)  # 5xx: login refused, no such folder, not allowed
    return TransientError(text)  # 4xx, dropped connection, timeout, protocol error


_ERRORS = (ftplib.Error, OSError, EOFError)


class _FtpTls(ftplib.FTP_TLS):
    """FTP_TLS whose upload accepts a data channel closed without TLS close_notify.

    Some servers (pyftpdlib among them) close the data connection of an upload without
    answering the TLS shutdown. The upload is confirmed by the server's final ``226``
    reply on the protected control channel, which is still required below.
    """

    def storbinary(self, cmd, fp, blocksize=8192, callback=None, rest=None):
        self.voidcmd("TYPE I")
        with self.transfercmd(cmd, rest) as conn:
            while buf := fp.read(blocksize):
                conn.sendall(buf)
                if callback:
                    callback(buf)
            if isinstance(conn, ssl.SSLSocket):
                with contextlib.suppress(ssl.SSLEOFError, ssl.SSLZeroReturnError):
                    conn.unwrap()
        return self.voidresp()


class FtpTransport:
    """One FTP(S) session; use as a context manager to reuse the connection."""

    def __init__(self, settings: FtpSettings):
        self.settings = settings
        self._ftp: ftplib.FTP | None = None

    # -- connection ---------------------------------------------------------------

    def __enter__(self) -> FtpTransport:
        self._connect()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _connect(self) -> ftplib.FTP:
        if self._ftp is not None:
            return self._ftp
        s = self.settings
        ftp: ftplib.FTP | None = None
        try:
            if s.tls:
                context = ssl.create_default_context()
                if not s.verify_tls:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                ftp = _FtpTls(context=context, timeout=s.timeout)
            else:
                ftp = ftplib.FTP(timeout=s.timeout)
            ftp.connect(s.host, s.port, timeout=s.timeout)
            ftp.login(s.user, s.password)
            if s.tls:
                ftp.prot_p()
            ftp.set_pasv(s.passive)
        except _ERRORS as exc:
            if ftp is not None:
                ftp.close()
            raise _convert(exc, f"connect to {s.host}:{s.port}") from exc
        self._ftp = ftp
        return ftp

    def close(self) -> None:
        """Quit politely, or just drop the socket when the server is gone."""
        ftp, self._ftp = self._ftp, None
        if ftp is None:
            return
        try:
            ftp.quit()
        except _ERRORS:
            ftp.close()

    def _run(self, action: str, func, *args):
        ftp = self._connect()
        try:
            return func(ftp, *args)
        except _ERRORS as exc:
            if not isinstance(exc, ftplib.error_perm):
                self._drop()  # the session state is unknown: reconnect next time
            raise _convert(exc, action) from exc

    def _drop(self) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is not None:
            ftp.close()

    # -- upload -------------------------------------------------------------------

    def upload(self, name: str, data: bytes) -> str:
        """Store ``data`` as ``<upload_dir>/<name>`` atomically; return the remote path."""
        safe_file_name(name)
        final = posixpath.join(self.settings.upload_dir, name)
        part = final + PART_SUFFIX

        def store(ftp: ftplib.FTP) -> None:
            ftp.storbinary(f"STOR {part}", io.BytesIO(data))
            ftp.rename(part, final)

        self._connect()  # a refused connection leaves nothing to clean up
        try:
            self._run(f"upload {name}", store)
        except TransientError:
            self._remove_quietly(part)
            raise
        return final

    def _remove_quietly(self, path: str) -> None:
        """Best effort: remove a partial upload (the retry overwrites it anyway)."""
        with contextlib.suppress(TransientError, PermanentError):
            self._run(f"remove {path}", lambda ftp: ftp.delete(path))

    # -- confirmations ------------------------------------------------------------

    def list_files(self) -> list[str]:
        """Names of the files waiting in the confirmation folder (sorted; no folders,
        no ``.part`` files). Names come from outside: check them with ``safe_file_name``."""
        folder = self.settings.confirmation_dir

        def listing(ftp: ftplib.FTP) -> list[str]:
            try:
                entries = [
                    (posixpath.basename(n), facts.get("type", "file"))
                    for n, facts in ftp.mlsd(folder, facts=["type"])
                ]
            except ftplib.error_perm:  # server without MLSD: NLST lists folders too
                entries = [(posixpath.basename(n), "file") for n in ftp.nlst(folder)]
            return sorted(
                n
                for n, kind in entries
                if kind == "file" and n not in FOLDERS and not n.endswith(PART_SUFFIX)
            )

        return self._run("list", listing)

    def download(self, name: str) -> bytes:
        """Content of confirmation file ``name``."""
        path = posixpath.join(self.settings.confirmation_dir, safe_file_name(name))
        chunks: list[bytes] = []
        self._run(f"download {name}", lambda ftp: ftp.retrbinary(f"RETR {path}", chunks.append))
        return b"".join(chunks)

    def move(self, name: str, folder: str) -> str:
        """Move confirmation file ``name`` into ``done/`` or ``error/`` (created if
        missing; an older file of the same name there is replaced)."""
        if folder not in FOLDERS:
            raise PermanentError(f"unknown folder {folder!r}")
        base = self.settings.confirmation_dir
        source = posixpath.join(base, safe_file_name(name))
        target_dir = posixpath.join(base, folder)
        target = posixpath.join(target_dir, name)

        def rename(ftp: ftplib.FTP) -> None:
            try:
                ftp.rename(source, target)
            except ftplib.error_perm:
                # the folder may be missing, or an older file of that name in the way
                with contextlib.suppress(ftplib.error_perm):
                    ftp.mkd(target_dir)
                with contextlib.suppress(ftplib.error_perm):
                    ftp.delete(target)
                ftp.rename(source, target)

        self._run(f"move {name} to {folder}", rename)
        return target
