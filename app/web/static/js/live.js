// linli live parts: countdowns that tick every second and fragments that refresh themselves.
// Plain JavaScript, no library, nothing fetched from outside this server.
(function () {
  "use strict";
  var offset = 0; // server clock minus this browser's clock, in ms
  var serverNow = document.documentElement.getAttribute("data-server-now");
  if (serverNow) { offset = Date.parse(serverNow) - Date.now(); }

  function span(seconds) {
    seconds = Math.abs(Math.round(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600),
        m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    if (d) { return d + "天" + (h ? h + "小时" : ""); }
    if (h) { return h + "小时" + (m < 10 ? "0" : "") + m + "分"; }
    return m + "分" + (s < 10 ? "0" : "") + s + "秒";
  }

  function tick() {
    var now = Date.now() + offset;
    var items = document.querySelectorAll("[data-due]");
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var left = (Date.parse(el.getAttribute("data-due")) - now) / 1000;
      var soon = Number(el.getAttribute("data-soon") || 900);
      el.classList.toggle("overdue", left <= 0);
      el.classList.toggle("soon", left > 0 && left <= soon);
      el.textContent = left <= 0 ? "已超时 " + span(-left) : "剩余 " + span(left);
    }
  }

  function refresh(box) {
    var url = box.getAttribute("data-refresh-url");
    var field = document.activeElement;
    if (box.contains(field) && /^(TEXTAREA|INPUT|SELECT)$/.test(field.tagName)
        && (field.value || field.tagName === "SELECT")) { return; } // never wipe what someone is typing
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) { box.innerHTML = html; box.setAttribute("data-refreshed", String(Date.now())); tick(); }
      })
      .catch(function () { /* offline for a moment: try again next round */ });
  }

  function start() {
    tick();
    setInterval(tick, 1000);
    var boxes = document.querySelectorAll("[data-refresh-url]");
    for (var i = 0; i < boxes.length; i++) {
      (function (box) {
        var seconds = Number(box.getAttribute("data-refresh-seconds") || 20);
        setInterval(function () { refresh(box); }, seconds * 1000);
      })(boxes[i]);
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
