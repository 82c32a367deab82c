from odoo import models

from ..services import auto_ack

# the headers asking not to be answered automatically (see auto_ack.suppress_requested)
ACK_HEADERS = frozenset({"x-auto-response-suppress", "list-id"})


class CrmShopInboundMail(models.Model):
    _inherit = "crm.shop.inbound.mail"  # pylint: disable=consider-merging-classes-inherited

    def _acknowledge_new_case(self, case, decision, headers, message):
        """Hook of ``_apply`` once the mail is on ``case``: a case this mail opened is
        acknowledged as its queue says (``crm.shop.case._ack_new_case``).

        Free when the queue sends no acknowledgement: the routing decision, the new case
        and its queue are in the cache (no query).
        """
        if decision != "new" or not case or not case.queue_id.ack_enabled:
            return
        found = {}
        for name, value in message.raw_items():  # unparsed: a broken header cannot raise
            if name.lower() in ACK_HEADERS:
                found.setdefault(name.lower(), []).append(str(value))
        case._ack_new_case(
            sender=headers.from_address,
            is_auto_reply=headers.is_auto_reply or self.is_auto_reply,
            is_bounce=headers.auto_reason == "bounce",
            suppress_auto_response=auto_ack.suppress_requested(found),
        )
