import { registry } from "@web/core/registry";

/**
 * The case list filtered by "Full text" in the search bar lists the best match first.
 * The cases come from tests/test_fulltext_rank.py: the best match is the oldest case,
 * which the usual order (newest first) would show last.
 */
registry.category("web_tour.tours").add("mail_crm_shop_fulltext_rank", {
    url: "/odoo/action-mail_crm_shop.crm_shop_case_action",
    steps: () => [
        {
            content: "The open cases are listed, newest first",
            trigger: ".o_list_view .o_data_row:nth-child(1) td[name=name]:contains(Teekanne)",
        },
        {
            content: "Search the full text",
            trigger: "input.o_searchview_input",
            run: "edit Espressomaschine",
        },
        {
            content: "Pick the Full text field",
            trigger: '.o_searchview_autocomplete .o-dropdown-item:contains("Full text")',
            run: "click",
        },
        {
            content: "The best match comes first",
            trigger: ".o_list_view .o_data_row:nth-child(1) td[name=name]:contains(Defekt)",
        },
        {
            content: "then the second best",
            trigger: ".o_list_view .o_data_row:nth-child(2) td[name=name]:contains(Rechnung)",
        },
        {
            content: "and the weakest match last",
            trigger: ".o_list_view .o_data_row:nth-child(3) td[name=name]:contains(Rücksendung)",
        },
        {
            content: "Only the matching cases are listed",
            trigger: ".o_list_view:not(:has(.o_data_row:nth-child(4)))",
        },
    ],
});
