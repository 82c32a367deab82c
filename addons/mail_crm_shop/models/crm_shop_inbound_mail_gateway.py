"""The fast mail gateway of the team inbox: a parsed mail becomes a message on its case.

Odoo's gateway (``message_process``) routes each mail through aliases, looks the sender
up per mail and posts with the whole notification machinery. Our routing is decided
before (``crm.shop.inbound.mail._find_case``) and the lookups of a batch are done once
(``_prefetch_routing``), so this posts the message directly, doing what
``_message_route_process`` + ``message_post`` do for an incoming mail:

* a new case gets the values of ``crm.shop.case.message_new`` (title from the subject,
  sender, contact) and is created without subscribing the gateway user or logging a
  creation message; the assignee of an automatic assignment still follows it;
* the message has the author, parent, subtype (comment, or note under an internal
  message), reply-to, company, alias domain and recipients the gateway would give it;
  attachments are created in one ``create`` and inline images linked in the body;
* followers are notified as by ``message_post`` - only skipped when the case has no
  follower and nobody is pinged, where it would notify nobody;
* the search index of the new case, message and attachments is written later by
  ``crm.shop.search.document._cron_index`` (context ``crm_shop_search_defer``);
* case numbers are drawn from their (standard) sequence for the mails of the batch
  expected to open a case with one query (``_next_case_number``).
"""

from odoo import models
from odoo.tools import email_normalize, email_split

from .crm_shop_inbound_mail import running_routing_batch
from .crm_shop_search_document import DEFER_KEY
from .mail_message import ANY_THREAD, THREADS_WITH_MESSAGES

CASE_SEQUENCE_CODE = "crm.shop.case"
MAX_RESERVED_NUMBERS = 500
# values of message_parse that the post sets itself or that are no message field
_SET_BY_POST = frozenset(
    {"author_id", "body", "email_from", "parent_id", "partner_ids", "subject", "subtype_id"}
)


