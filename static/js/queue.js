// The queue refreshes itself: every data-refresh-seconds it fetches the same URL (same
// filters, same page) asking for the rows only, swaps the table body and the page links, and
// says when it was updated in a polite live region. Scroll and focus stay where they were;
// nothing is fetched while the tab is hidden.
(function () {
  "use strict";
  var root = document.getElementById("queue");
  if (!root || !window.fetch) { return; }
  var period = Math.max(1, Number(root.dataset.refreshSeconds) || 30) * 1000;
  var status = document.getElementById("queue-status");
  var timer = null;
  var busy = false;
  var stopped = false;

  function schedule() {
    window.clearTimeout(timer);
    if (!stopped && !document.hidden) { timer = window.setTimeout(refresh, period); }
  }

  function fragmentUrl() {
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "rows");
    url.hash = "";
    return url.toString();
  }

  function swap(html, sent) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var fresh = template.content.querySelector("tbody");
    var table = root.querySelector("table");
    if (!fresh || !table) { return; }
    var current = table.tBodies[0];
    var active = document.activeElement;
    var focusedHref = active && current.contains(active) ? active.getAttribute("href") : null;
    var scrollX = window.scrollX;
    var scrollY = window.scrollY;
    current.replaceWith(fresh);
    var pager = template.content.querySelector("#queue-pager");
    var oldPager = root.querySelector("#queue-pager");
    if (pager && oldPager) { oldPager.replaceWith(pager); }
    if (focusedHref) {
      var again = fresh.querySelector('a[href="' + CSS.escape(focusedHref) + '"]');
      if (again) { again.focus({ preventScroll: true }); }
    }
    window.scrollTo(scrollX, scrollY);
    var updated = template.content.querySelector("#queue-fragment-updated");
    if (updated) { status.textContent = updated.textContent; }
    document.dispatchEvent(new CustomEvent("countdown:rendered",
                                           { detail: { root: fresh, origin: sent } }));
  }

  function refresh() {
    if (busy || stopped || document.hidden) { return; }
    busy = true;
    var sent = performance.now();
    window.fetch(fragmentUrl(), { credentials: "same-origin", cache: "no-store",
                                  headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.headers.get("X-Queue-Fragment") === "rows") { return response.text(); }
        if (response.redirected) {  // signed out meanwhile: the sign-in page came back
          stopped = true;
          status.textContent = root.dataset.textSignedOut;
        } else {
          status.textContent = root.dataset.textFailed;
        }
        return null;
      })
      .then(function (html) { if (html !== null) { swap(html, sent); } })
      .catch(function () { status.textContent = root.dataset.textFailed; })
      .then(function () { busy = false; schedule(); });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { window.clearTimeout(timer); } else { refresh(); }
  });
  window.addEventListener("pageshow", function (event) { if (event.persisted) { refresh(); } });
  schedule();
})();
