// Date-and-time inputs (views/base/datetime.py): <input class="union-datetime"> becomes a Chinese
// flatpickr that keeps the date and the time, whether clicked in the calendar or typed
// ("2026-12-30 18:00", with or without seconds); data-time="0" marks a date-only column; a page's own
// <input type="date"> becomes a date-only one. A typed value it cannot read is left as typed,
// so the server answers with its Chinese message instead of the field being wiped.
(function () {
  var PATTERN = /^(\d{4})[-\/.](\d{1,2})[-\/.](\d{1,2})(?:[ T]+(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2}))?)?$/;

  function parse(text) {
    var m = PATTERN.exec((text || "").trim());
    if (!m) { return undefined; }
    var d = new Date(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0));
    // 2026-02-30 or 25:00 roll over in Date: refuse them instead
    if (d.getFullYear() !== +m[1] || d.getMonth() !== +m[2] - 1 || d.getDate() !== +m[3] ||
        d.getHours() !== +(m[4] || 0) || d.getMinutes() !== +(m[5] || 0)) { return undefined; }
    return d;
  }

  function init(input) {
    if (input._flatpickr || !window.flatpickr) { return; }
    var kept = null;  // a typed value the picker cannot read: kept until the clerk types or picks again
    function restore() { if (kept !== null && input.value !== kept) { input.value = kept; } }
    input.addEventListener("keydown", function () { kept = null; });
    input.addEventListener("blur", function (event) {
      var typed = input.value.trim();
      if (typed && !parse(typed)) {
        event.stopImmediatePropagation();  // the picker would clear it
        kept = typed;
        window.setTimeout(restore, 0);  // and when a click outside closes it
      }
    }, true);
    var withTime = input.getAttribute("data-time") !== "0";  // date-only columns: no clock
    window.flatpickr(input, {
      locale: "zh", enableTime: withTime, time_24hr: true, minuteIncrement: 1, allowInput: true,
      dateFormat: withTime ? "Y-m-d H:i" : "Y-m-d", disableMobile: true,
      parseDate: function (text) { return parse(text); },
      // the picker may clear the field later (closing, a late value update): put the typed text back
      onClose: [function () { window.setTimeout(restore, 0); }],
      onValueUpdate: [function () { window.setTimeout(restore, 0); }],
      onChange: [function (dates) { if (dates.length) { kept = null; } }]
    });
  }

  // a page's own <input type="date">: the browser draws it in its own language (mm/dd/yyyy in an
  // English Chromium), so it becomes the same Chinese date-only picker (its value stays yyyy-mm-dd)
  function adopt(input) {
    input.type = "text";
    input.classList.add("union-datetime");
    input.setAttribute("data-time", "0");
    input.setAttribute("autocomplete", "off");
    if (!input.placeholder) { input.placeholder = "年-月-日"; }
  }

  function scan(root) {
    var dates = (root || document).querySelectorAll("input[type=date]");
    for (var j = 0; j < dates.length; j++) { adopt(dates[j]); }
    var inputs = (root || document).querySelectorAll("input.union-datetime");
    for (var i = 0; i < inputs.length; i++) { init(inputs[i]); }
  }

  function start() {
    scan(document);
    // list filters are inserted when the clerk adds one
    new MutationObserver(function () { scan(document); })
      .observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
