import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/**
 * Team inbox: open the inbox, take a case, answer it with a text block, set a follow-up.
 * The data (queue, case, customer with order SO-TOUR-4711, text block) comes from
 * tests/test_tour_inbox.py, which also checks the result in the database.
 */
registry.category("web_tour.tours").add("mail_crm_shop_team_inbox", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("mail_crm_shop.menu_shop_backoffice_root", "Open the back office"),
        {
            content: "Open the team inbox menu",
            trigger: '.o_menu_sections [data-menu-xmlid="mail_crm_shop.menu_team_inbox"]',
            run: "click",
        },
        {
            content: "Open the cases",
            trigger: '.dropdown-item[data-menu-xmlid="mail_crm_shop.crm_shop_case_menu"]',
            run: "click",
        },
        {
            content: "Open the customer's case",
            trigger: ".o_list_view .o_data_row td[name=name]:contains(Tour parcel question)",
            run: "click",
        },
        {
            content: "Work on this case",
            trigger: ".o_form_view .o_form_statusbar button[name=action_lock]",
            run: "click",
        },
        {
            content: "The case is locked: the button is gone",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name=action_lock]))",
        },
        {
            content: "Assign the case to me",
            trigger: ".o_form_view .o_form_statusbar button[name=action_assign_to_me]",
            run: "click",
        },
        {
            content: "The case is assigned: the button is gone",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name=action_assign_to_me]))",
        },
        {
            content: "Reply with a text block",
            trigger: ".o_form_view .o_form_statusbar button[name=action_reply_with_text_block]",
            run: "click",
        },
        {
            content: "Pick the text block",
            trigger: ".modal .o_field_widget[name=text_block_id] input",
            run: "edit Tour parcel status",
        },
        {
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains(Tour parcel status)",
            run: "click",
        },
        {
            content: "The preview shows the resolved placeholders",
            trigger:
                ".modal .o_field_widget[name=preview]:contains(Hello Erika Tour):contains(SO-TOUR-4711)",
        },
        {
            content: "Write the reply",
            trigger: ".modal footer button[name=action_open_composer]",
            run: "click",
        },
        {
            content: "The composer holds the resolved text, no placeholder left",
            trigger:
                ".modal .o_field_widget[name=body]:contains(SO-TOUR-4711):not(:contains({{))",
        },
        {
            content: "Send the reply",
            trigger: ".modal footer button.o_mail_send:enabled",
            run: "click",
        },
        {
            content: "The reply is in the chatter",
            trigger: "body:not(:has(.modal)) .o-mail-Message-body:contains(SO-TOUR-4711)",
        },
        {
            content: "Open the follow-up tab",
            trigger: ".o_notebook .nav-link[name=follow_up]",
            run: "click",
        },
        {
            content: "Set the follow-up date",
            trigger: ".o_field_widget[name=follow_up_date] input",
            run: "edit 12/24/2099 09:30:00",
        },
        {
            content: "Write the follow-up note",
            trigger: ".o_field_widget[name=follow_up_note] textarea",
            run: "edit Ask the carrier again",
        },
        ...stepUtils.saveForm(),
    ],
});
