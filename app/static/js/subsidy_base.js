// 补助初核: the base follows the settlement sheet, total − 统筹 − 大病 − 其他 − 全自费, until the
// reviewer types a base of his own; emptying it brings the formula back. Cents as integers: no float drift.
(function () {
  var base = document.getElementById("base");
  var total = document.getElementById("total_cost");
  if (!base || !total) { return; }
  var paid = document.querySelectorAll("#subsidy-sheet .sheet-paid");
  var own = base.value !== "";

  function cents(input) {
    var text = (input.value || "").replace(/,/g, "").trim();
    if (text === "") { return 0; }
    if (!/^\d+(\.\d{0,2})?$/.test(text)) { return null; }
    var parts = text.split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  function refresh() {
    if (own) { return; }
    var sum = cents(total);
    if (sum === null || total.value.trim() === "") { base.value = ""; return; }
    for (var i = 0; i < paid.length; i++) {
      var c = cents(paid[i]);
      if (c === null) { base.value = ""; return; }
      sum -= c;
    }
    sum = Math.max(0, sum);
    base.value = Math.floor(sum / 100) + "." + ("0" + (sum % 100)).slice(-2);
  }

  base.addEventListener("input", function () { own = base.value !== ""; refresh(); });
  total.addEventListener("input", refresh);
  for (var i = 0; i < paid.length; i++) { paid[i].addEventListener("input", refresh); }
  refresh();
})();
