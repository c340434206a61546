// ck-request dashboard, explorations: each `ck explore` entry's trials in the order they ran, its
// Pareto frontier as it grew (a slider steps through the trials; the trial number shows on hover)
// and its hypervolume after each trial. Texts go in through textContent only, as in dashboard.js.
(function () {
  "use strict";
  var DATA = CKR.data;
  var box = document.getElementById("explorations");
  if (!DATA.explorations || !DATA.explorations.length) { box.hidden = true; return; }
  var METRICS = {};
  DATA.metrics.forEach(function (m) { METRICS[m.key] = m; });
  var COLOURS = {measured: "#1f77b4", infeasible: "#999999"};

  var el = CKR.el, svg = CKR.svg, isNum = CKR.isNum;
  function fmt(key, v) {
    var m = METRICS[key];
    if (!isNum(v) || !m) { return "-"; }
    return String(Number((v * m.scale).toPrecision(4))) + (m.unit === "%" ? "%" : (m.unit ? " " + m.unit : ""));
  }
  function label(key) { var m = METRICS[key]; return m ? m.label + (m.unit ? " [" + m.unit + "]" : "") : key; }
  function linear(values, lo, hi) {
    var min = Math.min.apply(null, values), max = Math.max.apply(null, values);
    if (!values.length) { min = 0; max = 1; }
    if (min === max) { min -= Math.abs(min) * 0.1 || 1; max += Math.abs(max) * 0.1 || 1; }
    var pad = (max - min) * 0.06;
    min -= pad; max += pad;
    var f = function (v) { return lo + (v - min) / (max - min) * (hi - lo); };
    f.min = min; f.max = max;
    return f;
  }
  function text(root, x, y, content, attrs) {
    var node = svg("text", Object.assign({x: x, y: y}, attrs || {}));
    node.textContent = content;
    root.appendChild(node);
  }

  function view(exp, index) {
    var section = el("section", null, "exploration");
    section.setAttribute("data-entry", exp.entry);
    var keys = exp.objectives.map(function (o) { return o.key; });
    var measured = exp.trials.filter(function (t) { return t.status !== "skipped"; });
    var counts = {};
    exp.trials.forEach(function (t) { counts[t.status] = (counts[t.status] || 0) + 1; });
    section.appendChild(el("h3", exp.repo + ":" + exp.entry));
    section.appendChild(el("p", exp.strategy + " search of " + exp.space_name + " (" + exp.space_size + " stacks): " +
      exp.trials.length + " trials, " + (counts.measured || 0) + " measured, " + (counts.infeasible || 0) +
      " infeasible, " + (counts.skipped || 0) + " skipped. Objectives: " +
      exp.objectives.map(function (o) { return label(o.key) + " (" + o.better + ")"; }).join(", ") +
      (exp.constraints.length ? ". Constraints: " + exp.constraints.join("; ") : "") + ".", "key"));

    var controls = el("p");
    var slider = el("input");
    slider.type = "range"; slider.min = "1"; slider.max = String(Math.max(1, exp.trials.length));
    slider.value = slider.max; slider.className = "trial-slider";
    slider.setAttribute("aria-label", "frontier after trial");
    var sliderText = el("span", null, "trial-label");
    controls.appendChild(el("span", "Frontier after trial "));
    controls.appendChild(slider);
    controls.appendChild(sliderText);
    section.appendChild(controls);

    var plots = el("div", null, "explore-plots");
    var W = 620, H = 360, M = {left: 70, right: 16, top: 14, bottom: 44};
    var scatter = svg("svg", {width: W, height: H, viewBox: "0 0 " + W + " " + H, "class": "explore-scatter",
                              role: "img", "aria-label": "trials of the exploration"});
    var HW = 320, HH = 180, HM = {left: 46, right: 10, top: 12, bottom: 34};
    var hvPlot = svg("svg", {width: HW, height: HH, viewBox: "0 0 " + HW + " " + HH, "class": "hv-plot",
                             role: "img", "aria-label": "hypervolume over trials"});
    plots.appendChild(scatter);
    plots.appendChild(hvPlot);
    var tip = el("div", null, "explore-tooltip");
    tip.hidden = true;
    plots.appendChild(tip);
    section.appendChild(plots);

    // One objective: the trials' values over trial number; two or more: the first two against each other.
    var xKey = keys.length > 1 ? keys[0] : "trial", yKey = keys.length > 1 ? keys[1] : keys[0];
    var xOf = function (t) { return xKey === "trial" ? t.number : t.values[xKey]; };
    var plotted = measured.filter(function (t) { return isNum(xOf(t)) && isNum(t.values[yKey]); });
    var sx = linear(plotted.map(xOf), M.left, W - M.right);
    var sy = linear(plotted.map(function (t) { return t.values[yKey]; }), H - M.bottom, M.top);
    var hx = linear(exp.growth.map(function (g) { return g.trial; }), HM.left, HW - HM.right);
    var hy = linear([0].concat(exp.growth.map(function (g) { return g.hypervolume; })), HH - HM.bottom, HM.top);

    var table = el("table", null, "trials");
    var head = el("tr");
    ["trial", "stack", "status"].concat(keys.map(label)).concat(["why / point"]).forEach(function (h) {
      head.appendChild(el("th", h));
    });
    table.appendChild(head);
    var rows = exp.trials.map(function (t) {
      var tr = el("tr");
      tr.setAttribute("data-trial", t.number);
      [String(t.number), t.label, t.status].concat(keys.map(function (k) { return fmt(k, t.values[k]); }))
        .concat([t.reason || t.point]).forEach(function (c, k) {
          tr.appendChild(el("td", c, k >= 3 && k < 3 + keys.length ? "num" : ""));
        });
      table.appendChild(tr);
      return tr;
    });
    section.appendChild(table);

    function tipText(t) {
      return "trial " + t.number + ": " + t.label + "\n" + t.status +
        keys.map(function (k) { return "\n" + label(k) + ": " + fmt(k, t.values[k]); }).join("") +
        (t.reason ? "\n" + t.reason : "");
    }

    function draw(upTo) {
      var step = exp.growth[Math.min(upTo, exp.growth.length) - 1] || {frontier: [], hypervolume: 0};
      var front = new Set(step.frontier);
      sliderText.textContent = " " + upTo + " of " + exp.trials.length + ": " + front.size +
        " stack(s) on the frontier, hypervolume " + step.hypervolume.toFixed(3);
      scatter.textContent = "";
      text(scatter, (M.left + W - M.right) / 2, H - 10, xKey === "trial" ? "trial" : label(xKey), {"text-anchor": "middle"});
      text(scatter, 14, (M.top + H - M.bottom) / 2, label(yKey),
           {"text-anchor": "middle", transform: "rotate(-90 14 " + (M.top + H - M.bottom) / 2 + ")"});
      [[sx.min, sx.max, true], [sy.min, sy.max, false]].forEach(function (axis) {
        [0, 0.5, 1].forEach(function (f) {
          var v = axis[0] + (axis[1] - axis[0]) * (0.06 + 0.88 * f), key = axis[2] ? xKey : yKey;
          var shown = key === "trial" ? String(Math.round(v)) : fmt(key, v);
          if (axis[2]) { text(scatter, sx(v), H - M.bottom + 16, shown, {"text-anchor": "middle"}); }
          else { text(scatter, M.left - 6, sy(v) + 4, shown, {"text-anchor": "end"}); }
        });
      });
      var line = plotted.filter(function (t) { return front.has(t.number); })
        .sort(function (a, b) { return xOf(a) - xOf(b) || a.values[yKey] - b.values[yKey]; });
      if (line.length > 1) {
        scatter.appendChild(svg("polyline", {"class": "frontier", points: line.map(function (t) {
          return sx(xOf(t)) + "," + sy(t.values[yKey]); }).join(" ")}));
      }
      plotted.filter(function (t) { return t.number <= upTo; }).forEach(function (t) {
        var on = front.has(t.number), latest = t.number === upTo;
        scatter.appendChild(svg("circle", {cx: sx(xOf(t)), cy: sy(t.values[yKey]), r: on ? 6.5 : 4.5,
          fill: on ? COLOURS.measured : "#ffffff", stroke: COLOURS[t.status] || "#999999",
          "class": "trial" + (on ? " pareto" : "") + (latest ? " latest" : ""), "data-trial": t.number}));
      });
      hvPlot.textContent = "";
      text(hvPlot, (HM.left + HW - HM.right) / 2, HH - 8, "trial", {"text-anchor": "middle"});
      text(hvPlot, HM.left - 6, hy(0) + 4, "0", {"text-anchor": "end"});
      var top = exp.growth.length ? exp.growth[exp.growth.length - 1].hypervolume : 0;
      text(hvPlot, HM.left - 6, hy(top) + 4, top.toFixed(2), {"text-anchor": "end"});
      text(hvPlot, HM.left, HM.top - 2, "hypervolume", {"text-anchor": "start"});
      if (exp.growth.length) {
        hvPlot.appendChild(svg("polyline", {"class": "hv-line", points: exp.growth.map(function (g) {
          return hx(g.trial) + "," + hy(g.hypervolume); }).join(" ")}));
        hvPlot.appendChild(svg("circle", {cx: hx(step.trial || 1), cy: hy(step.hypervolume), r: 4, "class": "hv-now"}));
      }
      rows.forEach(function (tr, k) {
        var t = exp.trials[k];
        tr.className = (front.has(t.number) ? "pareto" : "") + (t.number > upTo ? " later" : "");
      });
    }

    slider.addEventListener("input", function () { draw(Number(slider.value)); });
    var byNumber = {};
    exp.trials.forEach(function (t) { byNumber[t.number] = t; });
    scatter.addEventListener("mouseover", function (e) {
      var number = e.target.getAttribute && e.target.getAttribute("data-trial");
      if (!number || !byNumber[number]) { return; }
      var where = plots.getBoundingClientRect();
      tip.textContent = tipText(byNumber[number]);
      tip.hidden = false;
      tip.style.left = (e.clientX - where.left + 14) + "px";
      tip.style.top = (e.clientY - where.top + 14) + "px";
    });
    scatter.addEventListener("mouseout", function () { tip.hidden = true; });
    draw(exp.trials.length || 1);
    section.id = "exploration-" + index;
    return section;
  }

  box.appendChild(el("h2", "Explorations (" + DATA.explorations.length + ")"));
  DATA.explorations.forEach(function (exp, k) { box.appendChild(view(exp, k)); });
}());
