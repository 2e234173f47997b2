"""views/base/datetime.py: every DateTime (Date) column of a generated form becomes a Chinese picker
field that reads what a clerk types, keeps its place, label and validators, and refuses in Chinese."""
from datetime import date, datetime

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import DateField, DateTimeField, Form, StringField
from wtforms.validators import InputRequired

from views.base.datetime import LocalDateField, LocalDateTimeField, use_datetime_pickers


def _form_class():
    class Generated(Form):
        title = StringField("标题")
        start_at = DateTimeField("开始时间", validators=[InputRequired()])
        settled = DateField("入驻日期")
        note = StringField("备注")

    use_datetime_pickers(Generated, with_assets=False)
    return Generated


def test_fields_are_swapped_in_place_keeping_label_and_validators():
    form = _form_class()()
    assert [f.name for f in form] == ["title", "start_at", "settled", "note"]
    assert isinstance(form.start_at, LocalDateTimeField) and isinstance(form.settled, LocalDateField)
    assert form.start_at.label.text == "开始时间" and form.start_at.flags.required
    html = str(form.start_at)
    assert 'class="form-control union-datetime"' in html and 'data-time="1"' in html
    assert 'data-time="0"' in str(form.settled) and "appbuilder_date" not in str(form.settled)


@pytest.mark.parametrize("typed", ["2026-12-30 18:00", "2026-12-30 18:00:00", "2026-12-30T18:00", "2026/12/30 18:00",
                                   " 2026-12-30  18：00 "])
def test_typed_times_are_read(typed):
    form = _form_class()(MultiDict({"start_at": typed}))
    form.validate()
    assert form.start_at.data == datetime(2026, 12, 30, 18, 0) and not form.start_at.errors


@pytest.mark.parametrize("typed", ["2026-02-30 18:00", "明天", "2026-12-30 25:00", "9" * 40])
def test_unreadable_times_get_a_chinese_message_and_stay_as_typed(typed):
    form = _form_class()(MultiDict({"start_at": typed, "settled": "2026-13-01"}))
    assert not form.validate()
    assert form.start_at.errors == ["请输入有效的日期和时间，例如 2026-12-30 18:00"]
    assert form.settled.errors == ["请输入有效的日期，例如 2026-12-30"]
    assert f'value="{typed}"' in str(form.start_at)


def test_saved_values_show_to_the_minute_and_dates_as_dates():
    form = _form_class()(data={"start_at": datetime(2026, 12, 30, 18, 5, 59), "settled": date(2020, 9, 1)})
    assert 'value="2026-12-30 18:05"' in str(form.start_at) and 'value="2020-09-01"' in str(form.settled)
