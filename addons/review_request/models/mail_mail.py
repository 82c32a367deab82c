from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(
        self, success_pids, success_emails, failure_reason=False, failure_type=None
    ):
        if failure_type:
            mails = self.filtered(lambda m: m.model == "review.request" and m.res_id)
            requests = self.env["review.request"].sudo().browse(mails.mapped("res_id")).exists()
            requests.filtered(lambda r: r.partner_id not in success_pids)._record_delivery_failure(
                failure_type, failure_reason
            )
        return super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type
        )
