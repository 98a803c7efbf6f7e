/* A photo batch being checked: ask the server to check the next files until all are
   done, showing how far it is, then show the result. Without this script the page's
   "Continue checking" button does the same one step at a time. */
(function () {
  "use strict";
  var panel = document.querySelector("[data-check-url]");
  if (!panel) { return; }
  var form = document.getElementById("batch-continue");
  var bar = document.getElementById("batch-bar");
  var count = document.getElementById("batch-count");
  var token = form.querySelector("input[name=csrf_token]").value;
  form.hidden = true;
  var failures = 0;
  var step = function () {
    var body = new FormData();
    body.append("csrf_token", token);
    fetch(panel.getAttribute("data-check-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (state) {
      failures = 0;
      bar.max = state.total || 1;
      bar.value = state.done;
      count.textContent = state.done + " / " + state.total;
      if (state.status === "checking") { step(); } else { window.location.reload(); }
    }).catch(function () {
      failures += 1;
      if (failures < 5) { setTimeout(step, 2000 * failures); } else { form.hidden = false; }
    });
  };
  step();
})();
