from freezegun import freeze_time

from odoo.tests import Form, tagged

from .common import ReviewRequestCase


@tagged("post_install", "-at_install")
class TestReviewSend(ReviewRequestCase):
    def test_sent_once_on_the_right_day_then_one_reminder(self):
        request = self._create_review_request()
        self.assertEqual(str(request.scheduled_date), "2026-03-09 10:00:00")
        with freeze_time("2026-03-09 09:59:00"):
            self._run_cron()
        self.assertEqual(request.state, "scheduled")
        self.assertFalse(self._invitations(request))
        with freeze_time("2026-03-09 10:30:00"):
            self._run_cron()
            self._run_cron()
        self.assertEqual(request.state, "sent")
        self.assertEqual(request.consent_basis, "consent")
        self.assertEqual(request.platform_id, self.shop)
        invitation = self._invitations(request)
        self.assertEqual(len(invitation), 1)
        self.assertIn("Green tea", invitation.body)
        self.assertIn("/review/optout/", invitation.body)
        self.assertIn("/r/", invitation.body, "links go through the link tracker")
        with freeze_time("2026-03-14 10:00:00"):
            self._run_cron()
        self.assertEqual(len(self._invitations(request)), 1, "reminder after 5 days, not 4")
        with freeze_time("2026-03-14 11:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "reminded")
        self.assertEqual(len(self._invitations(request)), 2)
        with freeze_time("2026-06-01 11:00:00"):
            self._run_cron()
        self.assertEqual(len(self._invitations(request)), 2, "never more than one reminder")

    def test_carrier_delivery_date_moves_the_schedule(self):
        request = self._create_review_request()
        request.delivered_date = "2026-03-05 16:00:00"
        self.assertEqual(str(request.scheduled_date), "2026-03-12 16:00:00")

    def test_no_reminder_after_a_click(self):
        request = self._create_review_request()
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "sent")
        self.assertEqual(len(request.link_tracker_ids), 1)
        code = request.link_tracker_ids.code
        self.env["link.tracker.click"].sudo().add_click(code, ip="127.0.0.1")
        self.assertEqual(request.state, "clicked")
        self.assertTrue(request.clicked)
        with freeze_time("2026-04-10 08:00:00"):
            self._run_cron()
        self.assertEqual(len(self._invitations(request)), 1)

    def test_no_mail_without_consent(self):
        partner = self._create_partner(review_consent=False)
        request = self._create_review_request(
            sale_order_id=self._create_sale_order(partner_id=partner.id).id
        )
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "cancel")
        self.assertIn("exception is off", request.cancel_reason)
        self.assertFalse(self._invitations(request))

    def test_existing_customer_exception_needs_the_notice_at_checkout(self):
        partner = self._create_partner(review_consent=False)
        self.team.review_existing_customer = True
        uninformed = self._create_review_request(
            sale_order_id=self._create_sale_order(partner_id=partner.id).id
        )
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual(uninformed.state, "cancel")
        self.team.review_objection_notice = True
        informed = self._create_review_request(
            sale_order_id=self._create_sale_order(partner_id=partner.id).id
        )
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual(informed.state, "sent")
        self.assertEqual(informed.consent_basis, "existing_customer")
        self.assertIn("/review/optout/", self._invitations(informed).body)

    def test_opted_out_customer_gets_nothing(self):
        partner = self._create_partner(review_opt_out_date="2026-01-01 00:00:00")
        request = self._create_review_request(
            sale_order_id=self._create_sale_order(partner_id=partner.id).id
        )
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "cancel")
        self.assertFalse(self._invitations(request))

    def test_held_while_a_case_is_open_then_sent(self):
        request = self._create_review_request()
        case = self.env["crm.shop.case"].create(
            {
                "name": "Where is my parcel?",
                "partner_id": request.partner_id.id,
                "sale_order_id": request.sale_order_id.id,
                # mail_crm_shop's closing code needs a deadline (crashes on False today)
                "sla_resolution_deadline": "2026-03-20 00:00:00",
            }
        )
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "held")
        self.assertEqual(request.hold_reason, "open case")
        self.assertFalse(self._invitations(request))
        case.state = "done"
        with freeze_time("2026-03-10 12:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "held", "re-checked a day later, not at every run")
        with freeze_time("2026-03-11 08:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "sent")
        self.assertEqual(len(self._invitations(request)), 1)

    def test_delivery_problem_with_drop_policy_cancels(self):
        self.team.review_hold_policy = "drop"
        request = self._create_review_request(delivery_problem=True)
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "cancel")
        self.assertIn("delivery problem", request.cancel_reason)
        self.assertFalse(self._invitations(request))

    def test_refund_holds_the_invitation(self):
        request = self._create_review_request()
        line = request.sale_order_id.order_line
        self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": request.partner_id.id,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": line.product_id.id,
                            "quantity": 1,
                            "price_unit": 5,
                            "sale_line_ids": [(6, 0, line.ids)],
                        },
                    )
                ],
            }
        )
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "held")
        self.assertEqual(request.hold_reason, "refund")

    def test_missing_legal_notice_fails_visibly_then_retry_succeeds(self):
        legal = self.blocks.filtered(lambda b: b.kind == "legal")
        legal.active = False
        request = self._create_review_request()
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "failed")
        self.assertIn("legal notice", request.last_error)
        self.assertEqual(request.attempt_count, 1)
        self.assertFalse(self._invitations(request))
        self.assertTrue(
            request.message_ids.filtered(lambda m: "could not be sent" in (m.body or ""))
        )
        self.assertEqual(request.activity_ids.summary, "Review invitation failed")
        legal.active = True
        with freeze_time("2026-03-10 09:00:00"):
            request.action_retry()
            self._run_cron()
        self.assertEqual(request.state, "sent")
        self.assertFalse(request.last_error)
        self.assertFalse(request.activity_ids)
        self.assertEqual(len(self._invitations(request)), 1)

    def test_request_created_once_when_the_delivery_is_done(self):
        order = self._create_sale_order()
        order.action_confirm()
        picking = order.picking_ids
        self.assertEqual(picking.picking_type_code, "outgoing")
        picking.move_ids.write({"quantity": 1, "picked": True})
        with freeze_time("2026-03-02 10:00:00"):
            picking._action_done()
        request = self.env["review.request"].search([("sale_order_id", "=", order.id)])
        self.assertEqual(len(request), 1)
        self.assertEqual(str(request.scheduled_date), "2026-03-09 10:00:00")
        self.env["review.request"]._create_for_orders(order)
        self.assertEqual(
            self.env["review.request"].search_count([("sale_order_id", "=", order.id)]), 1
        )

    def _deliver(self, order):
        order.action_confirm()
        picking = order.picking_ids
        picking.move_ids.write({"quantity": 1, "picked": True})
        with freeze_time("2026-03-02 10:00:00"):
            picking._action_done()
        return picking

    def test_a_return_holds_the_invitation(self):
        order = self._create_sale_order()
        picking = self._deliver(order)
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_id=picking.id, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = 1
        wizard._create_return()
        request = self.env["review.request"].search([("sale_order_id", "=", order.id)])
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual(request.state, "held")
        self.assertEqual(request.hold_reason, "return")
        self.assertFalse(self._invitations(request))

    def test_refused_mail_is_sent_again_later(self):
        request = self._create_review_request()
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        mail = (
            self.env["mail.mail"]
            .sudo()
            .search([("model", "=", "review.request"), ("res_id", "=", request.id)])
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("/review/optout/", mail.headers, "List-Unsubscribe header")
        self.assertIn("List-Unsubscribe=One-Click", mail.headers)
        with freeze_time("2026-03-10 08:05:00"):
            mail._postprocess_sent_message(
                success_pids=self.env["res.partner"],
                success_emails=[],
                failure_reason="421 try again later",
                failure_type="mail_smtp",
            )
        self.assertEqual(request.state, "error")
        self.assertEqual(request.last_error, "421 try again later")
        self.assertFalse(request.sent_date)
        with freeze_time("2026-03-10 08:06:00"):
            self._run_cron()
        self.assertEqual(request.state, "error", "waits for the backoff")
        with freeze_time("2026-03-10 08:11:00"):
            self._run_cron()
        self.assertEqual(request.state, "sent")
        self.assertEqual(len(self._invitations(request)), 2, "the refused mail and the new one")

    def test_invalid_address_fails_at_once(self):
        request = self._create_review_request()
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        mail = (
            self.env["mail.mail"]
            .sudo()
            .search([("model", "=", "review.request"), ("res_id", "=", request.id)])
        )
        mail._postprocess_sent_message(
            success_pids=self.env["res.partner"],
            success_emails=[],
            failure_reason="invalid address",
            failure_type="mail_email_invalid",
        )
        self.assertEqual(request.state, "failed")
