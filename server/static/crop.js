/* The 3:4 crop frame over a chosen photo: drag it, size it with the slider; the form sends
   the frame as fractions of the picture and the server crops from the original. */
(function () {
  "use strict";
  var input = document.getElementById("f-photo");
  if (!input) { return; }
  var stage = document.getElementById("crop-stage"), img = document.getElementById("crop-image");
  var frame = document.getElementById("crop-frame"), zoom = document.getElementById("crop-zoom");
  var empty = document.getElementById("crop-empty");
  var ASPECT = 3 / 4, box = { x: 0, y: 0, w: 0, h: 0 }, drag = null;

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
