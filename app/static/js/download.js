// Report downloads that take seconds to render (issue 15): the button says "Preparing PDF…" until the file
// arrives, instead of a blank wait. Links opt in with data-preparing="<label>". The file is fetched with the
// page's own session and handed to the browser as a download; a 202 answer (file being prepared) is asked again
// every few seconds. If anything fails, the link is followed as before, so the download never depends on this
// script. Same origin only (CSP script-src 'self').
(function () {
  "use strict";
  function filenameOf(resp, fallback) {
    var cd = resp.headers.get("Content-Disposition") || "";
    var m = /filename="?([^";]+)"?/.exec(cd);
    return m ? m[1] : fallback;
  }
  function restore(link, label) {
    link.textContent = label;
    link.removeAttribute("aria-busy");
    link.classList.remove("is-preparing");
  }
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest ? ev.target.closest("a[data-preparing]") : null;
    if (!link || !window.fetch || !window.URL || ev.ctrlKey || ev.metaKey || ev.shiftKey) { return; }
    if (link.getAttribute("aria-busy") === "true") { ev.preventDefault(); return; }
    ev.preventDefault();
    var label = link.textContent;
    var href = link.href;
    link.textContent = link.getAttribute("data-preparing");
    link.setAttribute("aria-busy", "true");
    link.classList.add("is-preparing");
    // 202: the file is being prepared off the request (the agency report): ask again until it is there.
    var tries = 0;
    function get() {
      return fetch(href, { credentials: "same-origin" }).then(function (resp) {
        if (resp.status === 202 && tries < 100) {
          tries += 1;
          return new Promise(function (ok) { setTimeout(ok, 3000); }).then(get);
        }
        return resp;
      });
    }
    get().then(function (resp) {
      if (!resp.ok || resp.status === 202) { throw new Error(String(resp.status)); }
      var name = filenameOf(resp, "report");
      return resp.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = document.createElement("a");
        a.href = url;
        a.download = name;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        restore(link, label);
      });
    }).catch(function () {
      restore(link, label);
      window.location.href = href;  // let the browser show the server's answer (login page, error page)
    });
  });
})();
