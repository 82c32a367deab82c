import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.mail_crm_shop.adapters.sftp import load_private_key
from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..adapters.statement_folder import (
    FtpFolderSettings,
    FtpStatementFolder,
    LocalStatementFolder,
    SftpFolderSettings,
    SftpStatementFolder,
    file_format,
    pick_up,
)
from ..services.bank_csv import parse_bank_csv
from ..services.camt import parse_camt053

_logger = logging.getLogger(__name__)


class ShopPaymentAccount(models.Model):
    """Bank statement files: read (upload or folder) and picked up from a server folder."""

    _inherit = "shop.payment.account"

    folder_path = fields.Char(
        string="Statement folder",
        groups="shop_connector.group_manager",
        help="Absolute path of the folder (on this server or on the FTP or SFTP server): CAMT.053 "
        "(.xml) and CSV (.csv) files placed there are imported, then moved to done/ or "
        "error/ (with the reason).",
    )
    folder_protocol = fields.Selection(
        [
            ("local", "Folder on the server"),
            ("ftp", "FTP"),
            ("ftps", "FTPS (explicit TLS)"),
            ("sftp", "SFTP"),
        ],
        string="Folder on",
        default="local",
        required=True,
        groups="shop_connector.group_manager",
    )
    folder_host = fields.Char(string="FTP host", groups="shop_connector.group_manager")
    folder_port = fields.Integer(
        string="FTP port",
        default=21,
        groups="shop_connector.group_manager",
        help="21 for FTP and FTPS; SFTP uses 22 when 21 or empty is set.",
    )
    folder_login = fields.Char(string="FTP login", groups="shop_connector.group_manager")
    folder_password = fields.Char(
        string="FTP password", groups="shop_connector.group_manager", copy=False
    )
    folder_private_key = fields.Text(
        string="SSH private key",
        groups="shop_connector.group_manager",
        copy=False,
        help="SFTP: log in with this key (unencrypted Ed25519, ECDSA or RSA, PEM or OpenSSH "
        "text) instead of the password.",
    )
    folder_host_key = fields.Char(
        string="SFTP host key",
        groups="shop_connector.group_manager",
        copy=False,
        help="The server's public key as in known_hosts, e.g. 'ssh-ed25519 AAAA...': we refuse "
        "to connect to a server presenting another key.",
    )

    @api.private
    def _read_statement_file(self, data, kind, filename):
        """``[(statement name, transactions)]`` of a CAMT.053 or CSV file and notes on
        what was left out; PermanentError for a file that cannot be imported here."""
        self.ensure_one()
        name = filename or self.env._("Bank statement")
        if kind == "csv":
            parsed = parse_bank_csv(data, self._get_csv_mapping(), self.account_identifier or "")
            notes = [
                self.env._("Line %(line)s not imported: %(why)s", line=err.line, why=err.message)
                for err in parsed.errors
            ]
            return [(name, parsed.transactions)], notes
        batches, notes = [], []
        own = (self.account_identifier or "").replace(" ", "").upper()
        for statement in parse_camt053(data):
            if own and statement.account_iban.replace(" ", "").upper() != own:
                raise PermanentError(
                    self.env._(
                        "The statement is for account %(theirs)s, not %(ours)s.",
                        theirs=statement.account_iban,
                        ours=self.account_identifier,
                    )
                )
            batches.append((statement.statement_id or name, statement.transactions))
            notes += [self.env._("Not imported: %s", skipped) for skipped in statement.skipped]
        return batches, notes

    @api.private
    def _import_statement_file(self, data, kind, filename):
        """Store and match a statement file's new movements; return (new lines, known, notes)."""
        self.ensure_one()
        batches, notes = self._read_statement_file(data, kind, filename)
        new_lines = self.env["account.bank.statement.line"]
        known = 0
        for name, transactions in batches:
            lines, already = self._import_transactions(transactions, name)
            new_lines |= lines
            known += already
        return new_lines, known, notes

    # --- statement folder --------------------------------------------------------

    @api.private
    def _get_statement_folder(self):
        """The folder statement files are picked up from (the one I/O seam)."""
        self.ensure_one()
        account = self.sudo()
        if account.folder_protocol == "sftp":
            if not account.folder_host:
                raise PermanentError(self.env._("The FTP host of the statement folder is missing."))
            return SftpStatementFolder(
                SftpFolderSettings(
                    host=account.folder_host,
                    host_key=account.folder_host_key or "",
                    port=account.folder_port if account.folder_port not in (0, 21) else 22,
                    user=account.folder_login or "",
                    password=account.folder_password or "",
                    path=account.folder_path or "/",
                    private_key=self._folder_checked_private_key(account.folder_private_key),
                )
            )
        if account.folder_protocol in ("ftp", "ftps"):
            if not account.folder_host:
                raise PermanentError(self.env._("The FTP host of the statement folder is missing."))
            return FtpStatementFolder(
                FtpFolderSettings(
                    host=account.folder_host,
                    port=account.folder_port or 21,
                    user=account.folder_login or "anonymous",
                    password=account.folder_password or "",
                    path=account.folder_path or "/",
                    tls=account.folder_protocol == "ftps",
                )
            )
        return LocalStatementFolder(account.folder_path or "")

    def _folder_checked_private_key(self, text):
        """``text`` if it is a usable private key (or empty); PermanentError otherwise."""
        if not (text or "").strip():
            return ""
        try:
            load_private_key(text)
        except PermanentError as exc:
            raise PermanentError(
                self.env._(
                    "The SSH private key of the statement folder is not an unencrypted "
                    "Ed25519, ECDSA or RSA key."
                )
            ) from exc
        return text

    @api.model
    def _cron_import_folders(self, batch_size=20):
        """Pick up statement files, one commit per file (see ``adapters/statement_folder``)."""
        accounts = self.sudo().search([("kind", "=", "bank"), ("folder_path", "!=", False)])
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(accounts))
        for account in accounts:
            locked = account._shop_try_lock_for_update()
            if locked:
                locked._import_folder(batch_size)
            if not cron._commit_progress(1):
                break

    @api.private
    def _import_folder(self, limit):
        """Import up to ``limit`` files; a folder-wide failure is stored on the account."""
        self.ensure_one()
        now = fields.Datetime.now()
        folder = None
        try:
            folder = self._get_statement_folder()
            picked = pick_up(folder, self._store_folder_file, limit)
        except Exception as exc:  # noqa: BLE001 - backend boundary, recorded on the account
            _logger.warning("Payment account %s: statement folder failed: %s", self.name, exc)
            self.write(
                {
                    "state": "error",
                    "last_error": f"{type(exc).__name__}: {exc}",
                    "last_sync_date": now,
                }
            )
            return []
        finally:
            if folder is not None and hasattr(folder, "close"):
                folder.close()
        for item in picked:
            if item.moved_to != "done":
                self.message_post(
                    body=self.env._(
                        "Statement file %(name)s not imported: %(reason)s",
                        name=item.name,
                        reason=item.note,
                    )
                )
        self.write({"state": "ok", "last_error": False, "last_sync_date": now})
        return picked

    def _store_folder_file(self, name, content):
        """Import one file and commit it; the folder adapter moves it afterwards."""
        kind = file_format(name)
        try:
            with self.env.cr.savepoint():
                lines, known, notes = self._import_statement_file(content, kind, name)
                lines._shop_match()
        except UserError as exc:
            raise PermanentError(str(exc)) from exc
        note = self.env._("%(new)s new, %(known)s already imported.", new=len(lines), known=known)
        self.env["ir.cron"]._commit_progress()
        return "\n".join([note, *notes])
