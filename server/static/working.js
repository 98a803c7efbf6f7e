/* Forms that start long work (a sync of a big school) say so while the server works:
   a progress bar and the seconds spent, and the button cannot be pressed twice. A form
   with data-progress gets a made-up token sent along, and the bar follows what the
   server reports under data-progress + token (what it is doing, how many of how many). */
(function () {
  "use strict";
  function token() {
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  var forms = document.querySelectorAll("form[data-working]");
  Array.prototype.forEach.call(forms, function (form) {
    var field = null;
    if (form.hasAttribute("data-progress") && window.crypto && window.fetch) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "progress";
      form.appendChild(field);
    }
    form.addEventListener("submit", function () {
      var box = form.querySelector(".working");
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      if (!box) { return; }
      var label = box.querySelector("span");
      var bar = box.querySelector("progress");
      var started = Date.now();
      var doing = form.getAttribute("data-working");
      box.hidden = false;
      var show = function () {
        label.textContent = doing + " " + Math.round((Date.now() - started) / 1000) + " s";
      };
      show();
      setInterval(show, 1000);
      if (!field) { return; }
      field.value = token();
      var url = form.getAttribute("data-progress") + field.value;
      var poll = function () {
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (state) {
            if (state) {
              doing = state.label;
              bar.max = state.total || 1;
              bar.value = state.done;
              box.setAttribute("data-step", state.step);
              show();
            }
            setTimeout(poll, 500);
          })
          .catch(function () { setTimeout(poll, 1500); });
      };
      setTimeout(poll, 300);
    });
  });
})();
