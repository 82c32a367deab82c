"""CSV order files of a shop (Yatego's export, a generic CSV): column mapping and upload."""

import base64

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..adapters.shops.files import (
    YATEGO_COLUMNS,
    YATEGO_MAPPING,
    FileImportAdapter,
    FileImportSettings,
    parse_order_file,
)
from ..services.csv_mapping import check_mapping, preview
from ..services.order_generic import CsvMapping, order_from_csv_rows
from .shop_csv_column_map import CSV_FIELD_LABELS

CSV_TYPES = ("yatego", "generic")
DELIMITERS = {"semicolon": ";", "comma": ",", "tab": "\t", "pipe": "|"}


class ShopBackend(models.Model):
    _inherit = "shop.backend"  # pylint: disable=consider-merging-classes-inherited

    file_format = fields.Selection(
        [("json", "JSON (our format)"), ("csv", "CSV with a column mapping")],
        default="json",
        help="Generic imports: the format of the order file.",
    )
    csv_column_map_ids = fields.One2many(
        "shop.csv.column.map", "backend_id", string="CSV columns", copy=True
    )
    csv_delimiter = fields.Selection(
        [("semicolon", "Semicolon (;)"), ("comma", "Comma (,)"), ("tab", "Tab"), ("pipe", "|")],
        string="Delimiter",
        default="semicolon",
        required=True,
    )
    csv_encoding = fields.Selection(
        [
            ("auto", "Automatic (UTF-8, else Windows-1252)"),
            ("utf-8", "UTF-8"),
            ("cp1252", "Windows-1252"),
            ("iso-8859-15", "ISO-8859-15"),
        ],
        string="Encoding",
        default="auto",
        required=True,
    )
    csv_decimal_separator = fields.Selection(
        [("auto", "Automatic"), (",", "Comma (12,50)"), (".", "Point (12.50)")],
        string="Decimal separator",
        default="auto",
        required=True,
    )
    csv_date_format = fields.Char(
        string="Date format",
        default="%d.%m.%Y %H:%M",
        help="How the order date is written, e.g. %d.%m.%Y %H:%M for 01.07.2024 10:15 "
        "(ISO 8601 dates are always understood).",
    )
    csv_sample_file = fields.Binary(
        string="Sample file", attachment=True, copy=False, help="An order file of the shop."
    )
    csv_sample_filename = fields.Char(copy=False)
    csv_preview = fields.Html(
        string="Preview", compute="_compute_csv_preview", sanitize=False, readonly=True
    )

    # --- mapping ---------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        for backend in backends.filtered(
            lambda b: b.backend_type == "yatego" and not b.csv_column_map_ids
        ):
            backend.action_csv_yatego_columns()
        return backends

    def _shop_is_csv(self):
        self.ensure_one()
        return self.backend_type == "yatego" or (
            self.backend_type == "generic" and self.file_format == "csv"
        )

    def action_csv_yatego_columns(self):
        """Fill in the columns of Yatego's documented order export (replacing the lines)."""
        for backend in self:
            backend.write(
                {
                    "csv_column_map_ids": [(5, 0, 0)]
                    + [
                        (0, 0, {"sequence": index, "field_key": key, "column": column})
                        for index, (key, column) in enumerate(YATEGO_COLUMNS.items())
                    ],
                    "csv_delimiter": "semicolon",
                    "csv_encoding": "auto",
                    "csv_decimal_separator": ",",
                    "csv_date_format": YATEGO_MAPPING.date_format,
                }
            )
        return True

    def _csv_columns(self):
        return {line.field_key: line.column.strip() for line in self.csv_column_map_ids}

    def _get_csv_mapping(self, headers=None):
        """The column mapping of this shop; a clear ``UserError`` when it cannot read
        order files (required fields unmapped, columns missing in ``headers``)."""
        self.ensure_one()
        columns = self._csv_columns()
        problems = check_mapping(columns, headers)
        if problems.missing_fields:
            labels = ", ".join(self._csv_field_label(name) for name in problems.missing_fields)
            raise UserError(
                self.env._(
                    "The CSV column mapping of %(shop)s lacks required fields: %(fields)s.",
                    shop=self.name,
                    fields=labels,
                )
            )
        if problems.unknown_columns:
            raise UserError(
                self.env._(
                    "The file has no column %(columns)s, which the mapping of %(shop)s reads.",
                    columns=", ".join(problems.unknown_columns),
                    shop=self.name,
                )
            )
        status_map = self._csv_status_map()
        return CsvMapping(
            columns=columns,
            delimiter=DELIMITERS[self.csv_delimiter or "semicolon"],
            date_format=self.csv_date_format or YATEGO_MAPPING.date_format,
            status_map=status_map,
            encoding=self.csv_encoding or "auto",
            decimal_separator=self.csv_decimal_separator or "auto",
        )

    def _csv_field_label(self, name):
        labels = dict(
            self.env["shop.csv.column.map"]._fields["field_key"]._description_selection(self.env)
        )
        return labels.get(name, CSV_FIELD_LABELS.get(name, name))

    def action_csv_check(self):
        """Check the mapping (against the sample file's header when there is one)."""
        self.ensure_one()
        data = self._csv_sample_bytes()
        headers = None
        if data:
            headers = self._csv_preview_of(data, self._get_csv_mapping()).headers
        self._get_csv_mapping(headers)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("The column mapping can read this shop's order files."),
            },
        }

    def _csv_sample_bytes(self):
        # the form reads binaries with bin_size (their size as text): read the content itself
        content = self.with_context(bin_size=False).csv_sample_file
        return base64.b64decode(content) if content else b""

    def _csv_preview_of(self, data, mapping):
        try:
            return preview(data, mapping)
        except PermanentError as exc:
            raise UserError(self.env._("The file cannot be read: %s", exc)) from exc

    @api.depends(
        "csv_sample_file",
        "csv_delimiter",
        "csv_encoding",
        "csv_column_map_ids.field_key",
        "csv_column_map_ids.column",
    )
    def _compute_csv_preview(self):
        for backend in self:
            backend.csv_preview = backend._csv_render_preview()

    def _csv_render_preview(self):
        if not self._shop_is_csv():
            return False  # a JSON file has no columns to preview
        data = self._csv_sample_bytes()
        if not data:
            return False
        mapping = CsvMapping(
            columns=self._csv_columns(),
            delimiter=DELIMITERS[self.csv_delimiter or "semicolon"],
            encoding=self.csv_encoding or "auto",
        )
        try:
            shown = preview(data, mapping)
        except PermanentError as exc:
            return Markup("<p class='text-danger'>%s</p>") % self.env._(
                "The file cannot be read: %s", exc
            )
        mapped = set(mapping.columns.values())
        head = Markup("").join(
            Markup("<th class='%s'>%s</th>") % ("table-success" if h in mapped else "", h)
            for h in shown.headers
        )
        body = Markup("").join(
            Markup("<tr>%s</tr>") % Markup("").join(Markup("<td>%s</td>") % v for v in row)
            for row in shown.rows
        )
        table = Markup(
            "<div class='table-responsive'><table class='table table-sm table-bordered'>"
            "<thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>"
        ) % (head, body)
        values = Markup("").join(
            Markup("<tr><th>%s</th><td>%s</td></tr>") % (self._csv_field_label(name), value)
            for name, value in shown.first_values
        )
        first = Markup("<p><strong>%s</strong></p><table class='table table-sm'>%s</table>") % (
            self.env._("The first row as the mapping reads it"),
            values,
        )
        return table + (first if values else Markup(""))

    # --- import ----------------------------------------------------------------

    def _build_yatego_adapter(self):
        return FileImportAdapter(
            FileImportSettings(
                url=self.api_url,
                file_format="yatego",
                login=self.api_key or "",
                password=self.api_secret or "",
                csv_mapping=self._get_csv_mapping(),
            )
        )

    def _build_generic_adapter(self):
        return FileImportAdapter(
            FileImportSettings(
                url=self.api_url,
                file_format=self.file_format or "json",
                login=self.api_key or "",
                password=self.api_secret or "",
                csv_mapping=self._get_csv_mapping() if self._shop_is_csv() else None,
            )
        )

    def action_csv_import_sample(self):
        """Import the orders of the uploaded file: all of them, or none (a clear error)."""
        self.ensure_one()
        data = self._csv_sample_bytes()
        if not data:
            raise UserError(self.env._("Upload an order file first."))
        try:
            if self._shop_is_csv():
                mapping = self._get_csv_mapping()
                self._get_csv_mapping(self._csv_preview_of(data, mapping).headers)
                adapter = FileImportAdapter(
                    FileImportSettings(url="", file_format="csv", csv_mapping=mapping)
                )
                orders = adapter.parse(data)
            else:  # a generic shop's file in our JSON format
                orders = parse_order_file(data, "json")
        except PermanentError as exc:
            raise UserError(
                self.env._("Nothing was imported: the file cannot be read: %s", exc)
            ) from exc
        counts = self.env["shop.order.import"]._store_orders_counted(self, orders)
        if counts["new"] or counts["changed"]:
            self.env["shop.order.import"]._shop_trigger_processing()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s orders read from the file: %(new)s new and %(changed)s changed "
                    "ones are queued for import, %(known)s were imported already.",
                    **counts,
                ),
            },
        }

    def _map_csv_payload(self, payload):
        """A stored CSV order mapped again with this shop's current column mapping (an
        unusable mapping fails the import at once, with the reason)."""
        try:
            mapping = self._get_csv_mapping()
        except UserError as exc:
            raise PermanentError(str(exc)) from exc
        return order_from_csv_rows(payload, mapping)
