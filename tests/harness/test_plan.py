"""The plan's table of built-in journeys: what each reports, against the backend's contract."""

from __future__ import annotations

from harness.plan import BUILTIN_JOURNEYS, BuiltinJourney
from reference_backend.faults import OPERATIONS


def test_builtin_journeys_send_operations_of_the_backends_contract() -> None:
    for journey in BUILTIN_JOURNEYS.values():
        assert journey.steps, journey.name
        assert set(journey.steps) <= set(OPERATIONS), journey.name


def test_a_multi_step_journey_also_reports_its_whole_duration_last() -> None:
    for name, journey in BUILTIN_JOURNEYS.items():
        assert journey.name == name
        unique = tuple(dict.fromkeys(journey.steps))
        if journey.signs_in:
            unique = ("login", *unique)
        if len(journey.steps) > 1:
            assert journey.multi_step
            assert journey.operations == (*unique, f"journey.{name}")
        else:
            assert not journey.multi_step
            assert journey.operations == unique


def test_an_alias_reports_the_whole_duration_under_its_own_name() -> None:
    browse = BuiltinJourney(
        "browse", "", ("category_list", "product_detail", "product_detail"), 4.0
    )
    assert browse.operations_as("window_shopping") == (
        "category_list",
        "product_detail",
        "journey.window_shopping",
    )
    single = BuiltinJourney("pricing", "", ("price_lookup",), 1.0)
    assert single.operations_as("quick_price") == ("price_lookup",)


def test_journeys_that_need_a_login_report_it_first() -> None:
    signed_in = {name for name, journey in BUILTIN_JOURNEYS.items() if journey.signs_in}
    assert signed_in == {"add_to_cart", "checkout"}  # the ones that touch the cart or orders
    assert BUILTIN_JOURNEYS["checkout"].operations[0] == "login"
    assert "login" in OPERATIONS  # the backend's POST /api/login


def test_the_builtin_journeys_log_in_with_the_backends_demo_password() -> None:
    from harness.engine._journeys import PASSWORD
    from reference_backend.passwords import DEMO_PASSWORD

    assert PASSWORD == DEMO_PASSWORD
