// Warns before the session ends for inactivity, and lets the user stay logged in.
// Loaded from our own origin (CSP: script-src 'self'); pages work without it.
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var pingUrl = body.getAttribute("data-ping-url");
  var banner = document.getElementById("idle-warning");
  if (!idle || !pingUrl || !banner) { return; }
  var warnBefore = Math.min(120, Math.floor(idle / 5));
  var warnTimer = null, endTimer = null;
  var countdown = banner.querySelector("[data-countdown]");
  var tick = null;

  function schedule() {
    clearTimeout(warnTimer); clearTimeout(endTimer); clearInterval(tick);
    banner.hidden = true;
    warnTimer = setTimeout(showWarning, (idle - warnBefore) * 1000);
    endTimer = setTimeout(showEnded, idle * 1000);
  }
  function showWarning() {
    var left = warnBefore;
    banner.hidden = false;
    banner.classList.remove("ended");
    if (countdown) { countdown.textContent = String(left); }
    tick = setInterval(function () {
      left -= 1;
      if (countdown && left >= 0) { countdown.textContent = String(left); }
    }, 1000);
  }
  function showEnded() {
    clearInterval(tick);
    banner.hidden = false;
    banner.classList.add("ended");
  }
  var stay = banner.querySelector("[data-stay]");
  if (stay) {
    stay.addEventListener("click", function () {
      fetch(pingUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (r.ok) { schedule(); } else { showEnded(); } })
        .catch(showEnded);
    });
  }
  // A page that keeps talking to the server (the workshop's live board) keeps the session alive.
  document.addEventListener("thb:activity", schedule);
  schedule();
})();
