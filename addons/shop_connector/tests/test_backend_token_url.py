from unittest.mock import patch

from odoo.tests import Form, tagged

from odoo.addons.shop_connector.adapters.shops.http import HttpResult, ShopHttpClient

from .common import ShopConnectorCase


@tagged("post_install", "-at_install")
class TestBackendTokenUrl(ShopConnectorCase):
    """The marketplaces' OAuth token endpoint comes from the backend, not the adapter."""

    def _token_request_url(self, backend):
        """The URL the adapter built from ``backend`` asks for its access token."""
        asked = []

        def request(client, method, url, **kwargs):
            asked.append((method, url))
            return HttpResult(200, {}, {"access_token": "T", "expires_in": 3600}, url)

        adapter = backend._get_shop_adapter()
        with patch.object(ShopHttpClient, "request", request):
            self.assertEqual(adapter.token.get(), "T")
        self.assertEqual(len(asked), 1)
        self.assertEqual(asked[0][0], "POST")
        return asked[0][1]

    def test_platform_default_is_filled_in(self):
        ebay = self._create_backend(backend_type="ebay", api_url="https://api.ebay.com")
        amazon = self._create_backend(
            backend_type="amazon",
            api_url="https://sellingpartnerapi-eu.amazon.com",
            amazon_marketplace_ids="A1PA6795UKMFR9",
        )
        shopify = self._create_backend(api_url="https://example.myshopify.com")
        self.assertEqual(ebay.api_token_url, "https://api.ebay.com/identity/v1/oauth2/token")
        self.assertEqual(amazon.api_token_url, "https://api.amazon.com/auth/o2/token")
        self.assertFalse(shopify.api_token_url)
        self.assertEqual(
            self._token_request_url(ebay), "https://api.ebay.com/identity/v1/oauth2/token"
        )
        self.assertEqual(self._token_request_url(amazon), "https://api.amazon.com/auth/o2/token")

    def test_configured_token_url_is_used_by_the_adapters(self):
        sandbox = "https://api.sandbox.ebay.com/identity/v1/oauth2/token"
        ebay = self._create_backend(
            backend_type="ebay", api_url="https://api.sandbox.ebay.com", api_token_url=sandbox
        )
        self.assertEqual(ebay.api_token_url, sandbox)
        self.assertEqual(self._token_request_url(ebay), sandbox)
        amazon = self._create_backend(
            backend_type="amazon",
            api_url="http://127.0.0.1:8000/amazon",
            amazon_marketplace_ids="A1PA6795UKMFR9",
            api_token_url="http://127.0.0.1:8000/lwa/token",
        )
        self.assertEqual(self._token_request_url(amazon), "http://127.0.0.1:8000/lwa/token")

    def test_emptied_token_url_falls_back_to_the_platform_default(self):
        ebay = self._create_backend(backend_type="ebay", api_url="https://api.ebay.com")
        ebay.api_token_url = False
        self.assertEqual(
            self._token_request_url(ebay), "https://api.ebay.com/identity/v1/oauth2/token"
        )

    def test_form_fills_the_default_when_the_platform_is_chosen(self):
        form = Form(self.env["shop.backend"])
        form.name = "eBay DE"
        form.backend_type = "ebay"
        self.assertEqual(form.api_token_url, "https://api.ebay.com/identity/v1/oauth2/token")
        form.backend_type = "amazon"
        self.assertEqual(form.api_token_url, "https://api.amazon.com/auth/o2/token")
