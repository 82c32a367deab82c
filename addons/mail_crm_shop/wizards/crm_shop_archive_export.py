import logging
import os
import tempfile
from datetime import date

from odoo import fields, models
from odoo.exceptions import UserError

from ..services import archive_export
from ..services.errors import PermanentError

_logger = logging.getLogger(__name__)
# the auditor's check command, shipped inside every export when the repository is at hand
CHECK_SCRIPT = os.path.normpath(
    os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "scripts", archive_export.CHECK_SCRIPT_NAME
    )
)


class CrmShopArchiveExport(models.TransientModel):
    """Tax-audit export (GoBD Datenzugriff Z3): the mails of a period as a verifiable ZIP."""

    _name = "crm.shop.archive.export"
    _description = "GoBD mail archive export"

    date_from = fields.Date(required=True, default=lambda self: date(date.today().year - 1, 1, 1))
    date_to = fields.Date(required=True, default=lambda self: date(date.today().year - 1, 12, 31))

    def action_export(self):
        self.ensure_one()
        Entry = self.env["crm.shop.archive.entry"]
        Entry._check_archive_access()
        if self.date_from > self.date_to:
            raise UserError(self.env._("The start date must not be after the end date."))
        ids_by_sequence = {}

        def entries():
            for record, entry, _removed in Entry._iter_service_entries():
                ids_by_sequence[entry.sequence] = record.id
                yield entry

        with tempfile.TemporaryFile() as out:
            try:
                manifest = archive_export.write_export(
                    out, entries(), self.date_from, self.date_to, check_script=_check_script()
                )
            except PermanentError as exc:
                raise UserError(
                    self.env._("The export was stopped, the archive needs checking: %s", exc)
                ) from exc
            out.seek(0)
            data = out.read()
        exported = Entry.browse([ids_by_sequence[e["sequence"]] for e in manifest["entries"]])
        log = self.env["crm.shop.archive.access.log"]._log(
            "export",
            exported,
            detail=self.env._(
                "Period %(start)s to %(end)s", start=self.date_from, end=self.date_to
            ),
        )
        name = f"gobd-mail-archive-{self.date_from}-{self.date_to}.zip"
        attachment = log._attach(name, data, "application/zip")
        return log._download_action(attachment)


def _check_script():
    """The bytes of ``scripts/verify_archive_export.py``, or None when not installed here."""
    try:
        with open(CHECK_SCRIPT, "rb") as script:
            return script.read()
    except OSError:
        _logger.info("GoBD export: %s not found, exported without it", CHECK_SCRIPT)
        return None
