// Live SLA countdowns. Each [data-countdown] element carries, as of the server's render, the
// service seconds left (data-left, negative once overdue), whether the clock counts right now
// (data-ticking), the wall seconds until that changes (data-flips-in: a business calendar
// opening or closing) and the seconds left at which it turns amber and red (data-warning-at,
// data-risk-at). Between two renders the text and the colour change together, once a second,
// and service time never goes down while the calendar is closed. Words and unit symbols come
// translated from the closest [data-countdown-words] element.
(function () {
  "use strict";
  var STATES = ["ok", "warning", "at_risk", "breached"];
  // When the numbers of a row were true: the request that rendered them was sent at or after
  // this instant, so counting from it never shows more time left than there is.
  var origins = new WeakMap();

  function parts(seconds) {
    var s = Math.floor(Math.abs(seconds));
    var units = [[Math.floor(s / 86400), "d"], [Math.floor((s % 86400) / 3600), "h"],
                 [Math.floor((s % 3600) / 60), "min"], [s % 60, "s"]];
    for (var i = 0; i < units.length; i++) {
      if (units[i][0]) {
        var shown = [units[i]];
        if (i + 1 < units.length && units[i + 1][0]) { shown.push(units[i + 1]); }
        return shown;
      }
    }
    return [[0, "min"]];
  }

  var UNIT_KEYS = { d: "unitD", h: "unitH", min: "unitMin", s: "unitS" };

  function format(seconds, words) {
    return parts(seconds).map(function (part) {
      return part[0] + "\u00a0" + words.dataset[UNIT_KEYS[part[1]]];
    }).join(" ");
  }

  function number(value) {
    return value === undefined ? null : Number(value);
  }

  function stateFor(left, warningAt, riskAt) {
    if (left <= 0) { return "breached"; }
    if (riskAt !== null && left <= riskAt) { return "at_risk"; }
    if (warningAt !== null && left <= warningAt) { return "warning"; }
    return "ok";
  }

  // Service seconds counted since the render, and whether the clock counts now.
  function counted(el, since) {
    var flipsIn = number(el.dataset.flipsIn);
    if (el.dataset.ticking === "true") {
      if (flipsIn === null || since < flipsIn) { return { seconds: since, ticking: true }; }
      return { seconds: flipsIn, ticking: false };
    }
    if (flipsIn === null || since < flipsIn) { return { seconds: 0, ticking: false }; }
    return { seconds: since - flipsIn, ticking: true };
  }

  function setFlag(holder, state, words) {
    if (holder.dataset.shown === state) { return; }
    holder.dataset.shown = state;
    holder.textContent = "";
    var text = state === "breached" ? words.dataset.textBreached
      : state === "at_risk" ? words.dataset.textAtRisk : "";
    if (!text) { return; }
    var strong = document.createElement("strong");
    strong.className = "flag " + (state === "breached" ? "flag-breached" : "flag-at-risk");
    strong.textContent = text;
    holder.appendChild(strong);
    holder.appendChild(document.createTextNode(" · "));
  }

  function setText(el, text) {
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  // A line of its own on screen; the separator keeps it a phrase when read as text.
  function setNote(holder, text) {
    if (!holder || holder.dataset.shown === text) { return; }
    holder.dataset.shown = text;
    holder.textContent = "";
    if (!text) { return; }
    var separator = document.createElement("span");
    separator.className = "countdown-sep";
    separator.textContent = " · ";
    holder.appendChild(separator);
    holder.appendChild(document.createTextNode(text));
  }

  function update(el, now) {
    var words = el.closest("[data-countdown-words]");
    if (!words) { return; }
    var origin = origins.has(el) ? origins.get(el) : 0;
    var clock = counted(el, Math.max(0, (now - origin) / 1000));
    var left = Number(el.dataset.left) - clock.seconds;
    var state = stateFor(left, number(el.dataset.warningAt), number(el.dataset.riskAt));
    var flag = el.querySelector(".countdown-flag");
    if (flag) { setFlag(flag, state, words); }
    var template = state === "breached" ? words.dataset.textOverdue : words.dataset.textLeft;
    setText(el.querySelector(".countdown-time"), template.replace("{time}", format(left, words)));
    if (state === "breached") { setText(el.querySelector(".countdown-due"), ""); }
    setNote(el.querySelector(".countdown-note"), clock.ticking ? "" : words.dataset.textNotCounting);
    STATES.forEach(function (name) {
      el.classList.toggle("countdown-" + name, name === state);
    });
  }

  function tick() {
    var now = performance.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) { update(el, now); });
  }

  // Rows swapped in by a refresh: their numbers are as of that request.
  document.addEventListener("countdown:rendered", function (event) {
    var detail = event.detail || {};
    var root = detail.root || document;
    var now = performance.now();
    root.querySelectorAll("[data-countdown]").forEach(function (el) {
      origins.set(el, detail.origin === undefined ? now : detail.origin);
      update(el, now);
    });
  });

  tick();
  // Twice a second, so a change of the displayed second shows within half a second of it.
  window.setInterval(tick, 500);
})();
