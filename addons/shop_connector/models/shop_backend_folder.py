"""Order files (Yatego's export, our JSON or CSV) picked up from an FTP or SFTP folder."""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.mail_crm_shop.adapters.sftp import load_private_key
from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..adapters.remote_folder import (
    FtpFolder,
    FtpFolderSettings,
    SftpFolder,
    SftpFolderSettings,
    pick_up,
)
from ..adapters.shops.files import parse_order_file
from ..services.csv_mapping import preview

_logger = logging.getLogger(__name__)

MANAGERS = "shop_connector.group_manager"
FOLDER_TRANSPORTS = ("ftp", "ftps", "sftp")
FOLDER_FILES_PER_RUN = 20


class ShopBackend(models.Model):
    _inherit = "shop.backend"  # pylint: disable=consider-merging-classes-inherited

    file_transport = fields.Selection(
        [
            ("http", "HTTP(S) download or upload"),
            ("ftp", "Folder on an FTP server"),
            ("ftps", "Folder on an FTPS server (explicit TLS)"),
            ("sftp", "Folder on an SFTP server"),
        ],
        string="Order files from",
        default="http",
        required=True,
        groups=MANAGERS,
        help="Yatego and generic imports: where the order files come from. From a folder, "
        "each file is imported once and then moved to done/ (or to error/ with the reason).",
    )
    file_host = fields.Char(string="Server", groups=MANAGERS)
    file_port = fields.Integer(
        string="Port", groups=MANAGERS, help="Empty: 21 for FTP and FTPS, 22 for SFTP."
    )
    file_login = fields.Char(string="Login", groups=MANAGERS)
    file_password = fields.Char(string="Password", groups=MANAGERS, copy=False)
    file_private_key = fields.Text(
        string="SSH private key",
        groups=MANAGERS,
        copy=False,
        help="SFTP: log in with this key (unencrypted Ed25519, ECDSA or RSA, PEM or OpenSSH "
        "text) instead of the password.",
    )
    file_path = fields.Char(
        string="Folder", default="/", groups=MANAGERS, help="The folder the shop puts its files in."
    )
    file_host_key = fields.Char(
        string="SFTP host key",
        groups=MANAGERS,
        copy=False,
        help="The server's public key as in known_hosts, e.g. 'ssh-ed25519 AAAA...': we refuse "
        "to connect to a server presenting another key.",
    )

    def _shop_reads_folder(self):
        self.ensure_one()
        return self.backend_type in ("yatego", "generic") and (
            self.sudo().file_transport in FOLDER_TRANSPORTS
        )

    # --- the folder (the one I/O seam) ---------------------------------------------

    @api.private
    def _get_order_folder(self):
        """The FTP(S) or SFTP folder order files are picked up from."""
        self.ensure_one()
        backend = self.sudo()
        if not backend.file_host:
            raise UserError(
                self.env._("Shop %s: the server of the order folder is missing.", self.name)
            )
        if backend.file_transport == "sftp":
            return SftpFolder(
                SftpFolderSettings(
                    host=backend.file_host,
                    host_key=backend.file_host_key or "",
                    port=backend.file_port or 22,
                    user=backend.file_login or "",
                    password=backend.file_password or "",
                    path=backend.file_path or "/",
                    private_key=self._shop_checked_private_key(backend.file_private_key),
                )
            )
        return FtpFolder(
            FtpFolderSettings(
                host=backend.file_host,
                port=backend.file_port or 21,
                user=backend.file_login or "anonymous",
                password=backend.file_password or "",
                path=backend.file_path or "/",
                tls=backend.file_transport == "ftps",
            )
        )

    def _shop_checked_private_key(self, text):
        """``text`` if it is a usable private key (or empty); UserError otherwise."""
        if not (text or "").strip():
            return ""
        try:
            load_private_key(text)
        except PermanentError as exc:
            raise UserError(
                self.env._(
                    "Shop %s: the SSH private key of the order folder is not an unencrypted "
                    "Ed25519, ECDSA or RSA key.",
                    self.name,
                )
            ) from exc
        return text

    # --- import ------------------------------------------------------------------

    @api.private
    def _import_orders(self):
        if not self._shop_reads_folder():
            return super()._import_orders()
        return self._import_order_folder()

    @api.private
    def _import_order_folder(self, limit=FOLDER_FILES_PER_RUN):
        """Import up to ``limit`` files, one commit each; a folder-wide failure (server
        down, login refused, unusable column mapping) is stored on the backend and moves
        nothing; a file that cannot be read goes to error/ and is posted here."""
        self.ensure_one()
        self.next_sync_date = fields.Datetime.now() + timedelta(
            minutes=max(self.import_interval_minutes, 1)
        )
        folder = None
        try:
            mapping = self._get_csv_mapping() if self._shop_is_csv() else None
            folder = self._get_order_folder()
            picked = pick_up(
                folder,
                lambda name, data: self._store_order_file(name, data, mapping),
                limit,
                on_error=self._notify_order_file_failed,
            )
        except Exception as exc:  # noqa: BLE001 - backend boundary, recorded on the backend
            _logger.info("Order folder of shop %s failed: %s", self.id, exc)
            self.write({"state": "error", "last_error": f"{type(exc).__name__}: {exc}"})
            return False
        finally:
            if folder is not None:
                folder.close()
        return self._record_order_folder_run(picked, limit)

    def _record_order_folder_run(self, picked, limit):
        """The state of the backend after a run that handled the files ``picked``."""
        now = fields.Datetime.now()
        if len(picked) >= limit:
            self.next_sync_date = now  # more files wait: go on at the next run
        stuck = [item for item in picked if not item.moved_to]
        if stuck:  # neither readable nor movable: a person renames or removes it
            self.write(
                {
                    "state": "error",
                    "last_error": self.env._(
                        "Files in the order folder that cannot be read nor moved: %s",
                        "; ".join(f"{item.name}: {item.note}" for item in stuck),
                    ),
                    "last_sync_date": now,
                }
            )
            return False
        self.write({"state": "ok", "last_error": False, "last_sync_date": now})
        return True

    def _read_order_file(self, data, mapping):
        """The orders of a file; PermanentError for a file that cannot be read whole."""
        if mapping is None:
            return parse_order_file(data, "json")
        try:
            self._get_csv_mapping(preview(data, mapping).headers)
        except UserError as exc:
            raise PermanentError(str(exc)) from exc
        return parse_order_file(data, "csv", mapping)

    def _store_order_file(self, name, data, mapping):
        """Store the orders of one file and commit; the folder moves it afterwards."""
        orders = self._read_order_file(data, mapping)
        with self.env.cr.savepoint():
            # an order pushed meanwhile is stored already: not an error of the file
            counts = self.env["shop.order.import"]._store_orders_counted(self, orders)
            if counts["new"] or counts["changed"]:  # processed now, not at the next interval
                self.env["shop.order.import"]._shop_trigger_processing()
        self.env["ir.cron"]._commit_progress()
        return self.env._(
            "%(count)s orders read from %(name)s: %(new)s new, %(changed)s changed, "
            "%(known)s imported already.",
            name=name,
            **counts,
        )

    def _notify_order_file_failed(self, item):
        """Post the refused file on the shop, notifying the responsible person."""
        if item.moved_to != "error":
            return  # still in the folder: reported on the shop's state, not once per run
        responsible = self.user_id or self.create_uid
        self.message_post(
            body=self.env._(
                "Order file %(name)s not imported: %(reason)s", name=item.name, reason=item.note
            ),
            subject=self.env._("Order file not imported"),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=responsible.partner_id.ids,
        )

    def action_retry_order_files(self):
        """Put the files of the folder's error/ back: the next import reads them again."""
        self.ensure_one()
        if not self._shop_reads_folder():
            raise UserError(
                self.env._("Shop %s does not read its orders from a folder.", self.name)
            )
        try:
            with self._get_order_folder() as folder:
                names = folder.failed_files()
                for name in names:
                    folder.restore(name)
        except UserError:
            raise
        except PermanentError as exc:
            raise UserError(self.env._("The order folder cannot be read: %s", exc)) from exc
        except Exception as exc:  # shown to the person who asked
            raise UserError(self.env._("The order folder did not answer: %s", exc)) from exc
        if names:
            self.message_post(
                body=self.env._("Order files put back for import: %s", ", ".join(names))
            )
            self.action_sync_now()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("%s order files will be imported again.", len(names)),
            },
        }

    def action_test_connection(self):
        """For a folder: connect and count the waiting files."""
        if len(self) != 1 or not self._shop_reads_folder():
            return super().action_test_connection()
        try:
            with self._get_order_folder() as folder:
                count = len(folder.list_files())
        except UserError:
            raise
        except Exception as exc:  # shown to the person who asked
            raise UserError(self.env._("The order folder did not answer: %s", exc)) from exc
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("Connected: %s order files waiting in the folder.", count),
            },
        }
