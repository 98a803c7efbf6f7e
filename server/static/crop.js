/* The card-shaped (3:4 by default) crop frame over a chosen photo: drag it, size it with the slider; the form sends
   the frame as fractions of the picture and the server crops from the original. */
(function () {
  "use strict";
  var input = document.getElementById("f-photo");
  if (!input) { return; }
  var stage = document.getElementById("crop-stage"), img = document.getElementById("crop-image");
  var frame = document.getElementById("crop-frame"), zoom = document.getElementById("crop-zoom");
  var empty = document.getElementById("crop-empty");
  var ASPECT = parseFloat(stage.getAttribute("data-aspect")) || 3 / 4;
  var box = { x: 0, y: 0, w: 0, h: 0 }, drag = null;

  function fit() {
    var W = img.clientWidth, H = img.clientHeight;
    if (!W || !H) { return; }
    var scale = zoom.value / 100;
    var h = Math.min(H, W / ASPECT) * scale, w = h * ASPECT;
    box.w = w; box.h = h;
    box.x = Math.min(Math.max(box.x, 0), W - w);
    box.y = Math.min(Math.max(box.y, 0), H - h);
    frame.style.left = box.x + "px"; frame.style.top = box.y + "px";
    frame.style.width = w + "px"; frame.style.height = h + "px";
    var fields = { x0: box.x / W, y0: box.y / H, x1: (box.x + w) / W, y1: (box.y + h) / H };
    Object.keys(fields).forEach(function (k) {
      document.getElementById("crop-" + k).value = fields[k].toFixed(4);
    });
  }
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) { return; }
    img.onload = function () {
      stage.hidden = false; empty.hidden = true;
      box.x = (img.clientWidth - Math.min(img.clientHeight, img.clientWidth / ASPECT) * ASPECT) / 2;
      box.y = 0;
      fit();
    };
    img.src = URL.createObjectURL(file);   /* the browser turns it upright by its EXIF */
  });
  zoom.addEventListener("input", fit);
  frame.addEventListener("pointerdown", function (e) {
    drag = { x: e.clientX - box.x, y: e.clientY - box.y };
    frame.setPointerCapture(e.pointerId);
  });
  frame.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    box.x = e.clientX - drag.x; box.y = e.clientY - drag.y;
    fit();
  });
  frame.addEventListener("pointerup", function () { drag = null; });
})();

/* Webcam capture where the browser allows it: a still from the camera becomes the chosen
   picture (and the crop frame goes over it), as if it had been picked as a file. */
(function () {
  "use strict";
  var open = document.getElementById("camera-open"), input = document.getElementById("f-photo");
  if (!open || !input || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia ||
      typeof DataTransfer === "undefined") { return; }
  var panel = document.getElementById("camera"), video = document.getElementById("camera-video");
  var error = document.getElementById("camera-error"), stream = null;
  open.hidden = false;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null; panel.hidden = true;
  }
  open.addEventListener("click", function () {
    panel.hidden = false; error.hidden = true;
    navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1920 }, height: { ideal: 1080 } } })
      .then(function (s) { stream = s; video.srcObject = s; })
      .catch(function () { error.hidden = false; });
  });
  document.getElementById("camera-close").addEventListener("click", stop);
  document.getElementById("camera-take").addEventListener("click", function () {
    if (!stream || !video.videoWidth) { return; }
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) {
      var files = new DataTransfer();
      files.items.add(new File([blob], "camera.jpg", { type: "image/jpeg" }));
      input.files = files.files;
      input.dispatchEvent(new Event("change"));
      stop();
    }, "image/jpeg", 0.92);
  });
})();
