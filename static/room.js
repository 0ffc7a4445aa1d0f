// minutes — the live meeting room: stream lifecycle, fast keyboard entry, clocks, the editor dialog.
// No inline scripts anywhere (CSP); everything hangs off data attributes and htmx events.
(function () {
  "use strict";

  /** A tab hidden this long lets go of its stream (browsers allow ~6 connections per host). */
  var HIDDEN_RELEASE_MS = 30000;
  var seen = new Set();
  var lastCurrent = null;

  /** A text from the server's catalogue (base.html's data-messages, read by app.js). */
  function text(key, values) { return window.minutes.msg(key, values); }
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function roomEl() { return document.getElementById("room"); }
  function slot() { return document.getElementById("room-stream-slot"); }

  // ---------------------------------------------------------------------------------------
  // The stream: keep ?rev= at the newest revision applied, so that any reconnect (the
  // browser's own, with Last-Event-ID, or the extension's, with a new EventSource) asks
  // the server only for what was missed.
  function streamUrl(rev) {
    var s = slot();
    return s.dataset.streamUrl + "?rev=" + encodeURIComponent(rev || 0) + (s.dataset.view === "screen" ? "&view=screen" : "");
  }

  function noteRevision(rev) {
    var s = slot();
    var n = parseInt(rev, 10);
    if (!s || isNaN(n)) return;
    s.dataset.rev = String(n);
    var conn = document.getElementById("room-stream");
    if (conn) conn.setAttribute("sse-connect", streamUrl(n));
  }

  function setConnection(state) {
    var room = roomEl();
    if (!room) return;
    room.classList.toggle("is-live", state === "live");
    room.classList.toggle("is-offline", state === "offline");
    room.classList.toggle("is-paused", state === "paused");
  }

  function releaseStream() {
    var s = slot();
    if (!s || !document.getElementById("room-stream")) return;
    htmx.swap(s, "", { swapStyle: "innerHTML", swapDelay: 0, settleDelay: 0 });
    setConnection("paused");
  }

  function reattachStream() {
    var s = slot();
    var template = document.getElementById("room-stream-template");
    if (!s || !template || document.getElementById("room-stream")) return;
    var conn = template.content.firstElementChild.cloneNode(true);
    conn.setAttribute("sse-connect", streamUrl(s.dataset.rev));
    s.appendChild(conn);
    htmx.process(conn);
  }

  var hideTimer = null;
  document.addEventListener("visibilitychange", function () {
    if (!slot()) return;
    if (document.hidden) {
      hideTimer = window.setTimeout(releaseStream, HIDDEN_RELEASE_MS);
    } else {
      window.clearTimeout(hideTimer);
      hideTimer = null;
      reattachStream();
    }
  });

  // A dropped Wi-Fi can leave a half-open stream that looks alive for minutes: when the
  // browser says it is offline, let go at once; when it is back, reconnect from ?rev=.
  window.addEventListener("offline", function () {
    if (!slot()) return;
    releaseStream();
    setConnection("offline");
  });
  window.addEventListener("online", function () {
    if (!slot() || document.hidden) return;
    reattachStream();
  });

  // Appends are applied once: a point already on the page (a resync may have brought it) is not added again.
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var fragment = e.detail.fragment;
    var first = fragment && fragment.firstElementChild;
    if (first && first.id && (first.classList.contains("point") || first.classList.contains("sp")) &&
        document.getElementById(first.id)) {
      e.detail.shouldSwap = false;
    }
  });

  document.addEventListener("htmx:sseOpen", function () { setConnection("live"); });
  document.addEventListener("htmx:sseError", function () { setConnection("offline"); });
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    if (e.detail && e.detail.lastEventId) noteRevision(e.detail.lastEventId);
  });
  document.addEventListener("htmx:sseMessage", function () {
    setConnection("live");
    afterChange(document);
  });

  // ---------------------------------------------------------------------------------------
  // Clocks: elapsed vs estimate, ticking locally from data attributes; amber from 80 %, red past it.
  function fmt(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  function tick() {
    var now = performance.now();
    $all("[data-clock]").forEach(function (el) {
      if (el._base === undefined) el._base = now;
      var elapsed = parseInt(el.dataset.elapsed, 10) || 0;
      if (el.dataset.running === "1") elapsed += Math.floor((now - el._base) / 1000);
      var estimate = parseInt(el.dataset.estimate, 10) || 0;
      var ratio = estimate ? elapsed / estimate : 0;
      var out = $(".clock-now", el) || el;
      out.textContent = fmt(elapsed);
      el.classList.toggle("is-amber", ratio >= 0.8 && ratio <= 1);
      el.classList.toggle("is-red", ratio > 1);
      var bar = $("[data-clock-bar]", el);
      if (bar) bar.style.width = Math.min(100, ratio * 100).toFixed(1) + "%";
    });
  }
  window.setInterval(tick, 1000);

  // ---------------------------------------------------------------------------------------
  // After anything changed: mark new entries, follow the current item, keep the screen at the newest point.
  function markNew(root, initial) {
    $all(".point[id], .entry[id], .sp[data-id]", root).forEach(function (el) {
      var key = el.id || el.dataset.id;
      if (seen.has(key)) return;
      seen.add(key);
      if (!initial) el.classList.add("is-new");
    });
  }

  function followCurrent() {
    var head = document.getElementById("room-head");
    if (!head) return;
    var current = head.dataset.currentItem || "";
    if (current === lastCurrent) return;
    $all("select[data-follow-current]").forEach(function (select) {
      if (lastCurrent === null || select.value === lastCurrent || !select.value) select.value = current;
    });
    lastCurrent = current;
    showCurrentOnNarrowScreens(current);
  }

  // A 临时议题 added during the meeting appears in the agenda; the entry forms' item choices (kept while
  // typing, so never re-rendered) get it too.
  function syncAgendaChoices() {
    var agenda = $all("#room-agenda li[data-item-id]");
    $all('#entry select[name="agenda_item_id"]').forEach(function (select) {
      agenda.forEach(function (li) {
        if (select.querySelector('option[value="' + li.dataset.itemId + '"]')) return;
        var option = document.createElement("option");
        option.value = li.dataset.itemId;
        option.textContent = li.dataset.itemLabel;
        select.appendChild(option);
      });
    });
  }

  // On a phone the room is one long column: arriving, and whenever the host moves on, go to the item being
  // discussed (unless the person is typing somewhere).
  function showCurrentOnNarrowScreens(current) {
    if (!current || !window.matchMedia("(max-width: 820px)").matches) return;
    var active = document.activeElement;
    if (active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) return;
    var block = document.getElementById("item-" + current);
    if (block) block.scrollIntoView({ block: "start" });
  }

  // The newest point stays in view; one taller than the box shows its start (who said it, its first words).
  function autoscroll() {
    $all("[data-autoscroll]").forEach(function (el) {
      var last = el.lastElementChild;
      el.scrollTop = last && last.offsetHeight > el.clientHeight ? last.offsetTop : el.scrollHeight;
    });
  }

  // The projector's column of decisions and actions: smaller type until every entry fits (down to 55 %),
  // then the newest stay in view.
  function fitOutcomes() {
    $all(".screen-outcomes").forEach(function (box) {
      var size = 100;
      box.style.fontSize = "";
      while (box.scrollHeight > box.clientHeight + 1 && size > 55) {
        size -= 5;
        box.style.fontSize = size + "%";
      }
      box.scrollTop = box.scrollHeight;
    });
  }

  function afterChange(root, initial) {
    markNew(document, initial);
    syncAgendaChoices();
    followCurrent();
    autoscroll();
    fitOutcomes();
    tick();
  }

  // ---------------------------------------------------------------------------------------
  // Fast entry: Enter saves (Shift+Enter is a new line; never while an IME is composing),
  // Alt+1..3 pick 观点/争议/共识, Alt+4 决议, Alt+5 待办. The form comes back empty and focused;
  // whatever was typed while it saved is kept; a failed save keeps the text and says so.
  function showTab(name, focus) {
    var entry = document.getElementById("entry");
    if (!entry) return;
    entry.dataset.tab = name;
    $all(".entry-tabs [data-tab]", entry).forEach(function (b) {
      b.setAttribute("aria-selected", b.dataset.tab === name ? "true" : "false");
    });
    $all("[data-pane]", entry).forEach(function (p) { p.hidden = p.dataset.pane !== name; });
    if (focus) {
      var ta = $('[data-pane="' + name + '"] textarea', entry);
      if (ta) ta.focus();
    }
  }

  function setKind(form, kind) {
    var radio = $('input[name="kind"][value="' + kind + '"]', form);
    if (radio) radio.checked = true;
    form.dataset.kind = kind;
  }

  document.addEventListener("click", function (e) {
    var tab = e.target.closest(".entry-tabs [data-tab]");
    if (tab) { showTab(tab.dataset.tab, true); return; }
    var close = e.target.closest("[data-close-dialog]");
    if (close) { closeEditor(); }
  });

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.name === "kind" && t.form) t.form.dataset.kind = t.value;
    // choosing a speaker sets the department to theirs (the recorder may still pick another one after)
    if (t.dataset && t.dataset.setsDepartment) {
      var dept = document.getElementById(t.dataset.setsDepartment);
      var option = t.options[t.selectedIndex];
      if (dept && option && option.dataset.department) dept.value = option.dataset.department;
    }
  });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && t.matches && t.matches("textarea[data-enter-submits]")) {
      if (e.shiftKey || e.isComposing || e.keyCode === 229) return;
      e.preventDefault();
      var form = t.form;
      if (!form) return;
      if (form.dataset.busy === "1") { form.dataset.again = "1"; return; }
      if (!t.value.trim()) return;
      if (form.requestSubmit) form.requestSubmit(); else htmx.trigger(form, "submit");
      return;
    }
    if (e.altKey && !e.ctrlKey && !e.metaKey && e.code === "KeyN") {
      var next = document.getElementById("next-item");
      if (next && !next.disabled) { e.preventDefault(); next.click(); }
      return;
    }
    // ←/→ between department chips (争议双方, 配合部门); Space ticks the focused one
    if ((e.key === "ArrowRight" || e.key === "ArrowLeft") && t.matches && t.matches("[data-chips] input")) {
      var chips = $all("input", t.closest("[data-chips]"));
      var at = chips.indexOf(t) + (e.key === "ArrowRight" ? 1 : -1);
      if (at >= 0 && at < chips.length) { e.preventDefault(); chips[at].focus(); }
      return;
    }
    if (e.altKey && !e.ctrlKey && !e.metaKey && /^Digit[1-5]$/.test(e.code || "")) {
      var entry = document.getElementById("entry");
      if (!entry) return;
      e.preventDefault();
      var n = parseInt(e.code.slice(5), 10);
      if (n <= 3) {
        showTab("point", false);
        var pf = document.getElementById("point-form");
        if (pf) setKind(pf, ["viewpoint", "dispute", "consensus"][n - 1]);
        var ta = pf && $("textarea", pf);
        if (ta) ta.focus();
      } else {
        showTab(n === 4 ? "decision" : "action", true);
      }
    }
  });

  var carry = {};   // text typed while a save was in flight, by form id

  function entryForm(elt) {
    return elt && elt.matches && elt.matches("form[data-entry-form], form[data-dialog-form]") ? elt : null;
  }

  function formStatus(form, message, bad) {
    var status = $(".form-status", form);
    if (!status) return;
    status.textContent = message;
    status.classList.toggle("bad-text", !!bad);
    status.classList.toggle("ok-text", !bad);
  }

  document.addEventListener("htmx:configRequest", function (e) {
    var form = entryForm(e.detail.elt);
    if (!form) return;
    var ta = $("textarea[name=text]", form);
    form.dataset.busy = "1";
    form._sent = ta ? ta.value : "";
    form.classList.remove("unsaved");
    formStatus(form, text("saving"), false);
  });

  document.addEventListener("htmx:beforeSwap", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    // A late wording check for text that is gone (the form was saved meanwhile): ignore it.
    if (elt && elt.matches && elt.matches("[name=text], [name=due]") && elt.form && !elt.form.isConnected) {
      e.detail.shouldSwap = false;
      return;
    }
    var form = entryForm(elt);
    if (!form || !form.matches("[data-entry-form]")) return;
    var ta = $("textarea[name=text]", form);
    var sent = form._sent || "";
    var now = ta ? ta.value : "";
    carry[form.id] = now.indexOf(sent) === 0 ? now.slice(sent.length) : (now === sent ? "" : now);
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail.target;
    if (target && target.id === "editor") { openOrCloseEditor(); return; }
    if (target && target.matches && target.matches("form[data-entry-form]")) return;  // swapped out: handled below
    afterChange(document);
  });

  document.addEventListener("htmx:afterSettle", function (e) {
    var elt = e.detail.elt;
    if (elt && elt.matches && elt.matches("form[data-entry-form]") && elt.isConnected) {
      var extra = (carry[elt.id] || "").replace(/^\s+/, "");
      delete carry[elt.id];
      var ta = $("textarea[name=text]", elt);
      var ok = e.detail.xhr && e.detail.xhr.status < 300;
      if (ta) {
        if (extra) ta.value = ok ? extra : (ta.value ? ta.value + "\n" : "") + extra;
        ta.focus();
        ta.setSelectionRange(ta.value.length, ta.value.length);
      }
      var kind = $('input[name="kind"]:checked', elt);
      if (kind) elt.dataset.kind = kind.value;
      followCurrent();
    }
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    var form = entryForm(e.detail.elt);
    if (!form) return;
    form.dataset.busy = "0";
    var fresh = form.id ? document.getElementById(form.id) : null;
    if (e.detail.successful && form.dataset.again === "1" && fresh) {
      var ta = $("textarea[name=text]", fresh);
      if (ta && ta.value.trim()) window.setTimeout(function () { fresh.requestSubmit(); }, 0);
    }
    form.dataset.again = "0";
  });

  function unsaved(e, why) {
    var form = entryForm(e.detail.elt);
    if (!form) return;
    form.dataset.busy = "0";
    form.classList.add("unsaved");
    formStatus(form, text("unsaved", { why: why }), true);
    var ta = $("textarea[name=text]", form);
    if (ta) ta.focus();
  }
  document.addEventListener("htmx:sendError", function (e) { unsaved(e, text("whyOffline")); });
  document.addEventListener("htmx:timeout", function (e) { unsaved(e, text("whyTimeout")); });
  // A banner in #room-msg from one of the page's <template>s (room/page.html), {name} filled from `values`.
  function showMessage(templateId, values) {
    var msg = document.getElementById("room-msg"), template = document.getElementById(templateId);
    if (!msg || !template) return;
    var banner = template.content.firstElementChild.cloneNode(true);
    banner.textContent = banner.textContent.replace(/\{(\w+)\}/g, function (m, name) {
      return values && values[name] !== undefined ? values[name] : m;
    });
    msg.replaceChildren(banner);
  }

  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    if (entryForm(e.detail.elt)) { unsaved(e, text("whyServerError", { status: status })); return; }
    showMessage("room-msg-server-error", { status: status });
  });
  document.addEventListener("htmx:sendError", function (e) {
    if (entryForm(e.detail.elt)) return;
    showMessage("room-msg-offline");
  });

  // ---------------------------------------------------------------------------------------
  // The editor dialog: edits, rewording, late/absent details live outside the swapped room,
  // so a live update never destroys what is being typed.
  function openOrCloseEditor() {
    var dlg = document.getElementById("editor-dialog");
    var box = document.getElementById("editor");
    if (!dlg || !box) return;
    if (box.textContent.trim() || box.firstElementChild) {
      if (!dlg.open) dlg.showModal();
      var form = $("form", box);
      var kind = form && $('input[name="kind"]:checked', form);
      if (kind) form.dataset.kind = kind.value;
      var first = $("[autofocus], textarea, input:not([type=hidden]), select", box);
      if (first) first.focus();
    } else if (dlg.open) {
      dlg.close();
    }
  }

  function closeEditor() {
    var dlg = document.getElementById("editor-dialog");
    var box = document.getElementById("editor");
    if (dlg && dlg.open) dlg.close();
    if (box) box.replaceChildren();
  }

  document.addEventListener("close", function (e) {
    if (e.target && e.target.id === "editor-dialog") {
      var box = document.getElementById("editor");
      if (box) box.replaceChildren();
    }
  }, true);

  // Messages in #room-msg fade after a while.
  var msgTimer = null;
  document.addEventListener("htmx:afterSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "room-msg") return;
    window.clearTimeout(msgTimer);
    msgTimer = window.setTimeout(function () {
      var msg = document.getElementById("room-msg");
      if (msg) msg.replaceChildren();
    }, 8000);
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (!roomEl()) return;
    afterChange(document, true);
    var s = slot();
    if (s) noteRevision(s.dataset.rev);
    var pf = document.getElementById("point-form");
    var ta = pf && $("textarea", pf);
    if (ta) ta.focus();
  });
})();
