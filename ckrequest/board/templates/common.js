// ck-request dashboard, shared by its views: making elements (text only through textContent, never
// markup) and reading the embedded data.
var CKR = (function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  return {
    data: JSON.parse(document.getElementById("board-data").textContent),
    el: function (tag, text, cls) {
      var node = document.createElement(tag);
      if (text !== undefined && text !== null) { node.textContent = String(text); }
      if (cls) { node.className = cls; }
      return node;
    },
    svg: function (tag, attrs) {
      var node = document.createElementNS(SVGNS, tag);
      Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
      return node;
    },
    isNum: function (v) { return typeof v === "number" && isFinite(v); }
  };
}());
