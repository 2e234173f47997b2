// Turns <select class="union-lookup" data-endpoint=…> inserted by FAB's search
// filters (or placed on a page: data-min-input, data-placeholder) into a select2 that
// queries the scoped lookup endpoint as one types, with Chinese prompts.
(function ($) {
  var ZH = {
    inputTooShort: function (a) { return "请至少输入 " + (a.minimum - a.input.length) + " 个字"; },
    noResults: function () { return "未找到匹配的记录"; }, searching: function () { return "搜索中…"; },
    errorLoading: function () { return "无法载入结果"; }, removeAllItems: function () { return "清除"; }
  };
  function init(el) {
    var $el = $(el);
    if ($el.data("lookup-ready")) { return; }
    $el.data("lookup-ready", true);
    var endpoint = $el.data("endpoint");
    var current = new URLSearchParams(window.location.search).get($el.attr("name"));
    var start = function () {
      $el.select2({
        theme: "bootstrap", allowClear: true, placeholder: $el.data("placeholder") || "输入名称搜索",
        minimumInputLength: $el.data("min-input") || 0, language: ZH,
        ajax: { url: endpoint, dataType: "json", delay: 250,
                data: function (p) { return { q: p.term || "" }; },
                processResults: function (data) { return { results: data }; } }
      });
    };
    if (current) {
      $.getJSON(endpoint, { id: current }, function (data) {
        if (data.length) { $el.append(new Option(data[0].text, data[0].id, true, true)); }
        start();
      });
    } else { start(); }
  }
  $(function () {
    $(".union-lookup").not("#filter_form .union-lookup").each(function () { init(this); });
    var form = document.getElementById("filter_form");
    if (!form) { return; }
    $(".union-lookup", form).each(function () { if ($(this).attr("name")) { init(this); } });
    new MutationObserver(function () {
      $(".union-lookup", form).each(function () { if ($(this).attr("name")) { init(this); } });
    }).observe(form, { childList: true, subtree: true, attributes: true, attributeFilter: ["name"] });
  });
})(jQuery);
