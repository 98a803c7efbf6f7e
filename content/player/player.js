/* Vitrina player: shows a display's manifest full screen and keeps showing it offline.
 *
 * Plain ES5/ES2017 without modules or a build step, for old Smart TV browsers. It pairs
 * (shows a code until an admin places the screen), long-polls the manifest with its ETag,
 * keeps the last manifest in localStorage and the media in the Cache API where there is one,
 * and switches items, alerts and timetable widgets by the clock.
 *
 * On a touch screen a poll takes votes on the screen: one per poll in each kiosk session (a
 * session ends when the screen has been left alone for a minute). Remote actions (reload,
 * clear the cache) arrive in heartbeat replies.
 *
 * Tests drive the clock with ?now=ISO (the clock starts there and runs on) or
 * window.vitrinaSetNow(iso), and send a heartbeat at once with window.vitrinaHeartbeat().
 */
(function () {
  "use strict";

  var API = window.VITRINA_API || "/api/device/v1";
  // ?preview=ID: the admin UI shows display ID's manifest (signed-in, no token, no pairing).
  var PREVIEW = (/[?&]preview=(\d+)/.exec(window.location.search) || [])[1] || null;
  var PREVIEW_EVERY = 10000;
  var WAIT = 25;
  var TICK_MS = 250;
  var HEARTBEAT_EVERY = 60000;
  // A touch holds the current item this long, and a kiosk session ends after SESSION_IDLE.
  var TOUCH_HOLD = 20000;
  var SESSION_IDLE = 60000;
  var TRANSITION_MS = 600;
  var TEXT = {
    ru: {
      pair_title: "Экран ещё не привязан",
      pair_hint: "Введите этот код в Витрине: Экраны → Привязать новый экран",
      stale: "Нет связи с сервером с ",
      lesson: "Урок", brk: "Перемена", before: "До уроков", after: "Уроки закончились",
      none: "Сегодня уроков нет", ends: "до звонка", min: "мин", now: "Сейчас",
      next: "Далее", free_until: "Свободен до ", free_day: "Свободен до конца дня",
      changes: "Замены", no_changes: "Замен нет", vote: "Голосуйте с телефона",
      open: "Наведите камеру телефона", cancelled: "отменён",
      tap: "Коснитесь ответа, чтобы проголосовать", thanks: "Спасибо! Ваш голос учтён.",
      voted: "Вы уже проголосовали", votes: "голосов", failed: "Не получилось: "
    },
    en: {
      pair_title: "This screen is not paired yet",
      pair_hint: "Enter this code in Vitrina: Displays → Pair a new display",
      stale: "No connection to the server since ",
      lesson: "Lesson", brk: "Break", before: "Before lessons", after: "Lessons are over",
      none: "No lessons today", ends: "bell in", min: "min", now: "Now",
      next: "Next", free_until: "Free until ", free_day: "Free for the rest of the day",
      changes: "Changes", no_changes: "No changes", vote: "Vote with your phone",
      open: "Point your phone's camera here", cancelled: "cancelled",
      tap: "Tap an answer to vote", thanks: "Thank you! Your vote is counted.",
      voted: "You have voted", votes: "votes", failed: "That did not work: "
    }
  };

  var storage = PREVIEW ? memoryStorage() : window.localStorage;
  function memoryStorage() {
    var data = {};
    return {
      getItem: function (k) { return data.hasOwnProperty(k) ? data[k] : null; },
      setItem: function (k, v) { data[k] = String(v); },
      removeItem: function (k) { delete data[k]; }
    };
  }
  var state = {
    token: read("token"),
    manifest: parseJSON(read("manifest")),
    etag: read("etag"),
    lastOk: parseInt(read("lastOk") || "0", 10) || 0,
    stale: false,
    current: null,
    shownSince: 0,
    order: 0,
    media: {},
    backoff: 2000,
    polling: false,
    doneAction: parseInt(read("doneAction") || "0", 10) || 0,
    lastTouch: 0,
    session: newSession(),
    voted: {},
    results: {},
    tickerKey: null
  };
  var offset = 0;

  function $(id) { return document.getElementById(id); }
  function read(key) { try { return storage.getItem("vitrina." + key); } catch (e) { return null; } }
  function write(key, value) {
    try {
      if (value === null) { storage.removeItem("vitrina." + key); }
      else { storage.setItem("vitrina." + key, value); }
    } catch (e) { /* a full or disabled storage: play from memory */ }
  }
  function newSession() {
    var out = "", i, chars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    var random = window.crypto && window.crypto.getRandomValues ?
      window.crypto.getRandomValues(new Uint8Array(20)) : null;
    for (i = 0; i < 20; i++) {
      out += chars.charAt((random ? random[i] : Math.floor(Math.random() * 256)) % chars.length);
    }
    return out;
  }
  function parseJSON(text) { try { return text ? JSON.parse(text) : null; } catch (e) { return null; } }

  // --- the clock ---------------------------------------------------------------------------
  (function () {
    var match = /[?&]now=([^&]+)/.exec(window.location.search);
    if (match) { offset = Date.parse(decodeURIComponent(match[1])) - Date.now(); }
  })();
  window.vitrinaSetNow = function (iso) { offset = Date.parse(iso) - Date.now(); tick(); };
  // Send a heartbeat now (tests, and the kiosk agent after it learns of a remote action).
  window.vitrinaHeartbeat = function () { heartbeat(); };
  function now() { return Date.now() + offset; }

  function text(key) {
    var locale = state.manifest ? state.manifest.display.locale : (navigator.language || "ru");
    var table = TEXT[String(locale).slice(0, 2)] || TEXT.ru;
    return table[key] || key;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // Local clock time of an ISO moment as the school sees it (its offset is in the string).
  function clockOf(iso) { var m = /T(\d{2}):(\d{2})/.exec(iso); return m ? m[1] + ":" + m[2] : ""; }
  function schoolClock(t) {
    var tz = state.manifest ? state.manifest.horizon.from.slice(-6) : "+00:00";
    var sign = tz.charAt(0) === "-" ? -1 : 1;
    var mins = sign * (parseInt(tz.slice(1, 3), 10) * 60 + parseInt(tz.slice(4, 6), 10));
    var d = new Date(t + mins * 60000);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  // --- HTTP ----------------------------------------------------------------------------------
  function request(method, url, body, headers, done, timeout) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    xhr.timeout = timeout || 15000;
    var name;
    for (name in headers) { if (headers.hasOwnProperty(name)) { xhr.setRequestHeader(name, headers[name]); } }
    if (body !== null) { xhr.setRequestHeader("Content-Type", "application/json"); }
    xhr.onload = function () { done(xhr.status, xhr); };
    xhr.onerror = function () { done(0, xhr); };
    xhr.ontimeout = function () { done(0, xhr); };
    xhr.send(body === null ? null : JSON.stringify(body));
  }
  function auth() { return { "Authorization": "Bearer " + state.token }; }

  // --- pairing -------------------------------------------------------------------------------
  function startPairing() {
    state.token = null;
    write("token", null);
    $("pairing").hidden = false;
    $("pair-code").textContent = "······";
    request("POST", API + "/pair", {}, {}, function (status, xhr) {
      if (status !== 201) { setTimeout(startPairing, 5000); return; }
      var answer = parseJSON(xhr.responseText);
      $("pair-code").textContent = answer.code;
      waitForPairing(answer.claim, (answer.poll_seconds || 3) * 1000);
    });
  }
  function waitForPairing(claim, every) {
    request("POST", API + "/pair/status", { claim: claim }, {}, function (status, xhr) {
      if (status === 200) {
        state.token = parseJSON(xhr.responseText).token;
        write("token", state.token);
        $("pairing").hidden = true;
        poll();
      } else if (status === 410) {
        startPairing();
      } else {
        setTimeout(function () { waitForPairing(claim, every); }, every);
      }
    });
  }

  // --- the manifest ----------------------------------------------------------------------------
  function poll() {
    if (!state.token || state.polling) { return; }
    state.polling = true;
    var headers = auth();
    if (state.etag && state.manifest) { headers["If-None-Match"] = state.etag; }
    // stale=: what the screen says now, so a kiosk agent answers at once when that is wrong.
    var url = API + "/manifest?wait=" + WAIT + "&stale=" + (state.stale ? 1 : 0);
    request("GET", url, null, headers, function (status, xhr) {
      state.polling = false;
      if (status === 200 || status === 304) {
        // Behind a kiosk agent the answer is local: the agent says since when it has had
        // no connection to the server.
        var since = parseInt(xhr.getResponseHeader("X-Vitrina-Stale-Since") || "", 10);
        state.stale = since > 0;
        state.lastOk = since > 0 ? since : Date.now();
        write("lastOk", String(state.lastOk));
        state.backoff = 2000;
        if (status === 200) {
          state.manifest = parseJSON(xhr.responseText);
          state.etag = xhr.getResponseHeader("ETag");
          write("manifest", xhr.responseText);
          write("etag", state.etag);
          loadMedia();
          state.current = null;
          tick();
        }
        setTimeout(poll, 50);
      } else if (status === 401) {
        state.manifest = null;
        write("manifest", null);
        write("etag", null);
        clearScreen();
        startPairing();
      } else {
        state.stale = true;
        var wait = state.backoff + Math.random() * state.backoff;
        state.backoff = Math.min(state.backoff * 2, 60000);
        setTimeout(poll, wait);
        tick();
      }
    }, (WAIT + 10) * 1000);
  }

  function heartbeat() {
    if (!state.token) { return; }
    var report = { etag: state.etag, client_version: "player-1", done_action: state.doneAction };
    request("POST", API + "/heartbeat", report, auth(), function (status, xhr) {
      var answer = status === 200 ? parseJSON(xhr.responseText) : null;
      var actions = (answer && answer.actions) || [], i;
      for (i = 0; i < actions.length; i++) {
        if (actions[i].id > state.doneAction) { carryOut(actions[i]); return; }
      }
    });
  }

  // A remote action from the fleet page: noted as done first, since it reloads the page.
  function carryOut(action) {
    state.doneAction = action.id;
    write("doneAction", String(action.id));
    if (action.action === "clear_cache") {
      write("manifest", null);
      write("etag", null);
      if (window.caches) {
        window.caches["delete"]("vitrina-media").then(reload, reload);
        return;
      }
    }
    reload();
  }
  function reload() { window.location.reload(); }

  // --- media ---------------------------------------------------------------------------------
  function loadMedia() {
    var list = (state.manifest && state.manifest.media) || [];
    var i;
    for (i = 0; i < list.length; i++) { fetchMedium(list[i].sha256); }
  }
  function fetchMedium(sha) {
    if (state.media[sha]) { return; }
    var path = "/media/" + sha;
    function fromNetwork() {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", PREVIEW ? "/displays/" + PREVIEW + path : API + path, true);
      xhr.responseType = "blob";
      if (!PREVIEW) { xhr.setRequestHeader("Authorization", "Bearer " + state.token); }
      xhr.onload = function () {
        if (xhr.status !== 200) { return; }
        state.media[sha] = URL.createObjectURL(xhr.response);
        if (window.caches && !PREVIEW) {
          window.caches.open("vitrina-media").then(function (c) {
            return c.put(API + path, new Response(xhr.response));
          })["catch"](function () { /* no room: it stays in memory */ });
        }
        state.current = null;
      };
      xhr.send();
    }
    if (window.caches && !PREVIEW) {
      window.caches.open("vitrina-media").then(function (c) { return c.match(API + path); })
        .then(function (hit) {
          if (!hit) { fromNetwork(); return; }
          return hit.blob().then(function (blob) {
            state.media[sha] = URL.createObjectURL(blob);
            state.current = null;   // show it now, not when the item comes round again
          });
        })["catch"](fromNetwork);
    } else {
      fromNetwork();
    }
  }

  // --- what is on ------------------------------------------------------------------------------
  function live(entry, t) {
    var w = entry.windows, i;
    for (i = 0; i < w.length; i++) {
      if (Date.parse(w[i][0]) <= t && t < Date.parse(w[i][1])) { return true; }
    }
    return false;
  }
  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (content !== undefined && content !== null) { node.textContent = content; }
    return node;
  }
  function clearScreen() {
    $("main").innerHTML = "";
    $("widget").innerHTML = "";
    $("bell").textContent = "";
    $("alert").hidden = true;
    $("ticker").hidden = true;
    state.tickerKey = null;
  }

  function touchScreen() { return !PREVIEW && state.manifest && state.manifest.display.touch; }

  function renderItem(item) {
    var main = $("main"), i;
    var transition = (state.manifest && state.manifest.display.transition) || "none";
    var old = main.children, same = old.length &&
      old[old.length - 1].getAttribute("data-item") === String(item.id);
    if (transition === "none" || same) {
      main.innerHTML = "";
    } else {
      for (i = 0; i < old.length; i++) { leave(old[i], transition); }
    }
    var box = el("section", "item item-" + item.kind);
    if (transition !== "none" && !same) { box.className += " enter-" + transition; }
    box.setAttribute("data-item", item.id);
    if (item.media) {
      var url = state.media[item.media.sha256];
      if (url && item.media.kind === "video") {
        var video = el("video", "media fit-" + (item.fit || "contain"));
        video.src = url; video.autoplay = true; video.muted = true; video.loop = true;
        box.appendChild(video);
      } else if (url) {
        var img = el("img", item.kind === "media" ? "media fit-" + (item.fit || "contain") : "news-image");
        img.src = url; img.alt = "";
        box.appendChild(img);
      }
    }
    if (item.kind !== "media" || !item.media) { box.appendChild(el("h1", "title", item.title)); }
    if (item.body) {
      var body = el("div", "body");
      body.innerHTML = item.body;   // sanitised on the server with an allow-list
      box.appendChild(body);
    }
    if (item.options) {
      box.appendChild(touchScreen() && item.kind === "poll" ? touchOptions(item) : plainOptions(item));
    }
    if (item.qa) {
      var n = Math.floor((now() / 1000) / 8) % item.qa.length;
      box.appendChild(el("p", "question", item.qa[n].question));
      box.appendChild(el("p", "answer", item.qa[n].answer));
    }
    if (item.qr && item.qr.svg && !(touchScreen() && item.kind === "poll")) {
      var qr = el("figure", "qr");
      qr.innerHTML = item.qr.svg;   // made by the server
      qr.appendChild(el("figcaption", null, item.kind === "poll" ? text("vote") : text("open")));
      box.appendChild(qr);
    }
    main.appendChild(box);
  }

  function leave(node, transition) {
    if (node.className.indexOf(" leaving") >= 0) { return; }
    node.className = node.className.replace(/ enter-\w+/, "") + " leaving leave-" + transition;
    setTimeout(function () { if (node.parentNode) { node.parentNode.removeChild(node); } },
               TRANSITION_MS);
  }

  function optionLabel(option) { return typeof option === "string" ? option : option.label; }

  function plainOptions(item) {
    var list = el("ol", "options"), i;
    for (i = 0; i < item.options.length; i++) { list.appendChild(el("li", null, optionLabel(item.options[i]))); }
    return list;
  }

  // A poll on a touch screen: answers are buttons until this session has voted, then results.
  function touchOptions(item) {
    var box = el("div", "touch-poll"), i;
    var results = state.results[item.id];
    if (state.voted[item.id] === state.session && results) {
      box.appendChild(el("p", "touch-note", results.message || text("thanks")));
      var total = results.total || 0;
      for (i = 0; i < results.options.length; i++) {
        var o = results.options[i], row = el("div", "result-row");
        var share = total ? Math.round(100 * o.votes / total) : 0;
        row.appendChild(el("span", "result-label", o.label));
        var bar = el("span", "result-bar");
        bar.style.width = share + "%";
        row.appendChild(bar);
        row.appendChild(el("span", "result-count", o.votes + " · " + share + "%"));
        box.appendChild(row);
      }
      return box;
    }
    box.appendChild(el("p", "touch-note", results && results.error ? text("failed") + results.error : text("tap")));
    for (i = 0; i < item.options.length; i++) {
      var option = item.options[i];
      if (typeof option === "string") { continue; }
      var button = el("button", "vote-button", option.label);
      button.type = "button";
      button.setAttribute("data-option", option.id);
      button.onclick = voteHandler(item, option.id);
      box.appendChild(button);
    }
    return box;
  }

  function voteHandler(item, optionId) {
    return function () {
      var session = state.session;
      var buttons = $("main").querySelectorAll(".vote-button"), i;
      for (i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
      request("POST", API + "/vote", { item_id: item.id, option_id: optionId, session: session },
              auth(), function (status, xhr) {
        var answer = parseJSON(xhr.responseText) || {};
        if (status === 201) {
          state.voted[item.id] = session;
          state.results[item.id] = answer;
        } else if (status === 422 && session === state.session) {
          // Voted already in this session (another tab, a double tap): show where it stands.
          state.voted[item.id] = session;
          state.results[item.id] = { options: [], total: 0, message: text("voted") };
        } else {
          state.results[item.id] = { error: answer.message || String(status || "offline") };
        }
        state.lastTouch = Date.now();
        renderItem(item);
      });
    };
  }

  function renderTicker(t) {
    var items = state.manifest.items, i, titles = [];
    for (i = 0; i < items.length; i++) {
      if (items[i].zone === "ticker" && live(items[i], t)) { titles.push(items[i].title); }
    }
    var key = titles.join("\u0000");
    if (key === state.tickerKey) { return; }
    state.tickerKey = key;
    var ticker = $("ticker"), run = $("ticker-run");
    ticker.hidden = !titles.length;
    run.textContent = titles.join("   •   ");
    // About eight characters a second, however long the line is.
    run.style.animationDuration = Math.max(12, Math.round(key.length / 8) + 10) + "s";
    run.style.webkitAnimationDuration = run.style.animationDuration;
  }

  function renderAlert(alert) {
    var box = $("alert");
    if (!alert) { box.hidden = true; box.removeAttribute("data-item"); return; }
    if (box.getAttribute("data-item") === String(alert.id) && !box.hidden) { return; }
    box.innerHTML = "";
    box.className = "alert-overlay sev-" + (alert.severity || "critical");
    box.setAttribute("data-item", alert.id);
    box.appendChild(el("h1", null, alert.title));
    if (alert.body) { box.appendChild(el("p", null, alert.body)); }
    box.hidden = false;
  }

  function today(t) {
    var tt = state.manifest && state.manifest.timetable;
    if (!tt) { return null; }
    var clock = schoolClock(t), i, day = null;
    var date = new Date(t + (Date.parse(state.manifest.horizon.from.slice(0, 19) + "Z") - Date.parse(state.manifest.horizon.from))).toISOString().slice(0, 10);
    for (i = 0; i < tt.days.length; i++) { if (tt.days[i].date === date) { day = tt.days[i]; } }
    return { day: day, clock: clock };
  }

  function renderBell(t) {
    var info = today(t), bell = $("bell");
    if (!info || !info.day || !info.day.school_day || !info.day.bells.length) {
      bell.textContent = info ? text("none") : ""; bell.setAttribute("data-phase", "none"); return;
    }
    var bells = info.day.bells, i, phase = "after", label = text("after"), next = null;
    for (i = 0; i < bells.length; i++) {
      var s = Date.parse(bells[i].start), e = Date.parse(bells[i].end);
      if (t < s) { phase = i === 0 ? "before" : "break"; label = text(i === 0 ? "before" : "brk"); next = s; break; }
      if (t < e) { phase = "lesson"; label = text("lesson") + " " + bells[i].period; next = e; break; }
    }
    bell.setAttribute("data-phase", phase);
    bell.textContent = next === null ? label :
      label + " · " + text("ends") + " " + Math.ceil((next - t) / 60000) + " " + text("min");
  }

  function renderWidget(t) {
    var tt = state.manifest && state.manifest.timetable, box = $("widget");
    box.innerHTML = "";
    if (!tt) { return; }
    var info = today(t), slots = (info && info.day) ? info.day.slots : [], i;
    if (tt.target.kind === "room") {
      var current = null, upcoming = null;
      for (i = 0; i < slots.length; i++) {
        var s = slots[i];
        if (s.status === "cancelled" || s.status === "moved_out" || s.room !== tt.target.key) { continue; }
        if (Date.parse(s.start) <= t && t < Date.parse(s.end)) { current = s; }
        else if (Date.parse(s.start) > t && !upcoming) { upcoming = s; }
      }
      box.appendChild(el("h2", null, tt.target.key));
      if (current) {
        box.appendChild(el("p", "now", text("now") + ": " + current.subject + " · " + current.group));
      } else {
        box.appendChild(el("p", "now", upcoming ? text("free_until") + clockOf(upcoming.start) : text("free_day")));
      }
      if (upcoming && current) { box.appendChild(el("p", "next", text("next") + ": " + clockOf(upcoming.start) + " " + upcoming.subject)); }
    } else if (tt.target.kind === "school") {
      box.appendChild(el("h2", null, text("changes")));
      var board = tt.changes.length ? tt.changes[0].classes : [];
      if (!board.length) { box.appendChild(el("p", "muted", text("no_changes"))); }
      for (i = 0; i < board.length; i++) {
        var row = el("p", "change-row"), j;
        row.appendChild(el("strong", null, board[i]["class"] + " "));
        for (j = 0; j < board[i].slots.length; j++) {
          var c = board[i].slots[j];
          row.appendChild(el("span", "status-" + c.status, c.period + ". " + c.subject +
            (c.status === "cancelled" ? " — " + text("cancelled") : " — " + c.teacher + ", " + c.room) + " "));
        }
        box.appendChild(row);
      }
    } else {
      var list = el("ol", "day");
      for (i = 0; i < slots.length; i++) {
        var x = slots[i], li = el("li", "slot status-" + x.status,
          clockOf(x.start) + " " + x.subject + " · " + x.room);
        if (Date.parse(x.start) <= t && t < Date.parse(x.end)) { li.className += " current"; }
        list.appendChild(li);
      }
      box.appendChild(el("h2", null, tt.target.key));
      box.appendChild(list);
    }
  }

  function powered(t) {
    var p = state.manifest.display.power, clock = schoolClock(t);
    if (!p.on && !p.off) { return true; }
    var on = p.on || "00:00", off = p.off || "24:00";
    return on <= off ? (clock >= on && clock < off) : (clock >= on || clock < off);
  }

  function tick() {
    var t = now();
    var stale = $("stale");
    if (state.stale && state.lastOk) {
      stale.hidden = false;
      stale.textContent = text("stale") + schoolClock(state.lastOk);
    } else {
      stale.hidden = true;
    }
    if (!state.manifest) { return; }
    $("dark").hidden = powered(t);
    $("clock").textContent = schoolClock(t);
    var alerts = state.manifest.alerts, items = state.manifest.items, i, alert = null;
    for (i = 0; i < alerts.length && !alert; i++) { if (live(alerts[i], t)) { alert = alerts[i]; } }
    renderAlert(alert);
    var shown = [];
    for (i = 0; i < items.length; i++) {
      if (items[i].zone !== "ticker" && live(items[i], t)) { shown.push(items[i]); }
    }
    var current = state.current;
    var stillOn = false;
    for (i = 0; i < shown.length; i++) { if (current && shown[i].id === current.id) { stillOn = true; } }
    var held = stillOn && Date.now() - state.lastTouch < TOUCH_HOLD;
    if (state.lastTouch && Date.now() - state.lastTouch >= SESSION_IDLE) {
      // The person has walked away: the next one votes afresh.
      state.session = newSession();
      state.lastTouch = 0;
    }
    if (!stillOn || (!held && Date.now() - state.shownSince >= current.duration * 1000)) {
      var next = null;
      if (shown.length) {
        state.order = stillOn ? (state.order + 1) % shown.length : Math.min(state.order, shown.length - 1);
        next = shown[state.order];
      }
      state.current = next;
      state.shownSince = Date.now();
      if (next) { renderItem(next); } else { $("main").innerHTML = ""; }
    }
    renderTicker(t);
    $("screen").className = "screen layout-" + state.manifest.display.layout +
      ($("ticker").hidden ? "" : " has-ticker");
    renderBell(t);
    renderWidget(t);
    document.documentElement.lang = state.manifest.display.locale;
  }

  function preview() {
    request("GET", "/displays/" + PREVIEW + "/manifest.json", null, {}, function (status, xhr) {
      if (status === 200) {
        state.manifest = parseJSON(xhr.responseText);
        state.lastOk = Date.now();
        state.stale = false;
        loadMedia();
        tick();
      } else {
        state.stale = true;
      }
      setTimeout(preview, PREVIEW_EVERY);
    });
  }

  function registerWorker() {
    if (PREVIEW || !("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.register("sw.js").then(null, function () {
      /* without it the player still plays; it just needs the network to start */
    });
  }

  function touched() { state.lastTouch = Date.now(); }

  function start() {
    registerWorker();
    var nodes = document.querySelectorAll("[data-text]"), i;
    for (i = 0; i < nodes.length; i++) { nodes[i].textContent = text(nodes[i].getAttribute("data-text")); }
    setInterval(tick, TICK_MS);
    if (PREVIEW) { preview(); return; }
    setInterval(heartbeat, HEARTBEAT_EVERY);
    document.addEventListener("pointerdown", touched, true);
    document.addEventListener("touchstart", touched, true);
    document.addEventListener("mousedown", touched, true);
    if (state.manifest) { loadMedia(); tick(); }
    if (state.token) { poll(); heartbeat(); } else { startPairing(); }
  }
  start();
})();
