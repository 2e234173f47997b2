/* Every file field in Chinese: the browser's own button and "no file chosen" text follow the
   browser's language (an English Chromium says "Choose File"), so each <input type=file> is shown as
   a 选择文件 button and the chosen file names (未选择文件 until then). The input itself stays in the
   form, under the button, and is what the button opens. */
(function () {
    "use strict";
    var seq = 0;

    function names(input) {
        var files = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
        return files.length ? files.join("，") : "未选择文件";
    }

    function dress(input) {
        if (input.dataset.dressed) { return; }
        input.dataset.dressed = "1";
        if (!input.id) { input.id = "file-input-" + (++seq); }
        var box = document.createElement("span");
        box.className = "union-file-input";
        var button = document.createElement("label");
        button.className = "btn btn-default btn-sm";
        button.htmlFor = input.id;
        button.textContent = input.multiple ? "选择文件（可多选）" : "选择文件";
        var chosen = document.createElement("span");
        chosen.className = "union-file-chosen text-muted";
        chosen.textContent = names(input);
        input.parentNode.insertBefore(box, input);
        box.appendChild(input);
        box.appendChild(button);
        box.appendChild(chosen);
        input.addEventListener("change", function () { chosen.textContent = names(input); });
    }

    function dressAll() {
        Array.prototype.forEach.call(document.querySelectorAll("input[type=file]"), dress);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", dressAll);
    } else {
        dressAll();
    }
})();
