/* Vitrina player's service worker: the player's own files come from the cache when the
 * network (or the server) is away, so a screen rebooted without the server still plays
 * its last manifest (kept by the page in localStorage) and media (in the Cache API). */
var SHELL = "vitrina-player-v1";
var FILES = ["./", "player.js", "player.css"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.addAll(FILES); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (event) {
  var url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin ||
      url.pathname.indexOf("/player/") !== 0) {
    return;   // the device API and media are the page's business
  }
  // Network first (new player versions arrive), the cached copy when it fails.
  event.respondWith(
    fetch(event.request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(SHELL).then(function (cache) { cache.put(event.request, copy); });
      }
      return response;
    })["catch"](function () {
      return caches.match(event.request, { ignoreSearch: true }).then(function (hit) {
        return hit || caches.match("./");
      });
    })
  );
});
