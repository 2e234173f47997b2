"""Document numbers: per-day series from locked counters, the seed's ZY and BG shapes."""
from datetime import datetime, timezone

import pytest

from app.services import numbers
from app.services.errors import DomainError
from models.base import DISPLAY_TZ


def test_daily_numbers_count_per_beijing_day(ctx):
    day = datetime(2031, 5, 6, 15, 59, tzinfo=timezone.utc)  # 23:59 in Beijing
    first, second = numbers.enrollment_number(ctx, day), numbers.enrollment_number(ctx, day)
    assert (first, second) == ("CB20310506000001", "CB20310506000002")
    assert numbers.enrollment_number(ctx, datetime(2031, 5, 6, 16, 0, tzinfo=timezone.utc)) == "CB20310507000001"
    assert numbers.claim_number(ctx, day) == "SL20310506000001"


def test_subsidy_numbers_have_the_seed_shape_per_letter(ctx):
    at = datetime(2030, 12, 30, 14, 28, tzinfo=DISPLAY_TZ)
    assert numbers.subsidy_number(ctx, "L", at) == "ZY20301230L000001"
    assert numbers.subsidy_number(ctx, "A", at) == "ZY20301230A000001"
    assert numbers.subsidy_number(ctx, "L", at) == "ZY20301230L000002"
    with pytest.raises(DomainError):
        numbers.subsidy_number(ctx, "l", at)


def test_the_letter_is_a_setting_per_county(app):
    with app.app_context():
        app.config["NUMBER_LETTERS"] = {"104": "A"}
        try:
            assert numbers.number_letter("10401") == "A" and numbers.number_letter("101") == "L"
        finally:
            app.config["NUMBER_LETTERS"] = {}


def test_the_seed_bg_number_decodes_to_its_creation_time():
    at = numbers.snowflake_time(1344168415351173120).astimezone(DISPLAY_TZ)
    assert at.strftime("%Y-%m-%d %H:%M:%S.%f")[:23] == "2020-12-30 14:28:18.318"


def test_bg_numbers_are_19_digits_unique_and_time_ordered(ctx):
    early = numbers.change_request_number(ctx, datetime(2021, 1, 1, tzinfo=timezone.utc))
    made = [numbers.change_request_number(ctx) for _ in range(50)]
    assert all(n.startswith("BG") and len(n) == 21 and n[2:].isdigit() for n in made)
    assert len(set(made)) == 50 and int(early[2:]) < int(made[0][2:])
    assert made == sorted(made, key=lambda n: int(n[2:]))


def test_reserve_hands_out_consecutive_blocks(ctx):
    assert numbers.reserve(ctx, "test:block", 3) == [1, 2, 3]
    assert numbers.reserve(ctx, "test:block", 2) == [4, 5]
    with pytest.raises(DomainError):
        numbers.reserve(ctx, "test:block", 0)
