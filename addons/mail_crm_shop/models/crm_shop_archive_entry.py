import email.errors
import email.header
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

_logger = logging.getLogger(__name__)

CATEGORIES = [
    ("default", "Books, invoices and unclassified (10 years)"),
    ("business_letter", "Business letter (6 years)"),
    ("accounting_voucher", "Accounting voucher (8 years)"),
]
TOMBSTONE_SETTING = "crm_shop_archive.tombstone"

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
