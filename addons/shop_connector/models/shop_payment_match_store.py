import logging

from markupsafe import Markup

from odoo import api, fields, models

from odoo.addons.mail_crm_shop.models.crm_shop_case import CLOSED_STATES

_logger = logging.getLogger(__name__)


class ShopPaymentMatch(models.Model):
    """Storing the matcher's result: proposals created, kept or replaced; auto-confirming.

    Rejected proposals are kept as records in state ``rejected``; their order and
    invoices (and the invoices of a rejected order) are never proposed again for the
    movement.
    """

    # pylint: disable=consider-merging-classes-inherited
    _inherit = "shop.payment.match"

    def _store_result(self, line, result, records, account, confirmed=None):
        """Store the matcher's ``result`` for ``line`` and auto-confirm the sure proposal.

        Proposals of an earlier run (``keep``) stay as they are unless a better candidate
        appeared or their order or invoices are no longer open. ``confirmed`` collects
        the candidates confirmed in this run: a second payment naming one of them is left
        to a person. A payment with a case (a person has it in hand) is never confirmed
        here: its new proposals are told on the case, once each.
        """
        confirmed = set() if confirmed is None else confirmed
        pairs = [(p, self._prepare_match_vals(line, p, records)) for p in result.proposals]
        pairs = self._without_rejected(line, pairs)
        sure = self._auto_pair(result, pairs, account)
        auto = None if line.shop_case_id else sure
        old = line.shop_match_ids.filtered(lambda m: m.state == "proposed")
        if old:
            old = old._drop_stale(records)
            best_old = max(old.mapped("score"), default=0)
            best_new = max((p.score for p, _vals in pairs), default=0)
            if old and auto is None and best_new <= best_old:
                return old  # nothing better appeared: the proposals stay as they are
        matches = self._replace_proposals(line, old, pairs)
        line.shop_match_reason = result.reason or False
        if line.shop_case_id:
            if sure is not None:
                line.shop_match_reason = self.env._(
                    "a person has the case of this payment: they confirm the match"
                )
            (matches - old)._shop_note_on_case()
            return matches
        if auto is not None:
            matches[pairs.index(auto)]._shop_auto_confirm_once(line, confirmed)
        return matches

    def _shop_auto_confirm_once(self, line, confirmed):
        """Confirm this sure match of ``line`` unless a payment of this run was confirmed
        for the same order or invoice (``confirmed``, updated) or another transaction books
        one of them now; else say why on the line."""
        targets = self._shop_targets()
        if targets & confirmed:
            line.shop_match_reason = self.env._(
                "another payment was just confirmed for this order or invoice: a person checks "
                "this one"
            )
        elif not self._shop_lock_targets():
            line.shop_match_reason = self.env._(
                "the order or invoice is being booked by another payment: matched again later"
            )
        else:
            self._auto_confirm()
            if self.state == "auto_confirmed":
                confirmed |= targets

    def _shop_note_on_case(self):
        """Tell the person on the open case of the payment about these proposals, just
        created (a kept proposal is not told again); an activity when the case is assigned."""
        case = self.statement_line_id.shop_case_id.sudo()
        if not self or not case or case.state in CLOSED_STATES:
            return
        matches = self.with_context(lang=case.user_id.lang) if case.user_id.lang else self
        paragraphs = [
            Markup("<p>%s</p>") % match._shop_case_note_text()
            for match in matches.sorted("score", reverse=True)
        ]
        body = Markup().join(paragraphs)
        case.message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note")
        if case.user_id:
            case.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=case.user_id.id,
                summary=matches.env._("Confirm the match on the payment"),
                note=body,
            )

    def _shop_case_note_text(self):
        self.ensure_one()
        if self.sale_order_id:
            text = self.env._(
                "A matching order was found for this payment: %(name)s (score %(score)s). "
                "Confirm it on the payment."
            )
            name = self.sale_order_id.name
        else:
            text = self.env._(
                "A matching invoice was found for this payment: %(name)s (score %(score)s). "
                "Confirm it on the payment."
            )
            name = ", ".join(self.invoice_ids.mapped("name"))
        return Markup(text) % {"name": self._get_html_link(title=name), "score": self.score}

    @api.model
    def _shop_rematch(self, lines):
        """Match ``lines`` again keeping proposals; a failing chunk is retried line by line
        and a line that still fails says why (the others go on)."""
        try:
            with self.env.cr.savepoint():
                return self._match_statement_lines(lines, keep=True)
        except Exception:  # noqa: BLE001 - unit-of-work boundary: retried per line below
            _logger.warning("Matching %s movements again failed, one by one now", len(lines))
        matches = self
        for line in lines:
            try:
                with self.env.cr.savepoint():
                    matches |= self._match_statement_lines(line, keep=True)
            except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
                _logger.warning("Matching movement %s again failed: %s", line.id, exc)
                line.shop_match_reason = self.env._(
                    "Matching again failed: %s", f"{type(exc).__name__}: {exc}"
                )
        return matches

    @api.model
    def _auto_pair(self, result, pairs, account):
        """The (proposal, values) to confirm without a person, or None."""
        auto = result.auto_confirm
        if not (
            auto
            and account.auto_confirm
            and auto.score >= account.auto_confirm_threshold
            and len(auto.candidate_ids) == 1
        ):
            return None
        return next((pair for pair in pairs if pair[0] is auto), None)

    @api.model
    def _without_rejected(self, line, pairs):
        """``pairs`` less what a person rejected for ``line`` (an order: its invoices too)."""
        rejected = line.shop_match_ids.filtered(lambda m: m.state == "rejected")
        if not rejected:
            return pairs
        keys = {match._shop_key() for match in rejected}
        orders = set(rejected.sale_order_id.ids)
        kept = []
        for proposal, vals in pairs:
            key = _vals_key(vals)
            if key in keys or vals["sale_order_id"] in orders:
                continue
            invoices = self.env["account.move"].browse(key[1])
            invoiced = invoices.invoice_line_ids.sale_line_ids.order_id
            if invoices and invoiced and set(invoiced.ids) <= orders:
                continue
            kept.append((proposal, vals))
        return kept

    def _drop_stale(self, records):
        """Delete the proposals whose order or invoices are no longer open; the rest."""
        open_ids = {(record._name, record.id) for record in records.values()}
        stale = self.filtered(
            lambda match: (
                not (match.sale_order_id or match.invoice_ids)
                or any((r._name, r.id) not in open_ids for r in match._shop_targets_records())
            )
        )
        stale.unlink()
        return self - stale

    @api.model
    def _replace_proposals(self, line, old, pairs):
        """Proposals for ``pairs`` in their order: an old one with the same order and
        invoices is updated in place, others are created, the old rest is deleted."""
        by_key = {match._shop_key(): match for match in old}
        reused, new_vals = {}, []
        for position, (_proposal, vals) in enumerate(pairs):
            match = by_key.pop(_vals_key(vals), None)
            if match is None:
                new_vals.append(vals)
                continue
            reused[position] = match
            if (match.score, match.needs_person, match.reason) != (
                vals["score"],
                vals["needs_person"],
                vals["reason"],
            ):
                match.write(
                    {
                        "score": vals["score"],
                        "needs_person": vals["needs_person"],
                        "reason": vals["reason"],
                        "evidence_ids": [
                            fields.Command.delete(evidence.id) for evidence in match.evidence_ids
                        ]
                        + vals["evidence_ids"],
                    }
                )
        for leftover in by_key.values():
            leftover.unlink()
        created = iter(self.create(new_vals))
        ids = [
            reused[position].id if position in reused else next(created).id
            for position in range(len(pairs))
        ]
        return self.browse(ids)

    @api.model
    def _prepare_match_vals(self, line, proposal, records):
        chosen = [records[cid] for cid in proposal.candidate_ids]
        orders = [r for r in chosen if r._name == "sale.order"]
        invoices = [r.id for r in chosen if r._name == "account.move"]
        return {
            "statement_line_id": line.id,
            "partner_id": chosen[0].partner_id.commercial_partner_id.id,
            "sale_order_id": orders[0].id if orders else False,
            "invoice_ids": [fields.Command.set(invoices)],
            "score": proposal.score,
            "needs_person": proposal.needs_person,
            "reason": proposal.reason or False,
            "evidence_ids": [
                fields.Command.create(
                    {"rule": evidence.rule, "points": evidence.points, "detail": evidence.detail}
                )
                for evidence in proposal.evidence
            ],
        }

    def _shop_key(self):
        """What the proposal pays: (order id or False, sorted invoice ids)."""
        self.ensure_one()
        return (self.sale_order_id.id, tuple(sorted(self.invoice_ids.ids)))

    def _shop_targets_records(self):
        self.ensure_one()
        return [*self.sale_order_id, *self.invoice_ids]

    def _shop_targets(self):
        """The order and invoices of the proposal as a set of (model, id)."""
        return {(record._name, record.id) for record in self._shop_targets_records()}

    def _shop_lock_targets(self):
        """Lock the order and invoices for this transaction; False if another worker has
        one of them (locked, or changed since this transaction began)."""
        self.ensure_one()
        for records in (self.sale_order_id.sudo(), self.invoice_ids.sudo()):
            if records and len(records._shop_try_lock_for_update()) != len(records):
                return False
        return True


def _vals_key(vals):
    return (vals["sale_order_id"], tuple(sorted(vals["invoice_ids"][0][2])))
