// "Being prepared" page of a report rendered off the request (issue 16): asks the status address every few
// seconds and, once the file is ready, fetches it (the browser downloads it) and says so in the live region.
// Without this script the page's button downloads the file (or shows this page again while it is not ready).
(function () {
  "use strict";
  var box = document.getElementById("report-preparing");
  if (!box || !window.fetch) { return; }
  var script = document.currentScript || document.querySelector("script[data-ready]");
  var readyText = script ? script.getAttribute("data-ready") : "";
  var status = box.getAttribute("data-status");
  var file = box.getAttribute("data-file");
  var live = document.getElementById("report-preparing-status");
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(status, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : { ready: false }; })
      .then(function (data) {
        if (data && data.ready) {
          if (live && readyText) { live.textContent = readyText; }
          window.location.href = file;
        } else if (tries < 200) {
          setTimeout(poll, 3000);
        }
      })
      .catch(function () { if (tries < 200) { setTimeout(poll, 5000); } });
  }
  setTimeout(poll, 2000);
})();
