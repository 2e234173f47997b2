"""日期时间 fields: every DateTime column of a form keeps its date and its time, in Chinese.

FAB renders DateTime columns with bootstrap-datepicker: a date-only calendar in English that
wipes a typed time on blur, so the form then says 「不是有效的日期与时间值」. ``use_datetime_pickers``
swaps each DateTimeField of a generated form for ``LocalDateTimeField`` (Beijing wall-clock time
to the minute; typed or picked; a Chinese message when unreadable), and each DateField for
``LocalDateField`` (the same calendar without the time), rendered by ``DateTimePickerWidget``: a
text input that ``static/js/datetime.js`` turns into a flatpickr (vendored under
``static/vendor/flatpickr``, Chinese locale) which keeps typed values. ``ScopedModelView`` applies
it to its add, edit and search forms, so no domain view declares it.
"""
from __future__ import annotations

from datetime import datetime

from flask import g, has_request_context, url_for
from markupsafe import Markup
from wtforms import DateField, DateTimeField
from wtforms.fields.core import UnboundField
from wtforms.widgets import html_params

DISPLAY_FORMAT = "%Y-%m-%d %H:%M"
# what a clerk types or pastes: with or without seconds, "T" or "/" separators
INPUT_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
                 "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d")
INVALID_MESSAGE = "请输入有效的日期和时间，例如 2026-12-30 18:00"
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
INVALID_DATE_MESSAGE = "请输入有效的日期，例如 2026-12-30"
_ASSETS = ("vendor/flatpickr/flatpickr.min.css", "vendor/flatpickr/flatpickr.min.js", "vendor/flatpickr/zh.js",
           "js/datetime.js")


def datetime_assets() -> Markup:
    """The picker's stylesheet and scripts, once per page."""
    if has_request_context():
        if g.get("_datetime_assets_sent"):
            return Markup("")
        g._datetime_assets_sent = True
    tags = []
    for path in _ASSETS:
        href = url_for("static", filename=path)
        tags.append(f'<link rel="stylesheet" href="{href}">' if path.endswith(".css")
                    else f'<script src="{href}"></script>')
    return Markup("".join(tags))


class DateTimePickerWidget:
    """A text input marked for the picker; ``with_assets`` adds the scripts once per page (forms
    rendered as HTML). Search forms travel inside FAB's filter JSON and get the scripts from the
    list template instead."""

    def __init__(self, with_assets: bool = True, with_time: bool = True):
        self.with_assets, self.with_time = with_assets, with_time

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs["class"] = f"form-control union-datetime {kwargs.get('class', '')}".strip()
        params = html_params(type="text", value=field._value(), autocomplete="off", data_time=int(self.with_time),
                             placeholder="年-月-日 时:分" if self.with_time else "年-月-日", **kwargs)
        html = (f'<div class="input-group union-datetime-group"><span class="input-group-addon">'
                f'<i class="fa fa-calendar"></i></span><input {params}></div>')
        return (datetime_assets() if self.with_assets else Markup("")) + Markup(html)


class LocalDateTimeField(DateTimeField):
    """A date and time typed or picked as Beijing wall-clock time (naive; ``as_aware`` stores it)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.pop("format", None)
        kwargs.setdefault("widget", DateTimePickerWidget())
        super().__init__(label, validators, format=list(INPUT_FORMATS), **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime(DISPLAY_FORMAT) if isinstance(self.data, datetime) else ""

    def process_formdata(self, valuelist):
        text = " ".join(valuelist or []).strip().replace("：", ":")
        if not text:
            self.data = None
            return
        for fmt in INPUT_FORMATS:
            try:
                self.data = datetime.strptime(" ".join(text.split()), fmt)
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError(INVALID_MESSAGE)


class LocalDateField(DateField):
    """A date typed or picked (the calendar without the time)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.pop("format", None)
        kwargs.setdefault("widget", DateTimePickerWidget(with_time=False))
        super().__init__(label, validators, format=list(DATE_FORMATS), **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%Y-%m-%d") if self.data else ""

    def process_formdata(self, valuelist):
        text = " ".join(valuelist or []).strip()
        if not text:
            self.data = None
            return
        for fmt in DATE_FORMATS:
            try:
                self.data = datetime.strptime(text, fmt).date()
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError(INVALID_DATE_MESSAGE)


def use_datetime_pickers(form_class, *, with_assets: bool = True) -> None:
    """Replace every DateTimeField (DateField) of a generated form class by a ``LocalDateTimeField``
    (``LocalDateField``) in place, keeping its label, validators, description, default and position."""
    if form_class is None:
        return
    for name, unbound in list(vars(form_class).items()):
        if not isinstance(unbound, UnboundField) or not issubclass(unbound.field_class, DateTimeField):
            continue  # DateField is a DateTimeField in WTForms
        is_date = issubclass(unbound.field_class, DateField)
        kwargs = {**unbound.kwargs, "widget": DateTimePickerWidget(with_assets, with_time=not is_date)}
        kwargs.pop("format", None)
        replacement = UnboundField(LocalDateField if is_date else LocalDateTimeField, *unbound.args,
                                   name=unbound.name, **kwargs)
        replacement.creation_counter = unbound.creation_counter  # same place in the form
        setattr(form_class, name, replacement)
