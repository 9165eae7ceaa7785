/* interactcs trajectory viewer: filters, search and pagination over the embedded dialogues.
 * Dialogue text is untrusted: it only ever reaches the page through textContent / text nodes.
 * Embedded dialogue keys (see report/collect.py slim_dialogue / slim_turn):
 *   src sid cat need cmp open sat end term trunc v fails agent user scene seed group rc scores
 *   (scores: dialogue judge scores, shown as badges; *_detail objects folded as item badges)
 *   turns[]: u (user text) th (think) r (response) a (action) st (status) det (detail)
 *            c (costs) rep (reply) acts ps (process score) pd (process detail) raw
 */
(function () {
  "use strict";
  var holder = document.getElementById("traj-data");
  var list = document.getElementById("dlg-list");
  if (!holder || !list) return;
  var DATA = JSON.parse(holder.textContent || "{}");
  var ALL = DATA.dialogues || [];
  var CATS = DATA.categories || {}, NEEDS = DATA.needs || {}, CMPS = DATA.complaints || {};
  var state = { page: 0, matches: ALL };
  var $ = function (id) { return document.getElementById(id); };
  var F = {
    source: $("f-source"), category: $("f-category"), need: $("f-need"),
    complaint: $("f-complaint"), sat: $("f-sat"), end: $("f-end"), voucher: $("f-voucher"),
    search: $("f-search"), pagesize: $("f-pagesize")
  };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function badge(text, cls, title) {
    var b = el("span", "badge" + (cls ? " " + cls : ""), text);
    if (title) b.title = title;
    return b;
  }
  function uniq(key) {
    var seen = {}, out = [];
    ALL.forEach(function (d) {
      var v = d[key];
      if (v === null || v === undefined || v === "") return;
      if (!seen[v]) { seen[v] = 1; out.push(v); }
    });
    return out.sort(function (a, b) { return a < b ? -1 : a > b ? 1 : 0; });
  }
  function fill(select, values, names) {
    if (!select) return;
    values.forEach(function (v) {
      var o = el("option", null, names && names[v] ? v + " · " + names[v] : v);
      o.value = String(v);
      select.appendChild(o);
    });
  }
  fill(F.source, uniq("src"));
  fill(F.category, uniq("cat"), CATS);
  fill(F.need, uniq("need"), NEEDS);
  fill(F.complaint, uniq("cmp"), CMPS);
  fill(F.end, uniq("end"));
  var MULTI_SRC = uniq("src").length > 1;
  if (F.source && !MULTI_SRC) F.source.parentNode.style.display = "none";

  var HAY = null;
  function haystack(i) {
    if (!HAY) HAY = [];
    if (HAY[i] === undefined) {
      var d = ALL[i], parts = [d.sid, d.open, d.agent, d.src];
      (d.turns || []).forEach(function (t) { parts.push(t.u, t.th, t.r, t.rep, t.raw, t.a); });
      HAY[i] = parts.filter(function (x) { return x; }).join("\n").toLowerCase();
    }
    return HAY[i];
  }
  function satOk(d, want) {
    if (!want) return true;
    var s = d.sat;
    if (want === "none") return s === null || s === undefined;
    if (s === null || s === undefined) return false;
    if (want === "hi") return s >= 4;
    if (want === "mid") return s === 3;
    if (want === "lo") return s <= 2;
    return String(s) === want;
  }
  function val(sel) { return sel ? sel.value : ""; }

  function applyFilters() {
    var src = val(F.source), cat = val(F.category), need = val(F.need), cmp = val(F.complaint);
    var sat = val(F.sat), end = val(F.end), v = val(F.voucher);
    var q = (F.search ? F.search.value : "").trim().toLowerCase();
    var out = [];
    for (var i = 0; i < ALL.length; i++) {
      var d = ALL[i];
      if (src && d.src !== src) continue;
      if (cat && String(d.cat) !== cat) continue;
      if (need && String(d.need) !== need) continue;
      if (cmp && d.cmp !== cmp) continue;
      if (end && d.end !== end) continue;
      if (v === "yes" && !d.v) continue;
      if (v === "no" && d.v) continue;
      if (!satOk(d, sat)) continue;
      if (q && haystack(i).indexOf(q) < 0) continue;
      out.push(d);
    }
    state.matches = out;
    state.page = 0;
    render();
  }

  /* text with the search term wrapped in <mark>, and [Sent Picture: ...] as a chip */
  function richText(parent, text) {
    text = text === null || text === undefined ? "" : String(text);
    var re = /\[Sent Picture:([^\]]*)\]/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      highlight(parent, text.slice(last, m.index));
      var chip = el("span", "picture");
      highlight(chip, "picture: " + m[1].trim());
      parent.appendChild(chip);
      last = m.index + m[0].length;
    }
    highlight(parent, text.slice(last));
    return parent;
  }
  function highlight(parent, text) {
    var q = (F.search ? F.search.value : "").trim();
    if (!q || !text) { parent.appendChild(document.createTextNode(text)); return; }
    var lower = text.toLowerCase(), ql = q.toLowerCase(), pos = 0, k;
    while ((k = lower.indexOf(ql, pos)) >= 0) {
      parent.appendChild(document.createTextNode(text.slice(pos, k)));
      parent.appendChild(el("mark", null, text.slice(k, k + q.length)));
      pos = k + q.length;
    }
    parent.appendChild(document.createTextNode(text.slice(pos)));
  }
  function stars(sat) {
    var s = el("span", "stars");
    s.title = "satisfaction " + sat + "/5";
    for (var i = 1; i <= 5; i++) s.appendChild(el("span", i <= sat ? "" : "off", "★"));
    return s;
  }
  function fold(label, content) {
    var det = el("details"), sum = el("summary", null, label), inner = el("div", "inner");
    if (typeof content === "string") richText(inner, content); else inner.appendChild(content);
    det.appendChild(sum); det.appendChild(inner);
    return det;
  }
  /* numbers as in the report's tables: two decimals, integers as they are */
  function num(v) { return typeof v === "number" ? (Math.round(v) === v ? String(v) : v.toFixed(2)) : String(v); }
  function scoreCls(frac) { return frac >= 0.75 ? "good" : frac < 0.5 ? "bad" : ""; }
  /* a row of small badges "name value" for the numeric entries of obj (max: the item scale;
     fixed: always two decimals, for scores in [0, 1]) */
  function badgeRow(obj, max, cls, fixed) {
    var row = el("div", "badges" + (cls ? " " + cls : ""));
    Object.keys(obj || {}).forEach(function (k) {
      var v = obj[k];
      if (typeof v !== "number") return;
      row.appendChild(badge(k.replace(/_/g, " ") + " " + (fixed ? v.toFixed(2) : num(v)), max ? scoreCls(v / max) : "", k));
    });
    return row;
  }
  var SCORE_MAX = { comm: 28, logic: 12 }, SCORE_NAME = { comm: "Comm.", logic: "Logic" };
  /* dialogue-level judge scores: "Comm. 25/28" badges, and the item scores + reasons folded */
  function scoreBlock(scores) {
    var wrap = el("div", "scores"), head = el("div", "badges");
    wrap.appendChild(head);
    Object.keys(scores).forEach(function (k) {
      var v = scores[k];
      if (typeof v === "number") {
        var max = SCORE_MAX[k], name = SCORE_NAME[k] || k.replace(/_/g, " ");
        head.appendChild(badge(name + " " + num(v) + (max ? "/" + max : ""), max ? scoreCls(v / max) : "score",
                               "dialogue score: " + k));
      } else if (v && typeof v === "object") {
        var inner = el("div");
        if (v.items) inner.appendChild(badgeRow(v.items, 2));
        Object.keys(v.reasons || {}).forEach(function (r) {
          inner.appendChild(el("div", "reason", r.replace(/_/g, " ") + ": " + v.reasons[r]));
        });
        var extra = {};
        Object.keys(v).forEach(function (x) { if (typeof v[x] === "number" || typeof v[x] === "string") extra[x] = v[x]; });
        if (Object.keys(extra).length) inner.appendChild(el("div", "muted small", Object.keys(extra).map(function (x) {
          return x.replace(/_/g, " ") + " " + num(extra[x]);
        }).join(" · ")));
        wrap.appendChild(fold((SCORE_NAME[k.replace(/_detail$/, "")] || k.replace(/_/g, " ")) + " items", inner));
      }
    });
    return wrap;
  }

  function userMsg(text, who) {
    var m = el("div", "msg user");
    m.appendChild(el("span", "who", who));
    richText(m, text);
    return m;
  }
  function agentMsg(t, i) {
    var fail = t.st && t.st !== "ok";
    var m = el("div", "msg agent" + (t.a === "voucher" ? " voucher" : "") + (fail ? " fail" : ""));
    m.appendChild(el("span", "who", "Agent · turn " + (i + 1)));
    if (t.r !== null && t.r !== undefined) richText(m, t.r);
    else m.appendChild(el("em", "muted", "(no response)"));
    var foot = el("div", "foot");
    if (t.a === "voucher") foot.appendChild(badge("VOUCHER", "voucher"));
    else if (t.a) foot.appendChild(badge("action: " + t.a));
    if (fail) foot.appendChild(badge(t.st + (t.det ? ": " + t.det : ""), "bad"));
    if (t.ps !== null && t.ps !== undefined) {
      var cls = t.ps >= 0.75 ? "good" : t.ps < 0.5 ? "bad" : "";
      foot.appendChild(badge("process " + t.ps.toFixed(2), cls, "process (judge) score of this turn"));
    }
    Object.keys(t.c || {}).forEach(function (k) { foot.appendChild(badge("cost " + k + " " + num(t.c[k]), "voucher")); });
    (t.acts || []).forEach(function (a) { foot.appendChild(badge(a)); });
    m.appendChild(foot);
    if (t.th) m.appendChild(fold("think", t.th));
    if (t.pd && typeof t.pd === "object" && Object.keys(t.pd).length) m.appendChild(badgeRow(t.pd, 1, "pd", true));
    if (t.raw) m.appendChild(fold("raw output", t.raw));
    return m;
  }
  function body(d) {
    var b = el("div", "dlg-body"), meta = el("div", "dlg-meta");
    [["agent", d.agent], ["user sim", d.user], ["scene", d.scene], ["seed", d.seed], ["group", d.group],
     ["complaint", CMPS[d.cmp] || d.cmp], ["need", NEEDS[d.need] ? d.need + " · " + NEEDS[d.need] : d.need],
     ["rc_tag", d.rc ? "yes" : null]].forEach(function (p) {
      if (p[1] !== null && p[1] !== undefined && p[1] !== "") meta.appendChild(el("span", null, p[0] + ": " + p[1]));
    });
    b.appendChild(meta);
    if (d.scores && Object.keys(d.scores).length) b.appendChild(scoreBlock(d.scores));
    var chat = el("div", "chat"), turns = d.turns || [];
    if (!turns.length) chat.appendChild(userMsg(d.open, "Customer"));
    turns.forEach(function (t, i) {
      chat.appendChild(userMsg(t.u, "Customer"));
      chat.appendChild(agentMsg(t, i));
      if (i === turns.length - 1 && t.rep !== null && t.rep !== undefined) chat.appendChild(userMsg(t.rep, "Customer"));
    });
    b.appendChild(chat);
    var out = el("div", "outcome");
    out.appendChild(el("strong", null, "Outcome"));
    if (d.sat !== null && d.sat !== undefined) { out.appendChild(stars(d.sat)); out.appendChild(el("span", null, d.sat + "/5")); }
    else out.appendChild(badge("no satisfaction score", "bad"));
    out.appendChild(badge("end: " + (d.end || "?"), d.end === "user_end" ? "good" : "bad"));
    if (d.trunc) out.appendChild(badge("truncated", "bad"));
    out.appendChild(d.v ? badge("voucher issued", "voucher") : badge("no voucher"));
    b.appendChild(out);
    (d.fails || []).forEach(function (f) {
      var text = typeof f === "object" && f !== null ? Object.keys(f).map(function (k) { return k + " " + num(f[k]); }).join(" · ") : f;
      b.appendChild(el("p", "warn", "failure: " + text));
    });
    return b;
  }
  function card(d) {
    var det = el("details", "dlg"), sum = el("summary");
    det.setAttribute("data-sid", d.sid);
    det.setAttribute("data-src", d.src);
    sum.appendChild(el("span", "sid", d.sid));
    if (MULTI_SRC) sum.appendChild(badge(d.src, "src"));
    if (d.cat !== null && d.cat !== undefined) sum.appendChild(badge("C" + d.cat + " " + (CATS[d.cat] || ""), "cat" + d.cat));
    if (d.need !== null && d.need !== undefined) sum.appendChild(badge("N" + d.need + " " + (NEEDS[d.need] || "")));
    if (d.cmp) sum.appendChild(badge(CMPS[d.cmp] || d.cmp));
    if (d.v) sum.appendChild(badge("voucher", "voucher"));
    sum.appendChild(badge((d.turns || []).length + " turns"));
    if (d.sat !== null && d.sat !== undefined) sum.appendChild(stars(d.sat));
    else sum.appendChild(badge("no score", "bad"));
    if (d.end && d.end !== "user_end") sum.appendChild(badge(d.end, "bad"));
    var snip = el("span", "snippet");
    highlight(snip, String(d.open || "").slice(0, 220));
    sum.appendChild(snip);
    det.appendChild(sum);
    det.addEventListener("toggle", function () {
      if (det.open && !det._filled) { det.appendChild(body(d)); det._filled = true; }
    });
    return det;
  }

  function pageSize() { return parseInt(val(F.pagesize), 10) || 25; }
  function render() {
    var n = state.matches.length, size = pageSize(), pages = Math.max(1, Math.ceil(n / size));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * size, slice = state.matches.slice(start, start + size);
    list.textContent = "";
    if (!n) list.appendChild(el("div", "empty", "No dialogue matches the filters."));
    slice.forEach(function (d) { list.appendChild(card(d)); });
    $("dlg-count").textContent = n + " of " + ALL.length + " dialogues" +
      (n ? " · showing " + (start + 1) + "–" + (start + slice.length) : "");
    var pager = $("pager");
    pager.textContent = "";
    if (pages > 1) {
      var prev = el("button", null, "← Prev"), next = el("button", null, "Next →");
      prev.type = next.type = "button";
      prev.id = "page-prev"; next.id = "page-next";
      prev.disabled = state.page === 0; next.disabled = state.page >= pages - 1;
      prev.addEventListener("click", function () { state.page--; render(); });
      next.addEventListener("click", function () { state.page++; render(); });
      pager.appendChild(prev);
      pager.appendChild(el("span", "muted", "page " + (state.page + 1) + " of " + pages));
      pager.appendChild(next);
    }
  }

  var timer = null;
  ["source", "category", "need", "complaint", "sat", "end", "voucher"].forEach(function (k) {
    if (F[k]) F[k].addEventListener("change", applyFilters);
  });
  if (F.pagesize) F.pagesize.addEventListener("change", function () { state.page = 0; render(); });
  if (F.search) F.search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(applyFilters, 150);
  });
  $("f-reset").addEventListener("click", function () {
    Object.keys(F).forEach(function (k) { if (F[k] && k !== "pagesize") F[k].value = ""; });
    applyFilters();
  });
  function setOpen(open) {
    Array.prototype.forEach.call(list.querySelectorAll("details.dlg"), function (d) { d.open = open; });
  }
  $("dlg-expand").addEventListener("click", function () { setOpen(true); });
  $("dlg-collapse").addEventListener("click", function () { setOpen(false); });
  applyFilters();
  document.body.setAttribute("data-viewer-ready", "1");
})();
