// Workshop mode: refreshes the trainer's live board, saves a participant's answer as soon as it is chosen,
// and tells participants when the trainer opens another recommendation or closes the workshop.
// Our own file (CSP script-src 'self'); every page also works without it (reload, Save buttons).
(function () {
  "use strict";

  function text(el, name, fallback) {
    return (el && el.getAttribute(name)) || fallback || "";
  }

  // ---- trainer: live board -------------------------------------------------------------------------
  var board = document.querySelector("[data-refresh-url]");
  if (board) {
    var url = board.getAttribute("data-refresh-url");
    var every = Math.max(1000, parseInt(board.getAttribute("data-interval") || "3000", 10));
    var live = document.querySelector("[data-live-status]");
    var failures = 0;
    var timer = null;
    var busy = false;

    var setLive = function (message, stale) {
      if (!live) { return; }
      live.textContent = message;
      live.classList.toggle("is-stale", !!stale);
    };
    var schedule = function (ms) {
      clearTimeout(timer);
      timer = setTimeout(refresh, ms);
    };
    var refresh = function () {
      if (document.hidden || busy) { schedule(every); return; }
      busy = true;
      fetch(url, { credentials: "same-origin", redirect: "manual",
                   headers: { "Accept": "text/html", "X-Requested-With": "fetch" } })
        .then(function (r) {
          if (r.type === "opaqueredirect" || r.status === 401 || r.status === 403) { throw new Error("session"); }
          if (!r.ok) { throw new Error("http"); }
          return r.text();
        })
        .then(function (html) {
          board.innerHTML = html;
          failures = 0;
          var stamp = board.querySelector("[data-board-stamp]");
          setLive(text(live, "data-msg-live") + " " + text(stamp, "data-board-stamp"), false);
          // The board is in use: let the idle-session warning know (see session.js).
          document.dispatchEvent(new Event("thb:activity"));
          schedule(every);
        })
        .catch(function (err) {
          busy = false;
          if (err && err.message === "session") { setLive(text(live, "data-msg-ended"), true); return; }
          failures += 1;
          setLive(text(live, "data-msg-stale"), true);
          schedule(Math.min(30000, every * Math.pow(2, failures)));
        })
        .then(function () { busy = false; });
    };
    schedule(every);
  }

  // ---- participant: the "saved" notice -------------------------------------------------------------
  // It travels in the address (?saved=N, see views.answer); once shown, drop it from the address so that
  // reloading the page does not announce the same save again.
  if (window.history && history.replaceState && window.URL && /[?&]saved=/.test(location.search)) {
    var here = new URL(location.href);
    here.searchParams.delete("saved");
    history.replaceState(history.state, "", here.pathname + here.search + here.hash);
  }

  // ---- participant: save on choice -----------------------------------------------------------------
  var form = document.querySelector("form[data-autosave]");
  var banner = document.querySelector("[data-banner]");
  var root = document.querySelector("[data-status-url]");

  var showBanner = function (message, href, linkText) {
    if (!banner) { return; }
    banner.textContent = message;
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = linkText;
      banner.appendChild(a);
    }
    banner.hidden = false;
  };
  var lockForm = function () {
    if (!form) { return; }
    var sets = form.querySelectorAll("fieldset");
    for (var i = 0; i < sets.length; i++) { sets[i].disabled = true; }
    var actions = form.querySelector(".form-actions");
    if (actions) { actions.hidden = true; }
  };

  if (form) {
    var token = form.querySelector("input[name=ft]");
    form.addEventListener("change", function (ev) {
      var input = ev.target;
      if (!input || input.type !== "radio" || !token) { return; }
      var note = form.querySelector("[data-saved-for='" + input.name + "']");
      var body = new URLSearchParams();
      body.append("ft", token.value);
      body.append(input.name, input.value);
      if (note) { note.textContent = text(root, "data-msg-saving"); note.classList.remove("is-error"); }
      fetch(form.getAttribute("action"), { method: "POST", credentials: "same-origin", body: body,
                           headers: { "X-Requested-With": "fetch", "Accept": "application/json" } })
        .then(function (r) { return r.json().then(function (data) { return { status: r.status, data: data }; }); })
        .then(function (res) {
          if (res.status === 200 && res.data.ok) {
            if (note) { note.textContent = "✓ " + res.data.message; }
            return;
          }
          if (note) { note.textContent = res.data.error || text(root, "data-msg-error"); note.classList.add("is-error"); }
          if (res.status === 409) { showBanner(res.data.error || ""); lockForm(); }
        })
        .catch(function () {
          if (note) { note.textContent = text(root, "data-msg-error"); note.classList.add("is-error"); }
        });
    });
  }

  // ---- participant: follow the trainer ---------------------------------------------------------------
  if (root) {
    var statusUrl = root.getAttribute("data-status-url");
    var current = parseInt(root.getAttribute("data-current") || "0", 10);
    var state = root.getAttribute("data-state");
    var lastOpen = null;
    var poll = function () {
      if (document.hidden) { setTimeout(poll, 5000); return; }
      fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("http"); } return r.json(); })
        .then(function (s) {
          if (s.status !== state) {
            if (s.status === "closed") {
              showBanner(text(root, "data-msg-closed"));
              lockForm();
            } else {
              showBanner(text(root, "data-msg-reopened"), window.location.href, text(root, "data-msg-reload"));
            }
            state = s.status;
          } else if (s.status === "open" && s.pacing === "one" && s.open.length === 1) {
            var n = s.open[0];
            var key = String(n);
            if (n !== current && key !== lastOpen) {
              showBanner(text(root, "data-msg-moved").replace("%n", key), s.home + "r/" + key,
                         text(root, "data-msg-go").replace("%n", key));
              if (current) { lockForm(); }
            }
            lastOpen = key;
          }
          setTimeout(poll, 5000);
        })
        .catch(function () { setTimeout(poll, 15000); });
    };
    setTimeout(poll, 5000);
  }
})();
