// The member add form: gender and birth date follow from an 18-digit resident ID as it is typed
// (GB 11643: digits 7-14 the birth date, digit 17 odd for men, the last a check character). The
// server derives them again when saving (app/services/members.py), whatever the page sent.
(function () {
  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], CHECK = "10X98765432";

  function derive(text) {
    var id = (text || "").replace(/\s+/g, "").toUpperCase();
    if (!/^\d{17}[\dX]$/.test(id)) { return null; }
    var sum = 0;
    for (var i = 0; i < 17; i++) { sum += (+id.charAt(i)) * WEIGHTS[i]; }
    if (CHECK.charAt(sum % 11) !== id.charAt(17)) { return null; }
    var y = +id.substr(6, 4), m = +id.substr(10, 2), d = +id.substr(12, 2), born = new Date(y, m - 1, d);
    if (born.getFullYear() !== y || born.getMonth() !== m - 1 || born.getDate() !== d || born > new Date()) {
      return null;
    }
    return { gender: (+id.charAt(16)) % 2 ? "male" : "female", birth: id.substr(6, 4) + "-" + id.substr(10, 2) + "-" + id.substr(12, 2) };
  }

  function start() {
    var number = document.querySelector("input[name=id_number]");
    if (!number) { return; }
    var form = number.form, kind = form.querySelector("select[name=id_type]");
    var gender = form.querySelector("select[name=gender]"), birth = form.querySelector("input[name=birth_date]");
    var hint = document.createElement("span");
    hint.id = "id-derived";
    hint.className = "help-block";
    number.parentNode.appendChild(hint);
    function update() {
      var resident = !kind || kind.value === "resident", found = resident ? derive(number.value) : null;
      hint.textContent = "";
      if (!found) { return; }
      if (gender) { gender.value = found.gender; }
      if (birth) {
        if (birth._flatpickr) { birth._flatpickr.setDate(found.birth, false); } else { birth.value = found.birth; }
      }
      hint.textContent = "已按身份证号填写：" + (found.gender === "male" ? "男" : "女") + "，出生日期 " + found.birth;
    }
    number.addEventListener("input", update);
    if (kind) { kind.addEventListener("change", update); }
    update();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
