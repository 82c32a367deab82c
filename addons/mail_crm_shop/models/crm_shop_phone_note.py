from markupsafe import Markup

from odoo import api, fields, models


class CrmShopPhoneNote(models.Model):
    _name = "crm.shop.phone.note"
    _description = "Phone note of a case"
    _order = "call_date desc, id desc"

    case_id = fields.Many2one("crm.shop.case", required=True, index=True, ondelete="cascade")
    caller = fields.Char(required=True)
    phone = fields.Char(string="Number")
    direction = fields.Selection(
        [("inbound", "Incoming call"), ("outbound", "Outgoing call")],
        required=True,
        default="inbound",
    )
    call_date = fields.Datetime(required=True, default=fields.Datetime.now)
    duration = fields.Float(string="Duration (minutes)")
    note = fields.Text(required=True)
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)
    message_id = fields.Many2one("mail.message", readonly=True, copy=False)

    _positive_duration = models.Constraint(
        "CHECK(duration >= 0)", "The duration of a call cannot be negative."
    )

    @api.model_create_multi
    def create(self, vals_list):
        notes = super().create(vals_list)
        for note in notes:
            note.message_id = note.case_id.message_post(
                body=note._message_body(), subtype_xmlid="mail_crm_shop.mt_phone_note"
            )
        return notes

    def _message_body(self):
        self.ensure_one()
        direction = dict(self._fields["direction"]._description_selection(self.env))
        minutes = self.env._("%s min", round(self.duration, 1))
        header = " · ".join(
            part for part in (direction[self.direction], self.caller, self.phone, minutes) if part
        )
        return Markup("<p><b>%s</b></p><p>%s</p>") % (header, self.note)
