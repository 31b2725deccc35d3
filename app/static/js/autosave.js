// Questionnaire autosave: answers are saved to the draft as they are typed, with the page's revision fields,
// so the server applies the same optimistic-locking rules as the Save button. Where a save cannot happen
// (offline, session ended, conflict) the typed input is kept in sessionStorage, the browser warns before the
// page is left, and the input is put back (and announced) when the section is opened again.
// Our own file (CSP script-src 'self'); without it the Save buttons and the section bar's buttons still save.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave-url]");
  if (!form) { return; }
  var url = form.getAttribute("data-autosave-url");
  var status = document.getElementById("autosave-status");
  var key = "thb-unsaved:" + form.getAttribute("action");
  var dirty = false;      // input not yet sent successfully
  var failed = false;     // the last attempt did not save
  var inflight = false;
  var again = false;      // input changed while a save was on its way
  var submitting = false; // a Save button was pressed: the normal post takes over
  var timer = null;

  function say(name, unsaved) {
    if (!status) { return; }
    status.textContent = status.getAttribute("data-msg-" + name) || "";
    status.classList.toggle("is-unsaved", !!unsaved);
  }

  function fields() {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && name !== "action" && name !== "goto") { out.push([name, String(value)]); }
    });
    return out;
  }

  function remember() {
    try { sessionStorage.setItem(key, JSON.stringify(fields())); } catch (e) { /* storage full or off */ }
  }

  function forget() {
    try { sessionStorage.removeItem(key); } catch (e) { /* ignore */ }
  }

  function fail(name) {
    failed = true;
    remember();
    say(name, true);
  }

  function save() {
    timer = null;
    if (submitting) { return; }
    if (inflight) { again = true; return; }
    if (!navigator.onLine) { fail("offline"); return; }
    inflight = true;
    again = false;
    dirty = false;
    say("saving", false);
    var body = new FormData(form);
    body.delete("action");
    body.delete("goto");
    fetch(url, { method: "POST", body: body, credentials: "same-origin", redirect: "manual",
                 headers: { "Accept": "application/json", "X-Requested-With": "fetch" } })
      .then(function (r) {
        var json = (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        return (json ? r.json() : Promise.resolve({})).then(function (data) { return { r: r, data: data }; });
      })
      .then(function (res) {
        inflight = false;
        var data = res.data || {};
        if (res.r.ok && data.status === "saved") {
          Object.keys(data.revs || {}).forEach(function (name) {
            var el = form.elements.namedItem(name);
            if (el) { el.value = String(data.revs[name]); }
          });
          var orig = form.elements.namedItem("target_orig");
          if (orig && data.target_orig) { orig.value = String(data.target_orig); }
          if (again || dirty) { dirty = true; schedule(300); return; }
          failed = false;
          forget();
          say("saved", false);
          return;
        }
        dirty = true;
        if (data.status === "conflict" || data.status === "invalid" || data.status === "readonly") {
          failed = true;
          remember();
          if (status) {
            status.textContent = data.message || "";
            status.classList.add("is-unsaved");
          }
          return;
        }
        fail(res.r.status === 0 || res.r.status === 400 || res.r.status === 401 || res.r.status === 403 ||
             res.r.type === "opaqueredirect" ? "session" : "failed");
      })
      .catch(function () {
        inflight = false;
        dirty = true;
        fail(navigator.onLine ? "failed" : "offline");
      });
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(save, ms);
  }

  function changed(ms) {
    return function () {
      dirty = true;
      if (inflight) { again = true; }
      remember();  // kept until the server confirms, so a closed tab or a crash loses nothing
      schedule(ms);
    };
  }

  // Put back what was typed but not saved the last time this section was open.
  function restore() {
    var saved;
    try { saved = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    if (!saved || !saved.length) { return; }
    // Revision fields move on with every save; only what the person typed decides whether anything is lost.
    var typed = function (pairs) {
      return JSON.stringify(pairs.filter(function (p) { return !/^(rev_|target_orig$)/.test(p[0]); }));
    };
    if (typed(fields()) === typed(saved)) { forget(); return; }
    var byName = {};
    saved.forEach(function (pair) { byName[pair[0]] = pair[1]; });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.disabled) { return; }
      if (el.type === "radio") {
        el.checked = Object.prototype.hasOwnProperty.call(byName, el.name) && byName[el.name] === el.value;
      } else if (Object.prototype.hasOwnProperty.call(byName, el.name) && el.type !== "submit") {
        el.value = byName[el.name];
      }
    });
    say("restored", true);
    dirty = true;
    schedule(1500);
  }

  form.addEventListener("input", changed(1200));
  form.addEventListener("change", changed(300));
  form.addEventListener("submit", function () { submitting = true; clearTimeout(timer); });
  window.addEventListener("online", function () { if (dirty || failed) { schedule(200); } });
  window.addEventListener("offline", function () { if (dirty) { fail("offline"); } });
  window.addEventListener("beforeunload", function (event) {
    if (submitting || !(dirty || failed || inflight)) { return undefined; }
    remember();
    event.preventDefault();
    event.returnValue = "";
    return "";
  });
  restore();
}());
