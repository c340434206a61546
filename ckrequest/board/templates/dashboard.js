// ck-request dashboard: every text from the data goes into the page through textContent or
// setAttribute on our own elements, never as markup.
(function () {
  "use strict";
  var DATA = CKR.data;
  var METRICS = {};
  DATA.metrics.forEach(function (m) { METRICS[m.key] = m; });
  var W = 900, H = 500, M = {left: 78, right: 20, top: 18, bottom: 52}, ROW_LIMIT = 1000;
  var state = {x: DATA.x.key, y: DATA.y.key, xBetter: DATA.x.better, yBetter: DATA.y.better,
               xLog: METRICS[DATA.x.key].log, yLog: METRICS[DATA.y.key].log,
               colourBy: DATA.colour_by[0].key, sortKey: DATA.x.key, sortAsc: DATA.x.better === "min",
               showAll: false};

  var el = CKR.el, svg = CKR.svg, isNum = CKR.isNum;
  function fmt(key, v, p) {
    if (!isNum(v)) { return "-"; }
    var m = METRICS[key];
    var text = String(Number((v * m.scale).toPrecision(4))) + (m.unit === "%" ? "%" : "");
    if (p && DATA.accuracy_keys.indexOf(key) >= 0 && !p.accuracy_ranked) { text += "\u2020"; }
    return p && p.nominal.indexOf(key) >= 0 ? "~" + text : text;
  }
  function label(key) { var m = METRICS[key]; return m.label + (m.unit ? " [" + m.unit + "]" : ""); }

  // Same rule as ckrequest/pareto.py: dominated only by a point at least as good in both and better in one.
  // An accuracy ranks only against accuracies of the same data set, and LoadGen's INVALID runs never rank
  // (ckrequest/board/scoreboard.py: ranks).
  function ranks(p, xKey, yKey) {
    var accuracy = DATA.accuracy_keys.indexOf(xKey) >= 0 || DATA.accuracy_keys.indexOf(yKey) >= 0;
    return isNum(p[xKey]) && isNum(p[yKey]) && (!accuracy || p.accuracy_ranked) && !p.invalid;
  }
  function frontier(points, xKey, yKey, xBetter, yBetter) {
    var sx = xBetter === "max" ? 1 : -1, sy = yBetter === "max" ? 1 : -1;
    var ranked = points.filter(function (p) { return ranks(p, xKey, yKey); })
      .map(function (p) { return {id: p.id, a: sx * p[xKey], b: sy * p[yKey]}; });
    ranked.sort(function (u, v) { return (v.a - u.a) || (v.b - u.b); });
    var on = new Set(), best = -Infinity, k = 0;
    while (k < ranked.length) {
      var a = ranked[k].a, top = ranked[k].b, end = k;
      while (end < ranked.length && ranked[end].a === a) {
        if (ranked[end].b === top && top > best) { on.add(ranked[end].id); }
        end += 1;
      }
      best = Math.max(best, top);
      k = end;
    }
    return on;
  }

  function scale(values, log, lo, hi) {
    var vs = values.map(function (v) { return log ? Math.log10(v) : v; });
    var min = vs.reduce(function (a, b) { return Math.min(a, b); }, Infinity);
    var max = vs.reduce(function (a, b) { return Math.max(a, b); }, -Infinity);
    if (!vs.length) { min = 0; max = 1; }
    if (min === max) { min -= log ? 0.5 : (Math.abs(min) || 1) * 0.1; max += log ? 0.5 : (Math.abs(max) || 1) * 0.1; }
    var pad = (max - min) * 0.05;
    min -= pad; max += pad;
    var f = function (v) { var t = log ? Math.log10(v) : v; return lo + (t - min) / (max - min) * (hi - lo); };
    f.ticks = function () {
      var out = [], step, t;
      if (log) {
        var steps = max - min > 6 ? [1] : [1, 2, 5];
        for (t = Math.floor(min); t <= Math.ceil(max); t += 1) {
          steps.forEach(function (s) {
            var v = s * Math.pow(10, t);
            if (Math.log10(v) >= min && Math.log10(v) <= max) { out.push(v); }
          });
        }
        return out;
      }
      step = Math.pow(10, Math.floor(Math.log10((max - min) / 5)));
      if ((max - min) / step > 10) { step *= 2; }
      if ((max - min) / step > 10) { step *= 2.5; }
      for (t = Math.ceil(min / step) * step; t <= max; t += step) { out.push(t); }
      return out;
    };
    return f;
  }

  // Each group's colour and shape come with the data (ckrequest/board/palette.py), the same as in the PNG.
  function groupOf(p) { var v = p[state.colourBy]; return v === null || v === undefined || v === "" ? DATA.unnamed : String(v); }
  function colours() {
    var seen = {}, order = [];
    DATA.styles[state.colourBy].forEach(function (g) { seen[g[0]] = {colour: g[1], shape: g[2]}; order.push(g[0]); });
    return {of: function (p) { return seen[groupOf(p)]; }, order: order, seen: seen};
  }

  function shapePath(shape, x, y, r) {  // an outline of about the area of a circle of radius r
    var sides = {"triangle-up": [3, -90, 1.35], "triangle-down": [3, 90, 1.35], diamond: [4, -90, 1.25],
                 square: [4, -45, 1.25], pentagon: [5, -90, 1.12], hexagon: [6, 0, 1.08]}[shape];
    if (!sides) {
      return "M" + (x - r) + "," + y + "a" + r + "," + r + " 0 1,0 " + 2 * r + ",0a" + r + "," + r + " 0 1,0 " +
             -2 * r + ",0Z";
    }
    var out = [], k, a;
    for (k = 0; k < sides[0]; k += 1) {
      a = (sides[1] + 360 * k / sides[0]) * Math.PI / 180;
      out.push((x + r * sides[2] * Math.cos(a)).toFixed(2) + "," + (y + r * sides[2] * Math.sin(a)).toFixed(2));
    }
    return "M" + out.join("L") + "Z";
  }

  function tooltipText(p) {
    var lines = [p.entry + "  (" + p.repo + ")",
      "model: " + (p.model_design_name || p.model_arch || "?") + ", " + (p.model_precision || "?"),
      "library: " + (p.library_name || "?"),
      "platform: " + (p.platform_name || p.plat_name || "?") + (p.cpu_name ? " / " + p.cpu_name : ""),
      label(state.x) + ": " + fmt(state.x, p[state.x], p),
      label(state.y) + ": " + fmt(state.y, p[state.y], p)];
    ["inference_latency", "inference_throughput", "accuracy_top1", "model_size", "platform_price"].forEach(function (k) {
      if (k !== state.x && k !== state.y && isNum(p[k])) { lines.push(label(k) + ": " + fmt(k, p[k], p)); }
    });
    if (p.deps.length) {
      lines.push("dependencies: " + p.deps.map(function (d) { return d.name + " " + d.version; }).join("; "));
    }
    if (p.scenario !== "native") { lines.push("scenario: MLPerf LoadGen " + p.scenario); }
    if (p.invalid) { lines.push("\u2717 INVALID under LoadGen's rules (" + p.invalid_because + "): never on the frontier"); }
    if (p.synthetic) { lines.push("synthetic weights: speed only, no accuracy"); }
    if (p.accuracy_dataset && !p.accuracy_ranked) {
      lines.push("\u2020 accuracy on " + (isNum(p.accuracy_images) ? p.accuracy_images + " images of " : "") +
                 p.accuracy_dataset + ": shown, not ranked with " + DATA.accuracy_view);
    }
    if (p.validated) { lines.push("validated"); }
    if (p.nominal.length) { lines.push("nominal (not measured): " + p.nominal.join(", ")); }
    p.notes.forEach(function (n) { lines.push("note: " + n); });
    return lines.join("\n");
  }

  var MAX_TIP_POINTS = 6;

  function pointsUnder(event) {  // every drawn point whose marker holds the cursor: coincident points hide none
    var found = [];
    Array.prototype.forEach.call(document.querySelectorAll("#scatter .point"), function (c) {
      var r = c.getBoundingClientRect(), radius = r.width / 2;
      var dx = event.clientX - (r.left + radius), dy = event.clientY - (r.top + r.height / 2);
      if (dx * dx + dy * dy <= (radius + 1) * (radius + 1) && BY_ID[c.getAttribute("data-id")]) {
        found.push(BY_ID[c.getAttribute("data-id")]);
      }
    });
    return found;
  }

  function showTooltip(points, event) {
    var tip = document.getElementById("tooltip"), box = document.getElementById("plot").getBoundingClientRect();
    var shown = points.slice(0, MAX_TIP_POINTS).map(tooltipText);
    if (points.length > MAX_TIP_POINTS) { shown.push("... and " + (points.length - MAX_TIP_POINTS) + " more here"); }
    tip.textContent = (points.length > 1 ? points.length + " points here\n\n" : "") + shown.join("\n\n");
    tip.hidden = false;
    tip.style.left = (event.clientX - box.left + 14) + "px";
    tip.style.top = (event.clientY - box.top + 14) + "px";
  }

  function drawAxes(root, sx, sy) {
    sx.ticks().forEach(function (t) {
      var x = sx(t);
      root.appendChild(svg("line", {x1: x, x2: x, y1: M.top, y2: H - M.bottom, "class": "grid"}));
      var txt = svg("text", {x: x, y: H - M.bottom + 16, "text-anchor": "middle"});
      txt.textContent = String(Number((t * METRICS[state.x].scale).toPrecision(3)));
      root.appendChild(txt);
    });
    sy.ticks().forEach(function (t) {
      var y = sy(t);
      root.appendChild(svg("line", {x1: M.left, x2: W - M.right, y1: y, y2: y, "class": "grid"}));
      var txt = svg("text", {x: M.left - 6, y: y + 4, "text-anchor": "end"});
      txt.textContent = String(Number((t * METRICS[state.y].scale).toPrecision(3)));
      root.appendChild(txt);
    });
    var xl = svg("text", {x: (M.left + W - M.right) / 2, y: H - 12, "text-anchor": "middle", id: "x-label"});
    xl.textContent = label(state.x) + (state.xLog ? " (log)" : "");
    var yl = svg("text", {x: 14, y: (M.top + H - M.bottom) / 2, "text-anchor": "middle", id: "y-label",
                          transform: "rotate(-90 14 " + (M.top + H - M.bottom) / 2 + ")"});
    yl.textContent = label(state.y) + (state.yLog ? " (log)" : "");
    root.appendChild(xl);
    root.appendChild(yl);
  }

  function drawPoint(root, p, sx, sy, style, onFront) {
    var c = svg("path", {d: shapePath(style.shape, sx(p[state.x]), sy(p[state.y]), onFront ? 6.5 : 4.5),
                         fill: p.synthetic ? "#ffffff" : style.colour, stroke: style.colour, "data-id": p.id,
                         "data-shape": style.shape, "data-group": groupOf(p),
                           "class": "point" + (onFront ? " pareto" : "") + (p.synthetic ? " synthetic" : "") +
                                    (p.validated ? " validated" : "") + (p.invalid ? " invalid" : "")});
    root.appendChild(c);
  }

  function drawLegend(pal) {
    var legend = document.getElementById("legend");
    legend.textContent = "";
    pal.order.forEach(function (name) {
      var item = el("span"), mark = svg("svg", {width: 14, height: 14, viewBox: "0 0 14 14", "class": "mark"});
      var style = pal.seen[name];
      mark.appendChild(svg("path", {d: shapePath(style.shape, 7, 7, 4.5), fill: style.colour, stroke: style.colour,
                                    "data-shape": style.shape}));
      item.setAttribute("data-group", name);
      item.appendChild(mark);
      item.appendChild(document.createTextNode(name));
      legend.appendChild(item);
    });
  }

  function draw() {
    var root = document.getElementById("scatter");
    root.textContent = "";
    var usable = function (v, log) { return isNum(v) && (!log || v > 0); };
    var visible = DATA.points.filter(function (p) { return usable(p[state.x], state.xLog) && usable(p[state.y], state.yLog); });
    var front = frontier(DATA.points, state.x, state.y, state.xBetter, state.yBetter);
    var sx = scale(visible.map(function (p) { return p[state.x]; }), state.xLog, M.left, W - M.right);
    var sy = scale(visible.map(function (p) { return p[state.y]; }), state.yLog, H - M.bottom, M.top);
    drawAxes(root, sx, sy);
    var line = visible.filter(function (p) { return front.has(p.id); })
      .sort(function (a, b) { return a[state.x] - b[state.x] || a[state.y] - b[state.y]; });
    if (line.length > 1) {
      root.appendChild(svg("polyline", {"class": "frontier", id: "frontier-line",
        points: line.map(function (p) { return sx(p[state.x]) + "," + sy(p[state.y]); }).join(" ")}));
    }
    var pal = colours();
    var behind = visible.filter(function (p) { return !front.has(p.id); });
    behind.concat(line).forEach(function (p) { drawPoint(root, p, sx, sy, pal.of(p), front.has(p.id)); });  // frontier on top
    drawLegend(pal);
    var missing = DATA.points.filter(function (p) { return !isNum(p[state.x]) || !isNum(p[state.y]); }).length;
    var hidden = DATA.points.length - missing - visible.length;
    document.getElementById("plot-note").textContent = visible.length + " of " + DATA.points.length +
      " points shown; " + front.size + " on the frontier" + (missing ? "; " + missing + " lack X or Y" : "") +
      (hidden ? "; " + hidden + " not positive, hidden by the log scale" : "");
    drawTable(front);
  }

  function columns() {
    var cols = [["front", "frontier"], ["validated", "validated"], ["entry", "entry"], ["model_arch", "model"],
      ["model_precision", "precision"], ["library_name", "library"], ["platform", "platform"], ["batch_size", "batch"],
      ["scenario", "scenario"]];
    var keys = ["inference_latency", "inference_throughput", "accuracy_top1", "accuracy_top5", "model_size",
                "platform_price", "platform_peak_power", "usage_cost"];
    [state.x, state.y].forEach(function (k) { if (keys.indexOf(k) < 0) { keys.push(k); } });
    keys.forEach(function (k) { cols.push([k, METRICS[k].label + (METRICS[k].unit ? " [" + METRICS[k].unit + "]" : "")]); });
    cols.push(["weights", "weights"]);
    return cols;
  }

  function cellText(p, key, front) {
    if (key === "front") { return front.has(p.id) ? "\u2605" : ""; }
    if (key === "validated") { return p.validated ? "\u2713 validated" : ""; }
    if (key === "platform") { return p.platform || p.plat_name; }
    if (key === "weights") { return p.weights || "-"; }
    if (key === "scenario") { return p.scenario + (p.invalid ? " \u2717 INVALID" : ""); }
    if (key === "model_arch") { return p.model_arch || p.model_design_name; }
    if (METRICS[key]) { return fmt(key, p[key], p); }
    return p[key] === null || p[key] === undefined ? "" : String(p[key]);
  }

  function sortValue(p, key, front) {
    if (key === "front") { return front.has(p.id) ? 1 : 0; }
    if (key === "validated" || key === "synthetic") { return p[key] ? 1 : 0; }
    return p[key];
  }

  function compare(key, asc, front) {
    return function (a, b) {
      var u = sortValue(a, key, front), v = sortValue(b, key, front);
      var missU = u === null || u === undefined || u === "", missV = v === null || v === undefined || v === "";
      if (missU || missV) { return missU === missV ? 0 : (missU ? 1 : -1); }
      var order = typeof u === "number" ? u - v : String(u).localeCompare(String(v));
      return asc ? order : -order;
    };
  }

  function drawTable(front) {
    var cols = columns(), thead = document.querySelector("#points thead"), tbody = document.querySelector("#points tbody");
    thead.textContent = "";
    tbody.textContent = "";
    var head = el("tr");
    cols.forEach(function (col) {
      var th = el("th", col[1]);
      th.setAttribute("data-key", col[0]);
      if (col[0] === state.sortKey) { th.setAttribute("aria-sort", state.sortAsc ? "ascending" : "descending"); }
      th.addEventListener("click", function () {
        state.sortAsc = state.sortKey === col[0] ? !state.sortAsc : true;
        state.sortKey = col[0];
        drawTable(front);
      });
      head.appendChild(th);
    });
    thead.appendChild(head);
    var rows = document.createDocumentFragment();
    var sorted = DATA.points.slice().sort(compare(state.sortKey, state.sortAsc, front));
    showRowNote(sorted.length, front);
    sorted.slice(0, state.showAll ? sorted.length : ROW_LIMIT).forEach(function (p) {
      var tr = el("tr", null, front.has(p.id) ? "pareto" : "");
      tr.setAttribute("data-id", p.id);
      cols.forEach(function (col) {
        tr.appendChild(el("td", cellText(p, col[0], front), METRICS[col[0]] ? "num" : ""));
      });
      rows.appendChild(tr);
    });
    tbody.appendChild(rows);
  }

  // Laying out tens of thousands of rows takes the browser seconds: show the first ones unless asked.
  function showRowNote(total, front) {
    var note = document.getElementById("table-note");
    note.textContent = "";
    if (total <= ROW_LIMIT || state.showAll) { return; }
    note.appendChild(document.createTextNode("The first " + ROW_LIMIT + " of " + total + " rows in this order. "));
    var all = el("button", "Show all " + total + " rows");
    all.addEventListener("click", function () { state.showAll = true; drawTable(front); });
    note.appendChild(all);
  }

  function fillSelect(id, options, value) {
    var select = document.getElementById(id);
    options.forEach(function (o) {
      var opt = el("option", o[1]);
      opt.value = o[0];
      select.appendChild(opt);
    });
    select.value = value;
    return select;
  }

  function bindAxis(axis) {
    var metric = fillSelect(axis + "-metric", DATA.metrics.map(function (m) { return [m.key, label(m.key)]; }), state[axis]);
    var better = document.getElementById(axis + "-better"), log = document.getElementById(axis + "-log");
    var key = axis === "x" ? "xBetter" : "yBetter", logKey = axis === "x" ? "xLog" : "yLog";
    better.value = state[key];
    log.checked = state[logKey];
    metric.addEventListener("change", function () {
      state[axis] = metric.value;
      state[key] = better.value = METRICS[metric.value].better;
      state[logKey] = log.checked = METRICS[metric.value].log;
      draw();
    });
    better.addEventListener("change", function () { state[key] = better.value; draw(); });
    log.addEventListener("change", function () { state[logKey] = log.checked; draw(); });
  }

  function showSkipped() {
    if (!DATA.skipped.length) { return; }
    var box = document.getElementById("skipped");
    box.appendChild(el("h2", "Skipped entries (" + DATA.skipped.length + ")"));
    var list = el("ul");
    DATA.skipped.forEach(function (s) { list.appendChild(el("li", s.path + ": " + s.reason)); });
    box.appendChild(list);
  }

  var BY_ID = {};
  DATA.points.forEach(function (p) { BY_ID[p.id] = p; });
  var scatter = document.getElementById("scatter");
  scatter.addEventListener("mouseover", function (e) {
    var id = e.target.getAttribute && e.target.getAttribute("data-id");
    if (id && BY_ID[id]) {
      var here = pointsUnder(e);
      showTooltip(here.length ? here : [BY_ID[id]], e);
    }
  });
  scatter.addEventListener("mouseout", function () { document.getElementById("tooltip").hidden = true; });
  bindAxis("x");
  bindAxis("y");
  var colourBy = fillSelect("colour-by", DATA.colour_by.map(function (c) { return [c.key, c.label]; }), state.colourBy);
  colourBy.addEventListener("change", function () { state.colourBy = colourBy.value; draw(); });
  var synthetic = DATA.points.filter(function (p) { return p.synthetic; }).length;
  document.getElementById("summary").textContent = DATA.points.length + " points from " + DATA.repos.join(", ") +
    (synthetic ? "; " + synthetic + " with synthetic weights (speed only, no accuracy)" : "") + ". Generated " + DATA.generated + ".";
  showSkipped();
  draw();
  document.body.setAttribute("data-ready", "yes");
}());
