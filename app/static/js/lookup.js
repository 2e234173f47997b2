// Turns <select class="union-lookup" data-endpoint=…> inserted by FAB's search
// filters into a select2 that queries the scoped lookup endpoint as one types.
(function ($) {
  function init(el) {
    var $el = $(el);
    if ($el.data("lookup-ready")) { return; }
    $el.data("lookup-ready", true);
    var endpoint = $el.data("endpoint");
    var current = new URLSearchParams(window.location.search).get($el.attr("name"));
    var start = function () {
      $el.select2({
        theme: "bootstrap", allowClear: true, placeholder: "输入名称搜索", minimumInputLength: 0,
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
    var form = document.getElementById("filter_form");
    if (!form) { return; }
    $(".union-lookup", form).each(function () { if ($(this).attr("name")) { init(this); } });
    new MutationObserver(function () {
      $(".union-lookup", form).each(function () { if ($(this).attr("name")) { init(this); } });
    }).observe(form, { childList: true, subtree: true, attributes: true, attributeFilter: ["name"] });
  });
})(jQuery);
