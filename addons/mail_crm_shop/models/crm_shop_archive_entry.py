import email.errors
import email.header
import email.parser
import email.policy
import email.utils
import logging
from datetime import datetime, timezone

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

from ..services import archive

_logger = logging.getLogger(__name__)

CATEGORIES = [
    ("default", "Books, invoices and unclassified (10 years)"),
    ("business_letter", "Business letter (6 years)"),
    ("accounting_voucher", "Accounting voucher (8 years)"),
]
RETENTION_PARAM = "mail_crm_shop.archive_retention_years_%s"
CHAIN_LOCK_KEY = 0x47_6F_42_44  # "GoBD": one advisory lock serialises every chain append
TOMBSTONE_SETTING = "crm_shop_archive.tombstone"
RAW_UPDATE_BYTES = 8 * 1024 * 1024  # raw bytes written per UPDATE when appending a list

# The raw bytes live in a plain bytea column (Odoo's Binary field would store base64 text).
# The trigger refuses DELETE and TRUNCATE always and UPDATE except two exact transitions:
# filling the empty raw column once with bytes whose SHA-256 is the stored digest (the
# create path), and emptying it for the one entry named in the session setting (the
# approved deletion, see crm.shop.archive.deletion); every other column stays unchanged.
_GUARD_SQL = """
CREATE OR REPLACE FUNCTION crm_shop_archive_entry_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'raw_content') = (to_jsonb(OLD) - 'raw_content') THEN
        IF OLD.raw_content IS NULL AND NEW.raw_content IS NOT NULL
           AND encode(sha256(NEW.raw_content), 'hex') = NEW.sha256 THEN
            RETURN NEW;
        END IF;
        IF NEW.raw_content IS NULL
           AND current_setting('crm_shop_archive.tombstone', true) = OLD.chain_hash THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'crm_shop_archive_entry is append-only (GoBD): % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS crm_shop_archive_entry_guard ON crm_shop_archive_entry;
CREATE TRIGGER crm_shop_archive_entry_guard BEFORE UPDATE OR DELETE ON crm_shop_archive_entry
    FOR EACH ROW EXECUTE FUNCTION crm_shop_archive_entry_guard();
DROP TRIGGER IF EXISTS crm_shop_archive_entry_guard_truncate ON crm_shop_archive_entry;
CREATE TRIGGER crm_shop_archive_entry_guard_truncate BEFORE TRUNCATE ON crm_shop_archive_entry
    FOR EACH STATEMENT EXECUTE FUNCTION crm_shop_archive_entry_guard();
"""


