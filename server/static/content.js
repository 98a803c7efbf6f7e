/* Content pages: tick all rows, and live poll results. */
(function () {
  'use strict';
  document.querySelectorAll('input[data-check-all]').forEach(function (all) {
    var name = all.getAttribute('data-check-all');
    all.addEventListener('change', function () {
      all.form.querySelectorAll('input[name="' + name + '"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
  var results = document.querySelector('[data-results]');
  if (!results) { return; }
  function refresh() {
    fetch(results.getAttribute('data-results'), { credentials: 'same-origin',
                                                  headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.options.forEach(function (o) {
          var row = results.querySelector('[data-option="' + o.id + '"]');
          if (!row) { return; }
          row.querySelector('.result-n').textContent = o.votes;
          var bar = row.querySelector('progress');
          bar.max = data.total || 1;
          bar.value = o.votes;
        });
        results.querySelector('[data-total]').textContent = data.total;
      })
      .catch(function () { /* try again at the next tick */ });
  }
  window.setInterval(refresh, 5000);
}());
