// Turns every <select class="union-lookup" data-endpoint=…> (list filters inserted by FAB's
// search widget, and form fields) into a select2 that queries the scoped lookup endpoint as
// one types. A form field arrives with its current choice as the selected option; a list
// filter's current id comes from the URL and its text from the endpoint.
(function ($) {
  var chinese = {
    noResults: function () { return "没有匹配的记录"; },
    searching: function () { return "正在搜索…"; },
    errorLoading: function () { return "暂时无法加载，请稍后重试"; },
    inputTooShort: function () { return "请输入搜索内容"; },
    loadingMore: function () { return "正在加载…"; },
    maximumSelected: function () { return "已达到可选数量上限"; },
    removeAllItems: function () { return "清除全部"; }
  };
  // before the page's ready handlers run: FAB's own select2 fields speak Chinese too
  if ($.fn.select2 && $.fn.select2.defaults) { $.fn.select2.defaults.set("language", chinese); }
  function init(el) {
    var $el = $(el);
    if ($el.data("lookup-ready")) { return; }
    $el.data("lookup-ready", true);
    var endpoint = $el.data("endpoint");
    var start = function () {
      $el.select2({
        theme: "bootstrap", allowClear: true, minimumInputLength: parseInt($el.data("min-input") || 0, 10),
        placeholder: $el.data("placeholder") || "输入名称搜索",
        language: chinese,
        ajax: { url: endpoint, dataType: "json", delay: 250,
                data: function (p) {
                  var args = { q: p.term || "" }, other = $el.data("depends-on");
                  // a dependent choice (unit of the chosen union): the other field's value goes along
                  if (other) { args[other] = $el.closest("form").find("[name='" + other + "']").val() || ""; }
                  return args;
                },
                processResults: function (data) { return { results: data }; } }
      });
    };
    var current = $el.find("option[selected]").length ? null
      : new URLSearchParams(window.location.search).get($el.attr("name"));
    if (current) {
      $.getJSON(endpoint, { id: current }, function (data) {
        if (data.length) { $el.append(new Option(data[0].text, data[0].id, true, true)); }
        start();
      });
    } else { start(); }
    var other = $el.data("depends-on");
    if (other) {
      $el.closest("form").find("[name='" + other + "']").on("change", function () {
        $el.val(null).trigger("change");  // a unit of the union chosen before no longer fits
      });
    }
  }
  function initAll(root) {
    $(".union-lookup", root).each(function () {
      // FAB's filter template is cloned before it gets a name: wait for the name
      if ($(this).attr("name")) { init(this); }
    });
  }
  $(function () {
    initAll(document);
    var form = document.getElementById("filter_form");
    if (!form) { return; }
    new MutationObserver(function () { initAll(form); })
      .observe(form, { childList: true, subtree: true, attributes: true, attributeFilter: ["name"] });
  });
})(jQuery);
