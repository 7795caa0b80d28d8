(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("review-data").textContent);
  // records and golden values arrive as rows of data.record_cols / data.golden_cols (the
  // names once, not per record): objects again here, once
  function asObject(row, cols) {
    var o = {};
    row.forEach(function (v, i) { if (v !== null) { o[cols[i]] = v; } });
    return o;
  }
  data.clusters.forEach(function (c) {
    c.golden = asObject(c.golden, data.golden_cols);
    c.records = c.records.map(function (row) {
      var r = asObject(row, data.record_cols);
      r.source_file = data.files[r.source_file] || "";
      return r;
    });
  });
  var L = data.labels;
  var runId = data.run_id;
  var key = "crm-audit-merge-review:" + runId;
  var clusters = data.clusters;
  var pageSize = data.page_size || 50;
  var pairCols = data.pair_cols;
  var byId = {};
  var decisions = {};  // cluster id -> {decision, split_off}
  var history = [];    // undo stack: lists of [cluster id, previous state or null]
  var view = [];       // indices of clusters that pass the filters, in sort order
  var page = 0;
  var focus = 0;       // position in view
  var F = { q: "", band: "", source: "", smin: "", smax: "", state: "", guard: "", sort: "" };

  function fmt(s, vals) {
    return String(s).replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(vals, k) ? String(vals[k]) : m;
    });
  }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") { e.textContent = attrs[k]; }
        else if (k === "className") { e.className = attrs[k]; }
        else { e.setAttribute(k, attrs[k]); }
      });
    }
    (kids || []).forEach(function (k) {
      if (k !== null && k !== undefined) {
        e.appendChild(typeof k === "string" ? document.createTextNode(k) : k);
      }
    });
    return e;
  }

  // ------------------------------------------------------------ search index
  var sourceSet = {}, guardSet = {};
  clusters.forEach(function (c, i) {
    byId[c.id] = i;
    var words = [c.id];
    c.sources = [];
    c.records.forEach(function (r) {
      words.push(r.record_id, r.full_name || "", r.first_name || "", r.last_name || "",
        r.email || "", r.company || "", r.external_id || "");
      if (r.source && c.sources.indexOf(r.source) < 0) { c.sources.push(r.source); }
      sourceSet[r.source] = true;
    });
    words.push(c.golden.full_name || "", c.golden.email || "", c.golden.company || "");
    c.text = words.join("\n").toLowerCase();
    c.guards.forEach(function (g) { guardSet[g] = true; });
  });

  // ------------------------------------------------------------ decisions
  function counted(d) {
    return d && (d.decision !== "split" || d.split_off.length > 0);
  }
  function stateOf(c) {
    var d = decisions[c.id];
    return counted(d) ? d.decision : "";
  }
  function setDecision(cid, d, batch) {
    batch.push([cid, decisions[cid] ? JSON.parse(JSON.stringify(decisions[cid])) : null]);
    if (d) { decisions[cid] = d; } else { delete decisions[cid]; }
  }
  function commit(batch) {
    if (batch.length) { history.push(batch); }
    save();
  }
  function all() {
    var out = [];
    clusters.forEach(function (c) {
      var d = decisions[c.id];
      if (counted(d)) {
        out.push({ cluster_id: c.id, decision: d.decision,
          split_off: d.decision === "split" ? d.split_off.slice() : [] });
      }
    });
    return out;
  }
  function save() {
    var list = Object.keys(decisions).map(function (k) {
      return { cluster_id: k, decision: decisions[k].decision, split_off: decisions[k].split_off };
    });
    try { localStorage.setItem(key, JSON.stringify(list)); } catch (e) { /* private mode */ }
  }
  function restore() {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { saved = []; }
    (Array.isArray(saved) ? saved : []).forEach(function (d) {
      if (d && Object.prototype.hasOwnProperty.call(byId, d.cluster_id) &&
          ["approve", "reject", "split"].indexOf(d.decision) >= 0) {
        decisions[d.cluster_id] = { decision: d.decision, split_off: d.split_off || [] };
      }
    });
  }

  // ------------------------------------------------------------ toolbar
  var bar = document.getElementById("toolbar");
  function select(id, label, options) {
    var s = el("select", { id: id });
    options.forEach(function (o) { s.appendChild(el("option", { value: o[0], text: o[1] })); });
    return el("label", null, [label + " ", s]);
  }
  var search = el("input", { type: "search", id: "search", placeholder: L.rv_search,
    "aria-label": L.rv_search });
  var sources = Object.keys(sourceSet).sort();
  var guards = Object.keys(guardSet).sort();
  bar.appendChild(search);
  bar.appendChild(select("f-band", L.rv_band, [["", L.rv_any], ["review", L.rv_band_review],
    ["auto", L.rv_band_auto]]));
  bar.appendChild(select("f-source", L.rv_source, [["", L.rv_any]].concat(
    sources.map(function (s) { return [s, s]; }))));
  bar.appendChild(el("label", null, [L.rv_score_min + " ",
    el("input", { type: "number", id: "f-smin", min: "0", max: "1", step: "0.01" })]));
  bar.appendChild(el("label", null, [L.rv_score_max + " ",
    el("input", { type: "number", id: "f-smax", min: "0", max: "1", step: "0.01" })]));
  bar.appendChild(select("f-state", L.rv_state, [["", L.rv_any], ["undecided", L.rv_undecided],
    ["decided", L.rv_decided], ["approve", L.rv_approved], ["reject", L.rv_rejected],
    ["split", L.rv_split_state]]));
  bar.appendChild(select("f-guard", L.rv_guard, [["", L.rv_any]].concat(
    guards.map(function (g) { return [g, g]; }))));
  bar.appendChild(select("f-sort", L.rv_sort, [["", L.rv_sort_default],
    ["score_asc", L.rv_sort_score_asc], ["score_desc", L.rv_sort_score_desc],
    ["size", L.rv_sort_size]]));
  bar.appendChild(el("span", { id: "shown-count", role: "status" }));
  bar.appendChild(el("span", { id: "counts" }));
  [["bulk-approve", L.rv_bulk_approve], ["bulk-reject", L.rv_bulk_reject],
   ["bulk-clear", L.rv_bulk_clear], ["undo", L.rv_undo],
   ["download-json", L.rv_download_json], ["download-csv", L.rv_download_csv]
  ].forEach(function (b) { bar.appendChild(el("button", { type: "button", id: b[0], text: b[1] })); });
  bar.appendChild(el("span", { className: "keys", text: L.rv_keys }));

  // ------------------------------------------------------------ filter and sort
  function applyFilters() {
    var q = F.q.trim().toLowerCase(), terms = q ? q.split(/\s+/) : [];
    var lo = F.smin === "" ? null : parseFloat(F.smin);
    var hi = F.smax === "" ? null : parseFloat(F.smax);
    view = [];
    for (var i = 0; i < clusters.length; i++) {
      var c = clusters[i];
      if (F.band && c.band !== F.band) { continue; }
      if (F.source && c.sources.indexOf(F.source) < 0) { continue; }
      if (F.guard && c.guards.indexOf(F.guard) < 0) { continue; }
      if (lo !== null && !isNaN(lo) && (c.smin === null || c.smin < lo)) { continue; }
      if (hi !== null && !isNaN(hi) && (c.smin === null || c.smin > hi)) { continue; }
      if (F.state) {
        var s = stateOf(c);
        if (F.state === "undecided" ? s !== "" : F.state === "decided" ? s === "" : s !== F.state) {
          continue;
        }
      }
      var ok = true;
      for (var t = 0; t < terms.length && ok; t++) { ok = c.text.indexOf(terms[t]) >= 0; }
      if (ok) { view.push(i); }
    }
    var score = function (i) { return clusters[i].smin === null ? -1 : clusters[i].smin; };
    if (F.sort === "score_asc") { view.sort(function (a, b) { return score(a) - score(b) || a - b; }); }
    if (F.sort === "score_desc") { view.sort(function (a, b) { return score(b) - score(a) || a - b; }); }
    if (F.sort === "size") {
      view.sort(function (a, b) {
        return clusters[b].records.length - clusters[a].records.length || a - b;
      });
    }
    page = 0;
    focus = 0;
    render();
  }

  // ------------------------------------------------------------ rendering
  var main = document.getElementById("clusters");
  function decisionClass(sec, c) {
    var d = decisions[c.id];
    sec.classList.remove("decided-approve", "decided-reject", "decided-split");
    if (counted(d)) { sec.classList.add("decided-" + d.decision); }
    var value = d ? d.decision : "";
    sec.querySelectorAll("input.decision").forEach(function (r) { r.checked = r.value === value; });
    sec.querySelectorAll("input.split-off").forEach(function (b) {
      b.disabled = value !== "split";
      b.checked = value === "split" && d.split_off.indexOf(b.value) >= 0;
    });
  }
  function num(v) { return typeof v === "number" && isFinite(v); }
  function pairsTable(c) {
    if (!c.pairs.length) { return el("p", { className: "why", text: L.rv_no_pairs }); }
    var order = [], first = ["record_id_l", "record_id_r", "score", "why", "rule_id", "band"];
    first.forEach(function (k) { if (pairCols.indexOf(k) >= 0) { order.push(k); } });
    pairCols.forEach(function (k) { if (order.indexOf(k) < 0) { order.push(k); } });
    var head = el("tr", null, order.map(function (k) {
      return el("th", { text: k.indexOf("sim_") === 0 ? k.slice(4) : k });
    }));
    var body = el("tbody", null, c.pairs.map(function (row) {
      return el("tr", null, order.map(function (k) {
        var v = row[pairCols.indexOf(k)];
        if (k === "score" || k.indexOf("sim_") === 0) {
          if (!num(v)) { return el("td", { className: "num null", text: "–" }); }
          var lvl = v >= 0.9 ? "hi" : (v >= 0.6 ? "mid" : "lo");
          return el("td", { className: "num " + lvl, text: v.toFixed(2) });
        }
        return el("td", { className: k === "why" ? "why" : "",
          text: v === null || v === undefined ? "" : String(v) });
      }));
    }));
    return el("table", { className: "pairs" }, [el("thead", null, [head]), body]);
  }
  function clusterEl(c, pos) {
    var score = c.smin === null ? "" : " · " + L.rv_score + " " + c.smin.toFixed(3) +
      (c.smax !== c.smin ? "–" + c.smax.toFixed(3) : "");
    var sec = el("section", { className: "cluster band-" + c.band, "data-cluster-id": c.id,
      "data-band": c.band, "data-pos": String(pos), tabindex: "-1" });
    var h2 = el("h2", null, [L.rv_cluster + " ", el("code", { text: c.id }),
      el("span", { className: "band", text: L["rv_band_" + c.band] || c.band }),
      el("span", { className: "meta", text: fmt(L.rv_records, { n: c.records.length }) + score })]);
    c.guards.forEach(function (g) { h2.appendChild(el("span", { className: "guard", text: g })); });
    sec.appendChild(h2);
    if (c.people) {
      sec.appendChild(el("p", { className: "check", text: fmt(L.rv_check_people, { n: c.people }) }));
    }
    if (c.reason) { sec.appendChild(el("p", { className: "reason", text: c.reason })); }
    var decide = el("div", { className: "decide", role: "radiogroup" });
    [["approve", L.rv_approve_merge], ["reject", L.rv_reject], ["split", L.rv_split]]
      .forEach(function (o) {
        decide.appendChild(el("label", null, [el("input", { type: "radio", className: "decision",
          name: "d-" + c.id, value: o[0] }), " " + o[1]]));
      });
    decide.appendChild(el("small", { className: "hint", text: L.rv_split_hint }));
    sec.appendChild(decide);
    var hr = el("tr", null, [el("th", { text: L.rv_field }),
      el("th", { className: "golden", text: L.rv_golden })]);
    c.records.forEach(function (r, i) {
      var surv = r.record_id === c.survivor;
      hr.appendChild(el("th", { className: surv ? "survivor" : "record" }, [
        el("label", { className: "splitbox", title: L.rv_split_off }, [
          el("input", { type: "checkbox", className: "split-off", value: r.record_id,
            disabled: "" }), " " + (i + 1) + " " + L.rv_split_off]),
        el("code", { text: r.record_id }),
        el("small", { text: (r.source || "") + " · " + (r.source_file || "") + " " + L.rv_row +
          " " + (r.source_row || "") + (surv ? " · " + L.rv_survivor : "") })]));
    });
    var rows = [];
    data.fields.forEach(function (f) {
      var vals = c.records.map(function (r) { return r[f] || ""; });
      if (!c.golden[f] && !vals.some(Boolean)) { return; }
      // golden values not named in c.from are the survivor's; a field's rule is data.rules[f]
      var src = c.from[f] || (c.golden[f] ? c.survivor : null), note = null;
      if (src) {
        var who = typeof src === "string" ? src : src.join("; ");
        note = el("small", { className: "from",
          text: fmt(L.rv_from, { who: who, rule: data.rules[f] || "" }) });
      }
      var tr = el("tr", c.diff.indexOf(f) >= 0 ? { className: "diff" } : null, [
        el("th", { text: f }), el("td", { className: "golden" }, [c.golden[f] || "", note])]);
      c.records.forEach(function (r, i) {
        tr.appendChild(el("td", src === r.record_id ? { className: "won" } : null,
          [vals[i]]));
      });
      rows.push(tr);
    });
    data.alternates.forEach(function (a) {
      if (c.golden[a]) {
        rows.push(el("tr", { className: "alt" }, [el("th", { text: a }),
          el("td", { className: "golden" }, [c.golden[a],
            el("small", { className: "from", text: L.rv_losing })]),
          el("td", { colspan: String(c.records.length) })]));
      }
    });
    sec.appendChild(el("table", { className: "side" }, [el("thead", null, [hr]),
      el("tbody", null, rows)]));
    sec.appendChild(el("p", { className: "master",
      text: fmt(L.rv_survivor_by, { id: c.survivor, rule: c.rule }) }));
    var why = el("details", { className: "why" }, [el("summary", { text: L.rv_why })]);
    why.addEventListener("toggle", function () {
      if (why.open && why.children.length === 1) { why.appendChild(pairsTable(c)); }
    });
    sec.appendChild(why);
    decisionClass(sec, c);
    sec.addEventListener("change", function (ev) {
      var t = ev.target, batch = [], d = decisions[c.id];
      if (t.classList.contains("decision")) {
        setDecision(c.id, { decision: t.value, split_off: d ? d.split_off.slice() : [] }, batch);
      } else if (t.classList.contains("split-off") && d) {
        var so = d.split_off.filter(function (x) { return x !== t.value; });
        if (t.checked) { so.push(t.value); }
        setDecision(c.id, { decision: d.decision, split_off: so }, batch);
      }
      commit(batch);
      decisionClass(sec, c);
      counts();
    });
    sec.addEventListener("click", function () { setFocus(pos, false); });
    return sec;
  }
  function pager() {
    var pages = Math.max(1, Math.ceil(view.length / pageSize));
    var box = el("div", { className: "pager" }, [
      el("button", { type: "button", className: "prev-page", text: L.rv_prev }),
      " " + fmt(L.rv_page, { page: page + 1, pages: pages }) + " ",
      el("button", { type: "button", className: "next-page", text: L.rv_next })]);
    box.children[0].disabled = page === 0;
    box.children[1].disabled = page >= pages - 1;
    box.children[0].addEventListener("click", function () { goPage(page - 1); });
    box.children[1].addEventListener("click", function () { goPage(page + 1); });
    return box;
  }
  function goPage(p) {
    page = p;
    focus = p * pageSize;
    render();
    window.scrollTo(0, 0);
  }
  function render() {
    var frag = document.createDocumentFragment();
    if (!clusters.length) {
      frag.appendChild(el("p", { className: "empty", text: L.rv_empty }));
    } else if (!view.length) {
      frag.appendChild(el("p", { className: "empty", text: L.rv_no_match }));
    } else {
      frag.appendChild(pager());
      var end = Math.min(view.length, (page + 1) * pageSize);
      for (var p = page * pageSize; p < end; p++) { frag.appendChild(clusterEl(clusters[view[p]], p)); }
      frag.appendChild(pager());
    }
    main.textContent = "";
    main.appendChild(frag);
    document.getElementById("shown-count").textContent =
      fmt(L.rv_showing, { shown: view.length, total: clusters.length });
    counts();
    markFocus(false);
  }
  function counts() {
    var d = all(), n = { approve: 0, reject: 0, split: 0 };
    d.forEach(function (x) { n[x.decision] += 1; });
    document.getElementById("counts").textContent = fmt(L.rv_counts, { n: d.length,
      total: clusters.length, approve: n.approve, reject: n.reject, split: n.split });
  }

  // ------------------------------------------------------------ focus and keyboard
  function focusedSection() {
    return main.querySelector('section.cluster[data-pos="' + focus + '"]');
  }
  function markFocus(move) {
    main.querySelectorAll("section.cluster.focused").forEach(function (s) {
      s.classList.remove("focused");
    });
    var sec = focusedSection();
    if (sec) {
      sec.classList.add("focused");
      if (move) { sec.focus(); sec.scrollIntoView({ block: "nearest" }); }
    }
  }
  function setFocus(pos, move) {
    if (!view.length) { return; }
    pos = Math.max(0, Math.min(view.length - 1, pos));
    focus = pos;
    var p = Math.floor(pos / pageSize);
    if (p !== page) { page = p; render(); }
    markFocus(move);
  }
  function refreshShown() {
    main.querySelectorAll("section.cluster").forEach(function (s) {
      decisionClass(s, clusters[byId[s.getAttribute("data-cluster-id")]]);
    });
  }
  function decideFocused(value) {
    var sec = focusedSection();
    if (!sec) { return; }
    var c = clusters[view[focus]], d = decisions[c.id], batch = [];
    setDecision(c.id, { decision: value, split_off: d ? d.split_off.slice() : [] }, batch);
    commit(batch);
    decisionClass(sec, c);
    counts();
    if (value !== "split") { setFocus(focus + 1, true); }
  }
  function toggleSplit(n) {
    var sec = focusedSection();
    if (!sec) { return; }
    var c = clusters[view[focus]], r = c.records[n - 1], d = decisions[c.id];
    if (!r || !d || d.decision !== "split") { return; }
    var batch = [], so = d.split_off.filter(function (x) { return x !== r.record_id; });
    if (so.length === d.split_off.length) { so.push(r.record_id); }
    setDecision(c.id, { decision: "split", split_off: so }, batch);
    commit(batch);
    decisionClass(sec, c);
    counts();
  }
  function undo() {
    var batch = history.pop();
    if (!batch) { return; }
    for (var i = batch.length - 1; i >= 0; i--) {
      if (batch[i][1]) { decisions[batch[i][0]] = batch[i][1]; } else { delete decisions[batch[i][0]]; }
    }
    save();
    refreshShown();
    counts();
  }
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (t && (t.tagName === "SELECT" || t.tagName === "TEXTAREA" ||
        (t.tagName === "INPUT" && ["radio", "checkbox"].indexOf(t.type) < 0))) {
      if (ev.key === "Escape") { t.blur(); }
      return;
    }
    var k = ev.key;
    if (k === "j" || k === "n") { setFocus(focus + 1, true); }
    else if (k === "k" || k === "p") { setFocus(focus - 1, true); }
    else if (k === "a") { decideFocused("approve"); }
    else if (k === "r") { decideFocused("reject"); }
    else if (k === "s") { decideFocused("split"); }
    else if (k === "u") { undo(); }
    else if (k === "/") { search.focus(); }
    else if (/^[1-9]$/.test(k)) { toggleSplit(parseInt(k, 10)); }
    else { return; }
    ev.preventDefault();
  });

  // ------------------------------------------------------------ bulk, downloads
  function bulk(value, question) {
    if (!view.length || !window.confirm(fmt(question, { n: view.length }))) { return; }
    var batch = [];
    view.forEach(function (i) {
      var c = clusters[i];
      if (value) {
        var d = decisions[c.id];
        setDecision(c.id, { decision: value,
          split_off: value === "split" && d ? d.split_off.slice() : [] }, batch);
      } else if (decisions[c.id]) {
        setDecision(c.id, null, batch);
      }
    });
    commit(batch);
    if (F.state) { applyFilters(); } else { refreshShown(); counts(); }
  }
  function download(name, text, type) {
    var blob = new Blob([text], { type: type });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 2000);
  }
  function csvCell(s) {
    s = String(s);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  document.getElementById("bulk-approve").addEventListener("click", function () {
    bulk("approve", L.rv_confirm_approve);
  });
  document.getElementById("bulk-reject").addEventListener("click", function () {
    bulk("reject", L.rv_confirm_reject);
  });
  document.getElementById("bulk-clear").addEventListener("click", function () {
    bulk(null, L.rv_confirm_clear);
  });
  document.getElementById("undo").addEventListener("click", undo);
  document.getElementById("download-json").addEventListener("click", function () {
    var doc = { format: "crm-audit.merge-decisions", version: 1, run_id: runId, decisions: all() };
    download("merge_decisions.json", JSON.stringify(doc, null, 1) + "\n", "application/json");
  });
  document.getElementById("download-csv").addEventListener("click", function () {
    var lines = ["cluster_id,decision,split_off"];
    all().forEach(function (d) {
      lines.push([d.cluster_id, d.decision, d.split_off.join("; ")].map(csvCell).join(","));
    });
    download("merge_decisions.csv", lines.join("\n") + "\n", "text/csv");
  });
  var timer = null;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { F.q = search.value; applyFilters(); }, 120);
  });
  [["f-band", "band"], ["f-source", "source"], ["f-smin", "smin"], ["f-smax", "smax"],
   ["f-state", "state"], ["f-guard", "guard"], ["f-sort", "sort"]].forEach(function (x) {
    document.getElementById(x[0]).addEventListener("change", function (ev) {
      F[x[1]] = ev.target.value;
      applyFilters();
    });
  });
  restore();
  applyFilters();
  document.body.setAttribute("data-ready", "1");
})();
