"""The address shops push their orders to; the orders are stored, processed later."""

import json
import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..services import order_push

_logger = logging.getLogger(__name__)


def _answer(status, **data):
    body = json.dumps(data, sort_keys=True)  # ASCII: Content-Length counts characters
    return request.make_response(
        body, headers=[("Content-Type", "application/json")], status=status
    )


class ShopPushController(http.Controller):
    @http.route(
        "/shop_connector/push/<int:backend_id>/orders",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def push_orders(self, backend_id, **kwargs):
        """Store the pushed orders of backend ``backend_id``: 202 with the counts.

        401 bad or missing token / signature, 404 no such active backend taking pushes,
        400 a body that is not a valid order document (nothing stored), 413 too large."""
        # nobody is logged in: the backend is read and the orders stored as the superuser
        # (like the import cron), in the backend's company
        backends = request.env["shop.backend"].with_user(SUPERUSER_ID)
        backend = backends.browse(backend_id).exists()
        if not (backend.active and backend.push_enabled and backend._shop_push_mapper()):
            return _answer(404, error="no shop takes pushed orders at this address")
        httprequest = request.httprequest
        limit = order_push.MAX_PUSH_BYTES
        if (httprequest.content_length or 0) > limit:
            return _answer(413, error=f"the body is larger than {limit} bytes")
        body = httprequest.get_data()
        if len(body) > limit:
            return _answer(413, error=f"the body is larger than {limit} bytes")
        if backend.backend_type == "woocommerce" and order_push.is_woocommerce_ping(
            body, httprequest.form
        ):
            return _answer(200, received=0, stored=0, duplicates=0)
        if not self._push_authorized(backend, body):
            _logger.info("Order push to shop %s refused: bad token or signature", backend.id)
            return _answer(401, error="missing or wrong push token or webhook signature")
        topic_header = order_push.TOPIC_HEADERS.get(backend.backend_type)
        topic = httprequest.headers.get(topic_header) if topic_header else None
        if not order_push.is_order_topic(backend.backend_type, topic):
            return _answer(200, received=0, stored=0, duplicates=0, ignored=topic)
        if not body and httprequest.form:
            return _answer(400, error="send the orders as JSON (Content-Type: application/json)")
        try:
            orders = order_push.orders_from_push(body, backend._shop_push_mapper())
        except PermanentError as exc:
            _logger.info("Order push to shop %s refused: %s", backend.id, exc)
            return _answer(400, error=str(exc))
        counts = backend.with_company(backend.company_id)._shop_store_pushed_orders(orders)
        _logger.info("Order push to shop %s: %s", backend.id, counts)
        return _answer(202, **counts)

    def _push_authorized(self, backend, body):
        headers = request.httprequest.headers
        token = order_push.bearer_token(headers.get("Authorization"))
        if order_push.token_matches(backend.push_token, token):
            return True
        signature_header = order_push.SIGNATURE_HEADERS.get(backend.backend_type)
        return bool(signature_header) and order_push.signature_matches(
            body, backend._shop_webhook_secret(), headers.get(signature_header)
        )
