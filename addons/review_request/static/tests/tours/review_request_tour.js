import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

function openConfiguration(menuXmlid, description) {
    return [
        {
            content: "Open the configuration menu",
            trigger: '.o_menu_sections [data-menu-xmlid="mail_crm_shop.menu_configuration"]',
            run: "click",
        },
        {
            content: description,
            trigger: `.dropdown-item[data-menu-xmlid="${menuXmlid}"]`,
            run: "click",
        },
    ];
}

/**
 * Review requests: configure a platform and a routing rule, preview the composed mail.
 * The order SO-REVIEW-0815 and the mail blocks come from tests/test_tour_review.py,
 * which also checks the configuration in the database.
 */
registry.category("web_tour.tours").add("review_request_configure_and_preview", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("mail_crm_shop.menu_shop_backoffice_root", "Open the back office"),
        ...openConfiguration("review_request.review_platform_menu", "Open the review platforms"),
        {
            content: "Add a platform",
            trigger: ".o_control_panel:has(.o_breadcrumb:contains(Review platforms)) .o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=name] input",
            run: "edit Tour Reviews",
        },
        {
            content: "Open the platform types",
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=platform_type] input",
            run: "click",
        },
        {
            trigger: ".o_select_menu_menu .o_select_menu_item:contains(Trusted Shops)",
            run: "click",
        },
        {
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=url_template] input",
            run: "edit https://reviews.tour.example/write?order={order}",
        },
        {
            content: "Save the platform",
            trigger: ".o_list_view .o_list_button_save",
            run: "click",
        },
        {
            content: "The platform is saved",
            trigger: ".o_list_view:not(:has(.o_selected_row)) .o_data_row:contains(Tour Reviews)",
        },
        ...openConfiguration("review_request.review_rule_menu", "Open the routing rules"),
        {
            content: "Add a routing rule",
            trigger:
                ".o_control_panel:has(.o_breadcrumb:contains(Review routing rules)) .o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=platform_id] input",
            run: "edit Tour Reviews",
        },
        {
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains(Tour Reviews)",
            run: "click",
        },
        {
            content: "Save the rule",
            trigger: ".o_list_view .o_list_button_save",
            run: "click",
        },
        {
            content: "The rule is saved",
            trigger: ".o_list_view:not(:has(.o_selected_row)) .o_data_row:contains(Tour Reviews)",
        },
        ...openConfiguration("review_request.review_mail_preview_menu", "Open the preview"),
        {
            content: "Choose the order to preview",
            trigger: ".modal .o_field_widget[name=sale_order_id] input",
            run: "edit SO-REVIEW-0815",
        },
        {
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains(SO-REVIEW-0815)",
            run: "click",
        },
        {
            content: "The preview greets the customer and carries the platform link",
            trigger:
                ".modal .o_field_widget[name=body]:contains(Hi Rita Review) " +
                "a[href='https://reviews.tour.example/write?order=SO-REVIEW-0815']:contains(Tour Reviews)",
        },
        {
            content: "Close the preview",
            trigger: ".modal footer button.btn-secondary",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});
