import logging

from odoo import api, models

from .shop_order_import_batch import running_batch

_logger = logging.getLogger(__name__)


class SaleOrder(models.Model):
    """After delivery: shipping write-back, the invoice and its mail; customer mails."""

    _inherit = "sale.order"  # pylint: disable=consider-merging-classes-inherited

    # --- after delivery ----------------------------------------------------------------

    @api.private
    def _shop_after_delivery(self, picking):
        """A delivery left: shipping mail, shop write-back and, once all left, the invoice."""
        self.ensure_one()
        picking._shop_send_shipping_mail()
        # the warehouse validates; shop write-back and invoicing run for the system
        self.env["shop.sync.job"].sudo()._queue_shipment(picking)
        if self.shop_release_state == "released" and all(
            p.state in ("done", "cancel") for p in self.picking_ids
        ):
            self.sudo()._shop_invoice_and_mail()
            self.sudo().shop_release_state = "done"

    def _shop_invoice_and_mail(self):
        """Create, post and mail the invoice; a failure is recorded, never raised."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                invoices = self.invoice_ids.filtered(lambda m: m.state != "cancel")
                if not invoices:
                    invoices = self._create_invoices()
                invoices.filtered(lambda m: m.state == "draft").action_post()
                unsent = invoices.filtered(lambda m: not m.is_move_sent)  # paid ones too
                if unsent:
                    self.env["account.move.send"]._generate_and_send_invoices(
                        unsent,
                        sending_methods={"email"},
                        mail_template=self.env.ref("shop_connector.mail_template_shop_invoice"),
                    )
        except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
            _logger.info("Invoice of shop order %s failed: %s", self.name, exc)
            error = f"{type(exc).__name__}: {exc}"
            self.write({"shop_invoice_mail_state": "error", "shop_invoice_mail_error": error})
            self.message_post(
                body=self.env._("The invoice could not be created or sent: %s", error),
                subtype_xmlid="mail.mt_note",
            )
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Shop invoice failed"),
                note=error,
                user_id=self.user_id.id or self.env.uid,
            )
        else:
            self.write({"shop_invoice_mail_state": "done", "shop_invoice_mail_error": False})

    def action_shop_send_invoice(self):
        """Retry the invoice of a shipped shop order after a failure."""
        for order in self.filtered(lambda o: o.shop_invoice_mail_state == "error"):
            order._shop_invoice_and_mail()
        return True

    def _shop_customer_has_email(self, template):
        """False, with a note on the order, when the customer has no address to mail.

        Marketplace buyers often come without one (masked addresses are not stored): a
        mail queued for nobody would only end as a delivery error.
        """
        self.ensure_one()
        if self.partner_id.email:
            return True
        self.message_post(
            body=self.env._(
                "%(customer)s has no e-mail address: the mail “%(mail)s” was not sent.",
                customer=self.partner_id.display_name,
                mail=template.name,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return False

    def _shop_send_mail(self, template_xmlid):
        """Post the mail of ``template_xmlid``; the e-mail is queued, never sent inline.

        Sending inline would hold the import (or the warehouse) on the mail server after
        every order; the mail queue sends it within moments (its cron is triggered).
        """
        self.ensure_one()
        template = self.env.ref(template_xmlid)
        if not self._shop_customer_has_email(template):
            return
        self.message_post_with_source(template, subtype_xmlid="mail.mt_comment", force_send=False)
        batch = running_batch(self.env)
        if batch is not None:  # an import batch triggers the mail queue once, at its end
            batch.mail_queued = True
        else:
            self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger()
        if template_xmlid == "shop_connector.mail_template_shop_order_received":
            self.shop_received_mail_sent = True