class CrmShopArchiveEntry(models.Model):
    """One archived mail (GoBD): exact bytes, digest and hash chain; append-only.

    Written only by :meth:`_archive_raw` (inbound mail, outgoing SMTP). ``write`` and
    ``unlink`` are refused for everybody, superuser included, and a database trigger
    refuses UPDATE/DELETE even through SQL (see ``_GUARD_SQL``).
    """

    _name = "crm.shop.archive.entry"
    _description = "GoBD mail archive entry"
    _order = "sequence desc"
    _rec_name = "sequence"

    sequence = fields.Integer(required=True, readonly=True)
    archived_at = fields.Char(string="Archived at (UTC, chain form)", required=True, readonly=True)
    archived_date = fields.Datetime(string="Archived on", required=True, readonly=True, index=True)
    direction = fields.Selection(
        [("in", "Received"), ("out", "Sent")], required=True, readonly=True
    )
    category = fields.Selection(CATEGORIES, required=True, readonly=True, default="default")
    sha256 = fields.Char(string="SHA-256", required=True, readonly=True)
    prev_chain_hash = fields.Char(string="Previous chain hash", required=True, readonly=True)
    chain_hash = fields.Char(required=True, readonly=True)
    size = fields.Integer(string="Size (bytes)", readonly=True)
    message_id = fields.Char(string="Message-ID", readonly=True, index="btree_not_null")
    sender = fields.Char(readonly=True)
    recipients = fields.Char(readonly=True)
    subject = fields.Char(readonly=True)
    message_date = fields.Datetime(string="Mail date", readonly=True)
    res_model = fields.Char(string="Related model", readonly=True)
    res_id = fields.Many2oneReference(string="Related record", model_field="res_model")
    retention_end_date = fields.Date(string="Retained until", required=True, readonly=True)
    case_name = fields.Char(string="Case", compute="_compute_case_name")
    content_removed = fields.Boolean(compute="_compute_content_removed")
    gdpr_request_ids = fields.Many2many(
        "crm.shop.gdpr.request",
        "crm_shop_gdpr_request_archive_entry_rel",
        "entry_id",
        "request_id",
        string="GDPR requests",
        readonly=True,
    )
    hold_ids = fields.Many2many(
        "crm.shop.archive.hold",
        "crm_shop_archive_hold_entry_rel",
        "entry_id",
        "hold_id",
        string="Legal holds",
        readonly=True,
    )
    legal_hold_until = fields.Date(compute="_compute_legal_hold_until")
    gdpr_blocked = fields.Boolean(
        string="Blocked (GDPR)", compute="_compute_gdpr_blocked", search="_search_gdpr_blocked"
    )

    _sequence_uniq = models.UniqueIndex("(sequence)")
    _chain_hash_uniq = models.UniqueIndex("(chain_hash)")
    # an inbound mail reads its bytes from its entry (crm_shop_inbound_mail_archive.py)
    _res_idx = models.Index("(res_id, res_model) WHERE res_id IS NOT NULL")

    def init(self):
        self.env.cr.execute(
            "ALTER TABLE crm_shop_archive_entry ADD COLUMN IF NOT EXISTS raw_content bytea"
        )
        self.env.cr.execute(_GUARD_SQL)

    def _compute_content_removed(self):
        if not self.ids:
            self.content_removed = False
            return
        self.env.cr.execute(
            "SELECT id FROM crm_shop_archive_entry WHERE id IN %s AND raw_content IS NULL",
            [tuple(self.ids)],
        )
        removed = {row[0] for row in self.env.cr.fetchall()}
        for entry in self:
            entry.content_removed = entry.id in removed

    @api.depends("res_model", "res_id")
    def _compute_case_name(self):
        for entry in self:
            entry.case_name = entry._case_reference() or False

    @api.depends("hold_ids.hold_until", "hold_ids.active")
    def _compute_legal_hold_until(self):
        for entry in self:
            entry.legal_hold_until = max(entry.sudo().hold_ids.mapped("hold_until"), default=False)

    @api.depends("gdpr_request_ids.state")
    def _compute_gdpr_blocked(self):
        for entry in self:
            entry.gdpr_blocked = "done" in entry.sudo().gdpr_request_ids.mapped("state")

    def _search_gdpr_blocked(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        blocked = Domain("gdpr_request_ids.state", "=", "done")
        return blocked if (operator == "=") == value else ~blocked

    # --- append-only ---------------------------------------------------------------

    def write(self, vals):
        if vals:  # nothing may change, whoever asks (the superuser included)
            raise UserError(self.env._("Archived mails cannot be changed (GoBD)."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(
            self.env._("Archived mails cannot be deleted; after retention use a deletion request.")
        )

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

    # --- reading -------------------------------------------------------------------

    def _check_archive_access(self):
        if not self.env.user.has_group("mail_crm_shop.group_archive"):
            raise AccessError(self.env._("Only members of the Archive group may do this."))

    def action_verify(self):
        self._check_archive_access()
        log = self.env["crm.shop.archive.access.log"]._verify_archive()
        return log._get_form_action()

    def action_download_raw(self):
        self.ensure_one()
        self._check_archive_access()
        raw = self._raw_bytes().get(self.id)
        if raw is None:
            raise UserError(
                self.env._(
                    "The content of entry %s was deleted after its retention.", self.sequence
                )
            )
        log = self.env["crm.shop.archive.access.log"]._log("read_raw", self)
        attachment = log._attach(f"archive-{self.sequence:010d}.eml", raw, "message/rfc822")
        return log._download_action(attachment)

    @api.model
    def _cron_verify(self):
        """Daily: recompute the whole chain from the stored bytes; report a break."""
        self.env["crm.shop.archive.access.log"]._verify_archive()

    def _raw_bytes(self):
        """Return ``{id: bytes or None}`` straight from the bytea column."""
        if not self.ids:
            return {}
        self.env.cr.execute(
            "SELECT id, raw_content FROM crm_shop_archive_entry WHERE id IN %s",
            [tuple(self.ids)],
        )
        return {
            row[0]: bytes(row[1]) if row[1] is not None else None for row in self.env.cr.fetchall()
        }

    def _to_service(self, with_raw=True, raws=None, tombstones=None):
        """The pure entry; ``tombstones`` (``{id: Tombstone}``, None: looked up) describe
        entries whose content was deleted after retention."""
        self.ensure_one()
        raw = b""
        tombstone = None
        if with_raw:
            raws = raws if raws is not None else self._raw_bytes()
            raw = raws.get(self.id) or b""
            if raws.get(self.id) is None:
                if tombstones is None:
                    tombstones = self._tombstones()
                tombstone = tombstones.get(self.id)
        archived_at = datetime.strptime(self.archived_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=timezone.utc
        )
        return archive.ArchiveEntry(
            sequence=self.sequence,
            archived_at=archived_at,
            raw=raw,
            sha256=self.sha256,
            chain_hash=self.chain_hash,
            message_date=self.message_date and self.message_date.replace(tzinfo=timezone.utc),
            sender=self.sender or "",
            recipients=tuple(filter(None, [self.recipients or ""])),
            subject=self.subject or "",
            case=self._case_reference(),
            category=self.category,
            legal_hold_until=self.legal_hold_until or None,
            tombstone=tombstone,
        )

    def _tombstones(self):
        """``{id: archive.Tombstone}`` of these entries deleted by an approved request."""
        return self.env["crm.shop.archive.deletion"]._tombstones_of(self)

    def _case_reference(self):
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return ""
        record = self.env[self.res_model].sudo().browse(self.res_id).exists()
        if "case_id" in record._fields and record.case_id:  # an inbound mail: its case
            record = record.case_id
        return record.display_name or ""

    @api.model
    def _iter_service_entries(self, domain=None, batch=200):
        """Yield ``(record, service entry, content removed)`` in sequence order.

        Loads ``batch`` raw messages at a time so the whole archive never sits in memory.
        """
        ids = self.sudo().search(domain or [], order="sequence").ids
        for start in range(0, len(ids), batch):
            chunk = self.sudo().browse(ids[start : start + batch])
            raws = chunk._raw_bytes()
            removed = chunk.filtered(lambda e, raws=raws: raws.get(e.id) is None)
            tombstones = removed._tombstones()
            for entry in chunk:
                service = entry._to_service(raws=raws, tombstones=tombstones)
                yield entry, service, raws.get(entry.id) is None
            self.env.invalidate_all()


def _header_text(message, name):
    value = message.get(name)
    if value is None:
        return ""
    try:
        decoded = email.header.make_header(email.header.decode_header(str(value)))
        text = str(decoded)
    except (UnicodeError, LookupError, email.errors.HeaderParseError):
        text = str(value)
    return " ".join(text.replace("\x00", "").split())  # PostgreSQL refuses NUL in text
