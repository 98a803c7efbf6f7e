/* Forms that start long work (a sync of a big school) say so while the server works:
   a progress bar and the seconds spent, and the button cannot be pressed twice. */
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-working]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function () {
      var box = form.querySelector(".working");
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      if (!box) { return; }
      var label = box.querySelector("span");
      var started = Date.now();
      box.hidden = false;
      var show = function () {
        label.textContent = form.getAttribute("data-working") + " " +
          Math.round((Date.now() - started) / 1000) + " s";
      };
      show();
      setInterval(show, 1000);
    });
  });
})();
