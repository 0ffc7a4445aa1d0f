// minutes: small behaviours on top of htmx. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  // Drag-and-drop reordering for lists marked data-sortable: on drop, post the new order.
  function initSortable(list) {
    if (list.dataset.sortableReady) return;
    list.dataset.sortableReady = "1";
    var dragged = null;
    list.addEventListener("dragstart", function (e) {
      dragged = e.target.closest("li[data-item-id]");
      if (!dragged) return;
      dragged.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", dragged.dataset.itemId);
    });
    list.addEventListener("dragover", function (e) {
      var over = e.target.closest("li[data-item-id]");
      if (!dragged || !over || over === dragged) return;
      e.preventDefault();
      list.querySelectorAll(".drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
      over.classList.add("drop-target");
    });
    list.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      list.querySelectorAll(".drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
      dragged = null;
    });
    list.addEventListener("drop", function (e) {
      var over = e.target.closest("li[data-item-id]");
      if (!dragged || !over || over === dragged) return;
      e.preventDefault();
      var items = Array.prototype.slice.call(list.querySelectorAll(":scope > li[data-item-id]"));
      var from = items.indexOf(dragged), to = items.indexOf(over);
      list.insertBefore(dragged, from < to ? over.nextSibling : over);
      var ids = Array.prototype.map.call(list.querySelectorAll(":scope > li[data-item-id]"), function (li) {
        return li.dataset.itemId;
      });
      htmx.ajax("POST", list.dataset.orderUrl, { target: "#agenda", swap: "outerHTML", values: { item: ids } });
    });
  }

  function init(root) {
    (root || document).querySelectorAll("[data-sortable]").forEach(initSortable);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
