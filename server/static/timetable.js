// The changes screen: show only the fields a kind of change needs, and check the
// change as it is typed (the lesson it touches, clashes it would cause).
(function () {
  "use strict";
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  var form = document.getElementById("change-form");
  if (!form) { return; }
  var kind = form.querySelector("[name=kind]");
  var out = document.getElementById("change-check");
  function showFields() {
    form.querySelectorAll("[data-for]").forEach(function (box) {
      var wanted = box.getAttribute("data-for").split(" ").indexOf(kind.value) >= 0;
      box.hidden = !wanted;
    });
  }
  var timer = null;
  var asked = 0;
  function check() {
    var params = new URLSearchParams();
    ["date", "kind", "group", "period", "teacher", "room", "subject", "new_date", "new_period"]
      .forEach(function (name) {
        var el = form.querySelector("[name=" + name + "]");
        if (el && !el.closest("[hidden]") && el.value.trim() !== "") {
          params.set(name, el.value.trim());
        }
      });
    if (!params.get("group") || !params.get("period")) { out.textContent = ""; return; }
    var mine = ++asked;
    fetch(form.getAttribute("data-check-url") + "?" + params.toString(),
          { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (mine !== asked) { return; }
        out.innerHTML = "";
        out.className = "check";
        var lines = [];
        if (!data.ok) {
          Object.keys(data.errors).forEach(function (k) { lines.push(data.errors[k]); });
          out.classList.add("check-error");
        } else if (data.conflicts.length) {
          lines = data.conflicts.map(function (c) {
            return out.getAttribute("data-msg-clash") + " " + c;
          });
          out.classList.add("check-warn");
        } else {
          lines.push(out.getAttribute("data-msg-ok"));
          out.classList.add("check-ok");
        }
        lines.forEach(function (text) {
          var p = document.createElement("p");
          p.textContent = text;
          out.appendChild(p);
        });
      })
      .catch(function () { /* the server will say it on saving */ });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  }
  kind.addEventListener("change", function () { showFields(); later(); });
  form.addEventListener("input", later);
  showFields();
  later();
})();
