import email.parser
import email.policy
import email.utils
from datetime import datetime, timezone

from odoo import api, models

from ..services import archive
from .crm_shop_archive_entry import _header_text

RETENTION_PARAM = "mail_crm_shop.archive_retention_years_%s"
CHAIN_LOCK_KEY = 0x47_6F_42_44  # "GoBD": one advisory lock serialises every chain append
RAW_UPDATE_BYTES = 8 * 1024 * 1024  # raw bytes written per UPDATE when appending a list


class CrmShopArchiveEntry(models.Model):
    _inherit = "crm.shop.archive.entry"  # pylint: disable=consider-merging-classes-inherited

    # --- appending -----------------------------------------------------------------

    @api.model
    @api.private
    def _archive_raw(self, raw, direction, record=None, category="default"):
        """Append ``raw`` (exact bytes) to the chain; return the new entry (sudo)."""
        return self._archive_raws([(raw, direction, record, category)])

    @api.model
    @api.private
    def _archive_raws(self, items):
        """Append each ``(raw, direction, record, category)`` of ``items`` to the chain, in
        order; return the new entries (sudo), one per item.

        The whole list takes the chain lock and reads the chain head once; the entries are
        still chained one by one (each hashes its predecessor), exactly as appended singly.
        """
        items = [(bytes(raw), *rest) for raw, *rest in items]
        Entry = self.sudo()
        if not items:
            return Entry
        cr = self.env.cr
        cr.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
        last = Entry.search([], order="sequence desc", limit=1)
        previous = last._to_service(with_raw=False) if last else None
        prev_chain_hash = last.chain_hash if last else archive.GENESIS_HASH
        now = datetime.now(timezone.utc)
        years = self._retention_years()
        vals_list = []
        for raw, direction, record, category in items:
            if previous and now < previous.archived_at:
                now = previous.archived_at  # another worker's clock ran ahead: stay monotonic
            made = archive.make_entry(raw, now, previous)
            vals = self._prepare_entry_vals(raw, made, direction, record, category, years)
            vals["prev_chain_hash"] = prev_chain_hash
            vals_list.append(vals)
            previous, prev_chain_hash = made, made.chain_hash
        entries = Entry.create(vals_list)
        entries.flush_recordset()
        # the bytes go to the plain bytea column (the guard trigger checks each digest),
        # a few MB per statement: large mails are not all put into one query
        group, size, last_id = [], 0, entries.ids[-1]
        for entry_id, (raw, *_rest) in zip(entries.ids, items, strict=True):
            group.append((entry_id, raw))
            size += len(raw)
            if size >= RAW_UPDATE_BYTES or entry_id == last_id:
                cr.execute(
                    "UPDATE crm_shop_archive_entry AS entry SET raw_content = data.raw FROM"
                    " unnest(%s::int[], %s::bytea[]) AS data(id, raw) WHERE entry.id = data.id",
                    [[item[0] for item in group], [item[1] for item in group]],
                )
                group, size = [], 0
        return entries

    @api.model
    def _prepare_entry_vals(self, raw, made, direction, record, category, years=None):
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        recipients = ", ".join(
            _header_text(headers, name) for name in ("To", "Cc") if headers.get(name)
        )
        try:
            message_date = email.utils.parsedate_to_datetime(headers.get("Date"))
        except (TypeError, ValueError, IndexError, AttributeError):  # AttributeError: 8-bit Date
            message_date = None
        if message_date and message_date.tzinfo:
            message_date = message_date.astimezone(timezone.utc).replace(tzinfo=None)
        else:
            message_date = False
        years = years if years is not None else self._retention_years()
        end = archive.retention_end(made.archived_at, category, None, years)
        return {
            "sequence": made.sequence,
            "archived_at": archive.format_archived_at(made.archived_at),
            "archived_date": made.archived_at.replace(tzinfo=None, microsecond=0),
            "direction": direction,
            "category": category,
            "sha256": made.sha256,
            "chain_hash": made.chain_hash,
            "size": len(raw),
            "message_id": _header_text(headers, "Message-Id")[:998] or False,
            "sender": _header_text(headers, "From") or False,
            "recipients": recipients or False,
            "subject": _header_text(headers, "Subject") or False,
            "message_date": message_date,
            "res_model": record._name if record else False,
            "res_id": record.id if record else False,
            "retention_end_date": end,
        }

    @api.model
    def _retention_years(self):
        """The retention table, each category overridable by a system parameter."""
        params = self.env["ir.config_parameter"].sudo()
        table = dict(archive.DEFAULT_RETENTION_YEARS)
        for category in table:
            value = params.get_param(RETENTION_PARAM % category)
            if value and value.strip().isdigit():
                table[category] = int(value)
        return table
