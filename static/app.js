// minutes: small behaviours on top of htmx. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  // Drag-and-drop reordering for lists marked data-sortable (Sortable.js, static/vendor): on drop, post the
  // new order; the server answers with the whole agenda. The ↑/↓ buttons are the keyboard way.
  function initSortable(list) {
    if (list.dataset.sortableReady || !window.Sortable) return;
    list.dataset.sortableReady = "1";
    Sortable.create(list, {
      draggable: "li[data-item-id]",
      filter: "a, button, input, select, textarea, label",
      preventOnFilter: false,
      ghostClass: "dragging",
      animation: 0,
      // on a phone a swipe over the list scrolls and a long press drags; touch events rather than pointer
      // events, whose pointercancel (a swipe that scrolls) would leave Sortable holding the item until a tap
      delay: 250, delayOnTouchOnly: true, supportPointer: false,
      onEnd: function (e) {
        if (e.oldIndex === e.newIndex) return;
        var ids = Array.prototype.map.call(list.querySelectorAll(":scope > li[data-item-id]"), function (li) {
          return li.dataset.itemId;
        });
        htmx.ajax("POST", list.dataset.orderUrl, { target: "#agenda", swap: "outerHTML", values: { item: ids } });
      }
    });
  }

  // Texts from the server's catalogue (base.html), with {name} placeholders filled here.
  var messages = {};
  try { messages = JSON.parse(document.body.dataset.messages || "{}"); } catch (e) { messages = {}; }
  function msg(key, values) {
    return (messages[key] || "").replace(/\{(\w+)\}/g, function (m, name) {
      return values && values[name] !== undefined ? values[name] : m;
    });
  }

  // room.js (and any later script) takes its texts from the same place
  window.minutes = { msg: msg };

  function humanSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  // The browser's own validation bubbles speak its UI language: say it in the page's language instead.
  function validationMessage(el) {
    var v = el.validity;
    if (v.valueMissing) {
      if (el.type === "file") return msg("valueMissingFile");
      return msg(el.tagName === "SELECT" || el.type === "radio" || el.type === "checkbox" ? "valueMissingChoice" : "valueMissing");
    }
    if (v.typeMismatch) return msg(el.type === "email" ? "typeMismatchEmail" : el.type === "url" ? "typeMismatchUrl" : "typeMismatch");
    if (v.rangeOverflow) return msg("rangeOverflow", { max: el.max });
    if (v.rangeUnderflow) return msg("rangeUnderflow", { min: el.min });
    if (v.tooLong) return msg("tooLong", { max: el.maxLength, count: el.value.length });
    if (v.tooShort) return msg("tooShort", { min: el.minLength, count: el.value.length });
    if (v.badInput) return msg("badInput");
    if (v.stepMismatch) {
      var step = Number(el.step) || 1, base = Number(el.min) || 0, value = Number(el.value);
      var low = base + Math.floor((value - base) / step) * step;
      return msg("stepMismatch", { low: low, high: low + step });
    }
    if (v.patternMismatch) return el.title || msg("patternMismatch");
    return "";
  }
  document.addEventListener("invalid", function (e) {
    var el = e.target;
    if (!el.setCustomValidity || !el.validity) return;
    el.setCustomValidity("");
    if (!el.validity.valid) el.setCustomValidity(validationMessage(el));
  }, true);
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      if (e.target.setCustomValidity) e.target.setCustomValidity("");
    }, true);
  });

  // Questions are asked in a styled dialog (base.html) instead of the browser's confirm(); `names` are listed.
  function ask(question, names, onOk) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || !dialog.showModal) return false;
    dialog.querySelector("#confirm-dialog-text").textContent = question;
    var list = dialog.querySelector("#confirm-dialog-list");
    list.textContent = "";
    (names || []).forEach(function (name) {
      var li = document.createElement("li");
      li.textContent = name;
      list.appendChild(li);
    });
    list.hidden = !(names && names.length);
    dialog.returnValue = "";
    dialog.addEventListener("close", function answered() {
      dialog.removeEventListener("close", answered);
      if (dialog.returnValue === "ok") onOk();
    });
    dialog.showModal();
    return true;
  }

  document.addEventListener("htmx:confirm", function (e) {
    if (!e.detail.question) return;
    if (ask(e.detail.question, null, function () { e.detail.issueRequest(true); })) e.preventDefault();
  });

  // Sending to people (data-confirm-send) first lists who will receive it: the ticked [data-name] of the form.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button[data-confirm-send]");
    if (!button || !button.form) return;
    if (button.dataset.confirmed === "1") { button.dataset.confirmed = ""; return; }
    var names = [];
    button.form.querySelectorAll("input[data-name]:checked, option[data-name]:checked").forEach(function (el) {
      if (names.indexOf(el.dataset.name) < 0) names.push(el.dataset.name);
    });
    if (!names.length) return;  // nobody chosen: the server says so beside the list
    var question = msg("sendTo", { what: button.dataset.confirmSend, count: names.length });
    if (ask(question, names, function () { button.dataset.confirmed = "1"; button.click(); })) e.preventDefault();
  });

  // Uploads: refuse a file over the limit before sending it, and show progress while it travels.
  function uploadStatus(form) { return form.querySelector("[data-upload-status]"); }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var form = e.detail.elt;
    if (!form.matches || !form.matches("form[data-max-bytes]")) return;
    var limit = Number(form.dataset.maxBytes), status = uploadStatus(form);
    var inputs = form.querySelectorAll("input[type=file]");
    for (var i = 0; i < inputs.length; i++) {
      var files = inputs[i].files || [];
      for (var j = 0; j < files.length; j++) {
        if (files[j].size > limit) {
          e.preventDefault();
          if (status) {
            status.hidden = false;
            status.className = "field-error";
            status.textContent = msg("fileTooLarge", { name: files[j].name, size: humanSize(files[j].size), limit: humanSize(limit) });
          }
          inputs[i].focus();
          return;
        }
      }
    }
    if (status) { status.hidden = true; status.textContent = ""; }
  });
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.detail.elt;
    if (!form.matches || !form.matches("form[data-max-bytes]") || !e.detail.lengthComputable) return;
    var status = uploadStatus(form), bar = form.querySelector("progress");
    var percent = Math.round(100 * e.detail.loaded / e.detail.total);
    if (bar) { bar.hidden = false; bar.value = percent; }
    if (status) { status.hidden = false; status.className = "small muted"; status.textContent = msg("uploading", { percent: percent }); }
  });

  // Over the server's upload limit (the browser's check was skipped): the message goes beside the file field
  // and the page stays as it was, instead of the error replacing the panel the form targets.
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr.status !== 413) return;
    var form = e.detail.elt.closest && e.detail.elt.closest("form");
    var status = form && uploadStatus(form);
    if (!status) return;
    e.detail.shouldSwap = false;
    var answer = new DOMParser().parseFromString(e.detail.xhr.responseText, "text/html");
    status.hidden = false;
    status.className = "field-error";
    status.textContent = answer.body.textContent.trim();
    var bar = form.querySelector("progress");
    if (bar) bar.hidden = true;
  });

  // Fields with a length limit show "12/200" as the user types (the counter is rendered by the server).
  document.addEventListener("input", function (e) {
    var el = e.target, id = el.dataset && el.dataset.counter;
    var counter = id && document.getElementById(id);
    if (!counter) return;
    counter.textContent = el.value.length + "/" + el.maxLength;
    counter.classList.toggle("over", el.maxLength > 0 && el.value.length >= el.maxLength);
  });

  function init(root) {
    (root || document).querySelectorAll("[data-sortable]").forEach(initSortable);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