class CrmShopInboundMail(models.Model):
    _inherit = "crm.shop.inbound.mail"  # pylint: disable=consider-merging-classes-inherited

    def _gateway_case_model(self):
        return (
            self.env["crm.shop.case"]
            .sudo()
            .with_context(
                mail_create_nosubscribe=True,
                mail_create_nolog=True,
                # no tracking template on cases: skip posting none at creation
                mail_notrack=True,
                attachments_mime_plainxml=True,  # XML attachments are imported as text
                **{DEFER_KEY: True},
            )
        )

    def _post_to_case(self, msg_dict, case, batch):
        """Post the parsed mail on ``case`` or, without a case, on a new one; return it."""
        Case = self._gateway_case_model()
        if case:
            thread = Case.browse(case.id)
            thread.message_update(msg_dict)
        else:
            thread = Case.create(self._prepare_new_case_vals(msg_dict, batch))
        self._post_inbound_message(thread, msg_dict, batch, new_case=not case)
        return self.env["crm.shop.case"].browse(thread.id)

    def _prepare_new_case_vals(self, msg_dict, batch):
        """The values ``crm.shop.case.message_new`` would give the case of this mail."""
        vals = self._prepare_case_vals(batch)
        vals["number"] = self._next_case_number(batch)
        vals["name"] = (msg_dict.get("subject") or "").strip() or self.env._("(no subject)")
        if msg_dict.get("email_from"):
            vals["email_from"] = msg_dict["email_from"]
        if not vals.get("partner_id"):
            author = self._gateway_partner_ids([msg_dict.get("email_from")], batch)
            vals["partner_id"] = author[0] if author else False
        return vals

    def _next_case_number(self, batch):
        """The number of this mail's new case: from the numbers the batch reserved, or
        ``/`` (drawn by ``crm.shop.case.create``) when the sequence cannot be reserved."""
        pool = batch.extras.setdefault("case_numbers", [])
        if not pool:
            ids = list(batch.headers)
            remaining = ids[ids.index(self.id) :] if self.id in batch.headers else []
            wanted = min(max(batch.likely_new_cases(remaining), 1), MAX_RESERVED_NUMBERS)
            pool.extend(self._reserve_case_numbers(wanted))
        return pool.pop(0) if pool else "/"

    def _reserve_case_numbers(self, count):
        """Draw ``count`` case numbers at once, as ``next_by_code`` draws one each.

        Only a standard sequence without date ranges is drawn ahead: its numbers come
        from a PostgreSQL sequence (never rolled back, gaps allowed anyway), formatted
        with the prefix and suffix of the moment they are drawn. Others return ``[]``.
        """
        Sequence = self.env["ir.sequence"].sudo()
        sequence = Sequence.search(
            [("code", "=", CASE_SEQUENCE_CODE), ("company_id", "in", [self.env.company.id, False])],
            order="company_id",
            limit=1,
        )
        if not sequence or sequence.implementation != "standard" or sequence.use_date_range:
            return []
        self.env.cr.execute(
            "SELECT nextval(%s) FROM generate_series(1, %s)",
            [f"ir_sequence_{sequence.id:03d}", count],
        )
        numbers = sorted(row[0] for row in self.env.cr.fetchall())
        return [sequence.get_next_char(number) for number in numbers]

    def _gateway_partner_ids(self, addresses, batch):
        """Contact ids of ``addresses`` (batch answers first, the rest in one query)."""
        keys = [email_normalize(address or "") for address in addresses]
        keys = [key for key in keys if key]
        unknown = {key for key in keys if not batch.has_partner_answer(key)}
        if unknown:
            self._lookup_partners(batch, unknown)
        return list(dict.fromkeys(p for p in map(batch.partner_for, keys) if p))

    def _gateway_record_defaults(self, case, batch):
        """The alias domain and company ids ``message_post`` stores on the message; they
        depend on the case's company only, so they are computed once per batch."""
        key = ("record_defaults", case.company_id.id)
        if key not in batch.extras:
            company = self.env.company
            batch.extras[key] = (
                case._mail_get_alias_domains(default_company=company)[case.id].id,
                case._mail_get_companies(default=company)[case.id].id,
            )
        return batch.extras[key]

    def _gateway_parent_id(self, case, parent_id, batch, new_case):
        """``case._message_compute_parent_id(parent_id)``, without its query for a case
        this mail just opened that has no message yet (the running batch records every
        thread a message is created on, see ``mail.message.create``)."""
        threads = batch.extras.get(THREADS_WITH_MESSAGES, ())
        if (
            new_case
            and batch is running_routing_batch(self.env)
            and (case._name, case.id) not in threads
            and ANY_THREAD not in threads
        ):
            return False
        return case._message_compute_parent_id(parent_id)

    def _gateway_ping(self, parent, is_internal):
        """An answer pings the author of the message it answers (``parent``) when that is
        a customer (or anybody, for an internal note), as the gateway does."""
        author = parent.author_id
        return [author.id] if author and (is_internal or author.partner_share) else []

    def _gateway_follow(self, case, author_id):
        """A colleague writing in follows the answers; a customer does not."""
        author = self.env["res.partner"].sudo().browse(author_id)
        if not author.partner_share:
            case._message_subscribe(partner_ids=author.ids)

    def _post_inbound_message(self, case, msg_dict, batch, new_case):
        """Create the mail's message on ``case`` as ``message_post`` from the gateway."""
        data = self.env["ir.model.data"]
        comment_id = data._xmlid_to_res_id("mail.mt_comment")
        subtype_id = (
            data._xmlid_to_res_id("mail.mt_note") if msg_dict.get("is_internal") else comment_id
        )
        author_ids = self._gateway_partner_ids([msg_dict.get("email_from")], batch)
        author_id = author_ids[0] if author_ids else False
        values = self._gateway_message_values(case, msg_dict, batch, new_case, author_id)
        values["subtype_id"] = subtype_id
        values.update(
            case._process_attachments_for_post(msg_dict.get("attachments") or [], [], values)
        )
        message = case._message_create([values])
        if author_id and subtype_id == comment_id:
            self._gateway_follow(case, author_id)
        case._message_post_after_hook(message, values)
        if values["partner_ids"] or case.message_follower_ids:
            case._fallback_lang()._notify_thread(message, values)
        recipients = self._gateway_partner_ids(email_split(msg_dict.get("recipients") or ""), batch)
        if recipients:  # already reached by the mail itself: listed, not notified again
            message.write({"partner_ids": recipients})
        return message

    def _gateway_message_values(self, case, msg_dict, batch, new_case, author_id):
        """The ``mail.message`` values of the mail on ``case``, as ``message_post`` sets
        them (all but the subtype and the attachments)."""
        Message = self.env["mail.message"].sudo()
        email_from = msg_dict.get("email_from")
        parent_id = False if new_case else msg_dict.get("parent_id")  # a new case has none
        values = {
            key: value
            for key, value in msg_dict.items()
            if key in Message._fields and key not in _SET_BY_POST
        }
        alias_domain_id, company_id = self._gateway_record_defaults(case, batch)
        values.update(
            author_id=author_id,
            author_guest_id=False,
            email_from=email_from,
            model=case._name,
            res_id=case.id,
            body=msg_dict.get("body") or "",
            parent_id=self._gateway_parent_id(case, parent_id, batch, new_case),
            subject=msg_dict.get("subject") or False,
            partner_ids=self._gateway_ping(Message.browse(parent_id), msg_dict.get("is_internal")),
            incoming_email_to=msg_dict.get("to_filtered") or False,
            incoming_email_cc=msg_dict.get("cc_filtered") or False,
            outgoing_email_to=False,
            email_add_signature=True,
            record_alias_domain_id=alias_domain_id,
            record_company_id=company_id,
            reply_to=case._notify_get_reply_to(default=email_from, author_id=author_id)[case.id],
        )
        return values
