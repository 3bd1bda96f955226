/* radqc audit pages: sign-in, worklist keys, the item page (the film fitted to the window,
   window/level, zoom, evidence marks over the film, verdicts, missed errors, keyboard
   shortcuts: j/k move the keyboard focus) and starting evaluation runs. No dependencies. */
"use strict";
(function () {
  const KEY = "radqc_token";

  function token() {
    return sessionStorage.getItem(KEY) || "";
  }

  function toast(text, bad) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = text;
    el.className = bad ? "show bad" : "show";
    setTimeout(() => { el.className = ""; }, 4000);
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { "Authorization": "Bearer " + token(), "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.message || ("HTTP " + response.status));
    return data;
  }

  function typing(event) {
    const t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
  }

  // -- sign-in ----------------------------------------------------------------------------
  const login = document.getElementById("login-form");
  if (login) {
    login.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = document.getElementById("token").value.trim();
      sessionStorage.setItem(KEY, value);
      document.cookie = KEY + "=" + encodeURIComponent(value) + "; path=/ui; SameSite=Strict";
      window.location.assign(login.dataset.next || "/ui/worklist");
    });
  } else if (!token()) {
    // the cookie is HttpOnly-free on purpose: the page's script needs the token for the API
    const match = document.cookie.match(/(?:^|; )radqc_token=([^;]*)/);
    if (match) sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
  }
  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", () => {
      sessionStorage.removeItem(KEY);
      document.cookie = KEY + "=; path=/ui; max-age=0; SameSite=Strict";
      window.location.assign("/ui/login");
    });
  }

  // -- worklist ---------------------------------------------------------------------------
  const list = document.getElementById("worklist");
  if (list) {
    const rows = () => Array.from(list.querySelectorAll("tbody tr[data-item]"));
    document.addEventListener("keydown", (event) => {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      const all = rows();
      let i = all.findIndex((r) => r.classList.contains("current"));
      if (event.key === "j" || event.key === "k") {
        if (i >= 0) all[i].classList.remove("current");
        i = Math.max(0, Math.min(all.length - 1, i + (event.key === "j" ? 1 : -1)));
        if (all[i]) {
          all[i].classList.add("current");
          const link = all[i].querySelector("a.open");
          if (link) link.focus();  // j/k move the keyboard focus, so Tab and Enter follow
        }
      } else if (event.key === "Enter" && all[i]) {
        const t = event.target;
        if (t && (t.tagName === "A" || t.tagName === "BUTTON")) return;  // their own action
        window.location.assign("/ui/items/" + all[i].dataset.item);
      }
    });
  }

  // -- item page --------------------------------------------------------------------------
  const item = document.getElementById("item");
  if (item) setUpItem(item);

  function setUpItem(root) {
    const itemId = root.dataset.item;
    const findings = () => Array.from(document.querySelectorAll("#findings li.finding"));
    // The latest audit's missed errors: submitting again keeps them unless removed (issue 15).
    const missed = JSON.parse(root.dataset.missed || "[]");

    function current() {
      return findings().find((f) => f.classList.contains("current"));
    }
    function select(li, focus) {
      findings().forEach((f) => f.classList.remove("current"));
      if (li) {
        li.classList.add("current");
        if (focus) li.focus(); else li.scrollIntoView({ block: "nearest" });
      }
      document.querySelectorAll("mark.evidence").forEach((m) => {
        const ids = (m.dataset.findings || "").trim().split(/\s+/);
        m.classList.toggle("active", !!li && ids.includes(li.dataset.finding));
      });
      document.querySelectorAll("svg.marks .mark").forEach((m) => {
        m.classList.toggle("active", !!li && m.dataset.finding === li.dataset.finding);
      });
    }
    function judge(li, verdict) {
      if (!li) return;
      li.dataset.verdict = verdict;
      li.querySelector(".state").textContent = verdict;
      if (verdict === "rejected") {
        const reason = li.querySelector(".reason");
        if (!reason.value) reason.focus();
      }
    }
    findings().forEach((li) => {
      li.addEventListener("click", () => select(li));
      li.addEventListener("focusin", () => { if (!li.classList.contains("current")) select(li); });
      const confirmButton = li.querySelector(".confirm");
      if (confirmButton) confirmButton.addEventListener("click", () => judge(li, "confirmed"));
      const rejectButton = li.querySelector(".reject");
      if (rejectButton) rejectButton.addEventListener("click", () => judge(li, "rejected"));
    });
    select(current());
    document.querySelectorAll("svg.marks .mark").forEach((m) => {
      m.addEventListener("click", () => {
        const li = findings().find((f) => f.dataset.finding === m.dataset.finding);
        if (li) select(li, true);
      });
    });

    function renderMissed() {
      const ul = document.getElementById("missed-list");
      if (!ul) return;
      ul.innerHTML = "";
      missed.forEach((m, i) => {
        const li = document.createElement("li");
        const option = document.querySelector("#missed-code option[value='" + m.code + "']");
        const name = option ? option.textContent : m.code;  // "Omission (report.omission)"
        li.textContent = name + (m.evidence ? " — " + m.evidence : "") + " ";
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "remove";
        remove.setAttribute("aria-label", "remove " + name);
        remove.addEventListener("click", () => { missed.splice(i, 1); renderMissed(); });
        li.appendChild(remove);
        ul.appendChild(li);
      });
    }
    renderMissed();
    const addMissed = document.getElementById("missed-add");
    if (addMissed) {
      addMissed.addEventListener("click", () => {
        const code = document.getElementById("missed-code").value;
        const evidence = document.getElementById("missed-evidence").value.trim();
        if (missed.some((m) => m.code === code)) { toast(code + " is already listed", true); return; }
        missed.push({ code, evidence: evidence || null });
        document.getElementById("missed-evidence").value = "";
        renderMissed();
      });
    }

    async function submit() {
      const verdicts = findings()
        .filter((li) => li.dataset.verdict)
        .map((li) => ({
          finding_id: Number(li.dataset.finding),
          verdict: li.dataset.verdict,
          reason: li.querySelector(".reason").value.trim() || null,
        }));
      const missing = verdicts.find((v) => v.verdict === "rejected" && !v.reason);
      if (missing) { toast("give a reason for each rejection", true); return; }
      try {
        const audit = await api("POST", "/api/v1/items/" + itemId + "/audit", { verdicts, missed });
        toast("audit v" + audit.version + " saved");
        const done = document.createElement("p");
        done.id = "audit-saved";
        done.textContent = "Audit v" + audit.version + " saved by " + audit.auditor + ".";
        document.querySelector(".panel").prepend(done);
      } catch (error) {
        toast("not saved: " + error.message, true);
      }
    }
    const submitButton = document.getElementById("submit-audit");
    if (submitButton) submitButton.addEventListener("click", submit);

    const image = document.getElementById("xray");
    const viewer = image ? setUpImage(image, itemId) : null;

    document.addEventListener("keydown", (event) => {
      if (typing(event)) {
        if (event.key === "Escape") event.target.blur();
        return;
      }
      const all = findings();
      const i = all.indexOf(current());
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const keys = {
        j: () => select(all[Math.min(all.length - 1, i + 1)], true),
        k: () => select(all[Math.max(0, i - 1)], true),
        c: () => judge(current(), "confirmed"),
        x: () => judge(current(), "rejected"),
        m: () => document.getElementById("missed-code").focus(),
        s: submit,
        n: () => { if (root.dataset.next) window.location.assign("/ui/items/" + root.dataset.next); },
        "+": () => viewer && viewer.zoom(1.25),
        "=": () => viewer && viewer.zoom(1.25),
        "-": () => viewer && viewer.zoom(0.8),
        "0": () => viewer && viewer.fit(),
        r: () => viewer && viewer.reset(),
      };
      const action = keys[event.key];
      if (action) { event.preventDefault(); action(); }
    });
  }

  function setUpImage(image, itemId) {
    const wc = document.getElementById("wc");
    const ww = document.getElementById("ww");
    const invert = document.getElementById("invert");
    let defaults = null;
    let timer = null;

    function load(first) {
      const params = new URLSearchParams();
      if (!first) { params.set("center", wc.value); params.set("width", ww.value); }
      if (invert.checked) params.set("invert", "true");
      const url = "/ui/items/" + itemId + "/image.png" + (params.toString() ? "?" + params : "");
      if (first) {
        fetch(url, { credentials: "same-origin" }).then((r) => {
          if (r.headers.get("X-No-Pixel-Data")) {  // a header-only object: nothing to window
            document.querySelectorAll(".controls input, .controls button")
              .forEach((c) => { c.disabled = true; });
            image.alt = "this object has no pixel data";
            const note = document.createElement("p");
            note.id = "no-pixels";
            note.textContent = "This object has no pixel data: only its header was received.";
            image.closest(".canvas").before(note);
            delete film.dataset.width;  // the placeholder's own size, not the header's
            delete film.dataset.height;
            layout();
            image.dataset.ready = "1";
            return;
          }
          const range = (r.headers.get("X-Value-Range") || "0,255").split(",").map(Number);
          defaults = { c: Number(r.headers.get("X-Window-Center")), w: Number(r.headers.get("X-Window-Width")) };
          const span = Math.max(range[1] - range[0], 1);
          wc.min = range[0] - span / 2; wc.max = range[1] + span / 2; wc.step = span / 500;
          ww.min = 1; ww.max = span * 2; ww.step = span / 500;
          wc.value = defaults.c; ww.value = defaults.w;
          show();
          image.dataset.ready = "1";
        });
        return;
      }
      image.src = url;
    }
    function show() {
      document.getElementById("wc-out").textContent = Number(wc.value).toFixed(0);
      document.getElementById("ww-out").textContent = Number(ww.value).toFixed(0);
    }
    function changed() {
      show();
      clearTimeout(timer);
      timer = setTimeout(() => load(false), 120);
    }
    wc.addEventListener("input", changed);
    ww.addEventListener("input", changed);
    invert.addEventListener("change", () => load(false));
    // The film is sized here, not by the browser: fitted whole into the space the window
    // leaves (a large film shrunk, a small one enlarged), times the auditor's zoom. The
    // evidence marks are an SVG over it with the film's own pixel grid, so they follow.
    const film = document.getElementById("film");
    const canvas = document.getElementById("canvas");
    let zoomBy = 1;
    function filmSize() {
      const w = Number(film.dataset.width) || image.naturalWidth;
      const h = Number(film.dataset.height) || image.naturalHeight;
      return [w, h];
    }
    function available() {
      const top = canvas.getBoundingClientRect().top + window.scrollY;
      const height = window.innerHeight - Math.min(top, window.innerHeight * 0.3) - 16;
      return [canvas.clientWidth, Math.max(240, height)];
    }
    function layout() {
      const [w, h] = filmSize();
      if (!w || !h) return;
      const [aw, ah] = available();
      const fit = Math.min(aw / w, ah / h);
      const scale = fit * zoomBy;
      film.style.width = Math.round(w * scale) + "px";
      film.style.height = Math.round(h * scale) + "px";
      canvas.style.maxHeight = Math.round(ah) + "px";
      film.dataset.fit = fit.toFixed(4);
      film.dataset.scale = scale.toFixed(4);
      document.getElementById("zoom-val").textContent =
        zoomBy === 1 ? "fit" : Math.round(zoomBy * 100) + "%";
    }
    function zoom(factor) {
      zoomBy = Math.max(0.25, Math.min(8, zoomBy * factor));
      layout();
    }
    function fit() { zoomBy = 1; layout(); }
    image.addEventListener("load", layout);
    window.addEventListener("resize", layout);
    layout();
    const marks = document.getElementById("marks");
    const showMarks = document.getElementById("show-marks");
    if (marks && showMarks) {
      showMarks.addEventListener("change", () => marks.classList.toggle("hidden", !showMarks.checked));
    }
    function reset() {
      if (!defaults) return;
      wc.value = defaults.c; ww.value = defaults.w; invert.checked = false;
      load(false); show();
    }
    document.getElementById("zoom-in").addEventListener("click", () => zoom(1.25));
    document.getElementById("zoom-out").addEventListener("click", () => zoom(0.8));
    document.getElementById("zoom-fit").addEventListener("click", fit);
    document.getElementById("wl-reset").addEventListener("click", reset);
    load(true);
    return { zoom, reset, fit };
  }

  // -- evaluations ------------------------------------------------------------------------
  const evaluate = document.getElementById("evaluate-form");
  if (evaluate) {
    evaluate.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = new FormData(evaluate);
      const body = { weighted: form.get("weighted") === "on" };
      for (const name of ["engine", "kind", "since", "until"]) {
        const value = (form.get(name) || "").trim();
        if (value && value !== "all") body[name] = value;
      }
      try {
        const run = await api("POST", "/api/v1/evaluations", body);
        window.location.assign("/ui/evaluations/" + run.id);
      } catch (error) {
        toast("evaluation failed: " + error.message, true);
      }
    });
  }
})();
