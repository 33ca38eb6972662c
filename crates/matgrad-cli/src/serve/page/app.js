// matgrad serve: the page. It asks the server's API (check, grad, explain, verify) as the
// person types and shows the answers; it never changes what the person typed. The program,
// sizes and seed live in the URL's fragment (#source=…&wrt=…&dims=…&seed=…), a permalink.
"use strict";

const DEBOUNCE_MS = 300;
const MAX_SHOWN = 8; // rows and columns of an array shown

const $ = (id) => document.getElementById(id);
const editor = $("source");
const highlight = $("highlight");
const gutter = $("gutter");

// Every update gets the next number; an answer for an older number is dropped, so a slow
// stale answer never overwrites a newer one.
let sequence = 0;
let controller = null;
let timer = null;
let selectedView = "Graph";
let currentError = null; // {start, end} in UTF-16 indices into the editor's text

// ---------------------------------------------------------------------------------------
// Editor: line numbers and the error's span underlined on a layer behind the text.

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function renderEditor() {
  const text = editor.value;
  const lines = text.split("\n").length;
  let errorLine = -1;
  if (currentError) errorLine = text.slice(0, currentError.start).split("\n").length;
  const numbers = [];
  for (let i = 1; i <= lines; i++) {
    numbers.push(i === errorLine ? `<span class="error-line">${i}</span>` : String(i));
  }
  gutter.innerHTML = numbers.join("\n") + "\n";
  let html;
  if (currentError) {
    const { start, end } = currentError;
    let marked = text.slice(start, end);
    // An empty span, or one that is only a line break, is shown as a marked space so
    // that it can be seen; the space is at a line's end and moves nothing.
    if (marked === "" || marked === "\n") marked = " " + marked;
    const body = marked.endsWith("\n") ? marked.slice(0, -1) : marked;
    const rest = marked.endsWith("\n") ? "\n" : "";
    html = escapeHtml(text.slice(0, start)) + `<mark id="error-span">${escapeHtml(body)}</mark>` + escapeHtml(rest + text.slice(end));
  } else {
    html = escapeHtml(text);
  }
  // A final line break needs something after it to take up its line.
  highlight.innerHTML = html + "\n ";
  syncScroll();
}

function syncScroll() {
  highlight.scrollTop = editor.scrollTop;
  highlight.scrollLeft = editor.scrollLeft;
  gutter.scrollTop = editor.scrollTop;
}

/** The UTF-16 index in `text` of a UTF-8 byte offset (the library's spans are bytes). */
function byteToIndex(text, byte) {
  let bytes = 0;
  let index = 0;
  while (index < text.length && bytes < byte) {
    const cp = text.codePointAt(index);
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    index += cp >= 0x10000 ? 2 : 1;
  }
  return index;
}

/** Replaces the editor's text as an edit the person can undo (Ctrl+Z brings theirs back). */
function replaceText(text) {
  editor.focus();
  editor.select();
  let done = false;
  try {
    done = document.execCommand("insertText", false, text);
  } catch (_) {
    done = false;
  }
  if (!done || editor.value !== text) editor.value = text;
  editor.setSelectionRange(0, 0);
  editor.scrollTop = 0;
  editor.scrollLeft = 0;
}

// ---------------------------------------------------------------------------------------
// The permalink: #source=<percent-encoded>&wrt=A,B&dims=K=4,n=3&seed=0.

function readFragment() {
  const state = {};
  const hash = location.hash.replace(/^#/, "");
  if (!hash) return null;
  for (const part of hash.split("&")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    const key = part.slice(0, at);
    let value;
    try {
      value = decodeURIComponent(part.slice(at + 1).replace(/\+/g, "%20"));
    } catch (_) {
      continue;
    }
    if (["source", "wrt", "dims", "seed"].includes(key)) state[key] = value;
  }
  return state.source === undefined ? null : state;
}

function writeFragment() {
  const encodeList = (text, separator) =>
    text.split(separator).map((s) => s.trim()).filter(Boolean).map(encodeURIComponent).join(separator);
  let hash = "#source=" + encodeURIComponent(editor.value);
  const wrt = encodeList($("wrt").value, ",");
  if (wrt) hash += "&wrt=" + wrt;
  const dims = $("dims").value.split(",").map((s) => s.trim()).filter(Boolean)
    .map((pair) => pair.split("=").map((s) => encodeURIComponent(s.trim())).join("=")).join(",");
  if (dims) hash += "&dims=" + dims;
  const seed = $("seed").value.trim();
  if (seed && seed !== "0") hash += "&seed=" + encodeURIComponent(seed);
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

function applyFragment(state) {
  $("wrt").value = state.wrt || "";
  $("dims").value = state.dims || "";
  $("seed").value = state.seed || "0";
  if (editor.value !== state.source) replaceText(state.source);
  renderEditor();
}

// ---------------------------------------------------------------------------------------
// The request: the program and where to evaluate it.

function parsePoint() {
  const problems = [];
  const wrt = $("wrt").value.split(",").map((s) => s.trim()).filter(Boolean);
  const dims = {};
  for (const pair of $("dims").value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const match = /^([^=\s]+)\s*=\s*(\d+)$/.exec(pair);
    if (match) dims[match[1]] = Number(match[2]);
    else problems.push(`sizes: \`${pair}\` should look like K=4`);
  }
  let seed = 0;
  const seedText = $("seed").value.trim();
  if (seedText !== "") {
    if (/^\d+$/.test(seedText) && Number.isSafeInteger(Number(seedText))) seed = Number(seedText);
    else problems.push(`seed: \`${seedText}\` is not a whole number`);
  }
  return { wrt, dims, seed, problems };
}

async function ask(question, body, signal) {
  try {
    const response = await fetch(`/api/${question}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = { error: { kind: "internal", message: `the server answered ${response.status} without JSON` } };
    }
    return { ok: response.ok, status: response.status, data };
  } catch (error) {
    if (error.name === "AbortError") return null;
    return { ok: false, status: 0, data: { error: { kind: "network", message: "the server cannot be reached; is `matgrad serve` still running?" } } };
  }
}

function schedule() {
  clearTimeout(timer);
  document.body.dataset.pending = "1";
  document.body.classList.add("stale");
  timer = setTimeout(update, DEBOUNCE_MS);
}

async function update() {
  clearTimeout(timer);
  delete document.body.dataset.pending;
  const mine = ++sequence;
  if (controller) controller.abort();
  controller = new AbortController();
  const signal = controller.signal;
  writeFragment();
  const source = editor.value;
  const point = parsePoint();
  const base = { source, wrt: point.wrt, dims: point.dims, seed: point.seed };
  document.body.dataset.sequence = String(mine);
  $("status").textContent = "Computing…";
  const current = () => mine === sequence;
  const questions = {
    check: ask("check", { source }, signal),
    grad: ask("grad", { ...base, check: true }, signal),
    explain: ask("explain", base, signal),
    verify: ask("verify", { source, dims: point.dims, seed: point.seed }, signal),
    codegen: ask("codegen", { source, wrt: point.wrt, target: codeTarget, hessian: codeHessian }, signal),
  };
  const checked = await questions.check;
  if (!current() || !checked) return;
  // No answer at all is not a mistake in the program: say so and keep what is shown.
  if (checked.status === 0) {
    $("status").textContent = "The server cannot be reached; is `matgrad serve` still running? The results shown are from before.";
    return;
  }
  showProblem(checked.ok ? null : checked.data, source, point.problems);
  showInputs(checked.ok ? checked.data : null);
  const grad = await questions.grad;
  if (!current() || !grad) return;
  if (checked.ok && !grad.ok) showProblem(grad.data, source, point.problems);
  showGradients(grad.ok ? grad.data : null);
  const [explained, verified, code] = await Promise.all([questions.explain, questions.verify, questions.codegen]);
  if (!current() || !explained || !verified) return;
  showViews(
    explained.ok ? explained.data : null,
    explained.ok || !checked.ok ? null : explained.data,
    verified.ok ? verified.data : null,
    code && code.ok ? { ...code.data, query: { source, wrt: point.wrt } } : null,
  );
  document.body.classList.remove("stale");
  $("status").textContent = statusLine(checked, grad);
  document.body.dataset.done = String(mine);
}

function statusLine(checked, grad) {
  if (!checked.ok) return "The program has a mistake; see the message under the editor.";
  if (!grad.ok) return "The program reads, but its gradients cannot be taken; see the message under the editor.";
  const check = grad.data.check;
  if (!check) return "";
  return check.passed
    ? "✓ Every gradient agrees with finite differences."
    : "✗ A gradient disagrees with finite differences.";
}

// ---------------------------------------------------------------------------------------
// What the answers show.

function showProblem(data, source, localProblems) {
  const box = $("problem");
  box.innerHTML = "";
  currentError = null;
  const errors = data && data.error ? (data.errors && data.errors.length ? data.errors : [data.error]) : [];
  for (const error of errors) {
    const item = document.createElement("div");
    item.className = "problem-item";
    const place = error.start; // {line, column}, 1-based, or null for an error with no place
    let where = "";
    if (place) where = `<button type="button" class="where" title="Show it in the editor">${place.line}:${place.column}</button>`;
    item.innerHTML = `${where}<span class="message">${escapeHtml(error.message || "")}</span>`;
    if (error.label) item.innerHTML += ` <span class="label">— ${escapeHtml(error.label)}</span>`;
    if (error.hint) item.innerHTML += `<p class="hint">hint: ${escapeHtml(error.hint)}</p>`;
    if (place) item.querySelector(".where").addEventListener("click", () => reveal(place.line, place.column));
    box.appendChild(item);
    if (!currentError && error.span && typeof error.span.start === "number") {
      const start = byteToIndex(source, error.span.start);
      const end = Math.max(start, byteToIndex(source, error.span.end));
      currentError = { start, end };
    }
  }
  for (const problem of localProblems) {
    const item = document.createElement("div");
    item.className = "problem-item";
    item.innerHTML = `<span class="message">${escapeHtml(problem)}</span>`;
    box.appendChild(item);
  }
  box.hidden = box.childElementCount === 0;
  renderEditor();
}

function showInputs(report) {
  const panel = $("inputs-panel");
  const table = $("inputs");
  table.innerHTML = "";
  if (!report) {
    panel.hidden = true;
    return;
  }
  const rows = Object.entries(report.inputs || {});
  table.innerHTML = "<tr><th>input</th><th>shape</th><th>where the shape came from</th></tr>";
  for (const [name, input] of rows) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td class="name">${escapeHtml(name)}</td><td class="shape">${escapeHtml(shapeText(input.shape))}</td>` +
      `<td>${escapeHtml(input.note || input.from)}</td>`;
    table.appendChild(tr);
  }
  panel.hidden = rows.length === 0;
}

function shapeText(shape) {
  if (!Array.isArray(shape)) return String(shape);
  if (shape.length === 0) return "scalar";
  if (shape.length === 1) return `vector(${shape[0]})`;
  return `matrix(${shape.join(", ")})`;
}

const GREEK = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega".split(" ");
const GREEK_LETTERS = "αβγδεζηθικλμνξοπρστυφχψω";

/** A name as MathML: W1 and W_1 subscripted, Greek names as letters. */
function nameMathml(name) {
  const letter = (base) => {
    const greek = GREEK.indexOf(base.toLowerCase());
    if (greek < 0) return base;
    const symbol = GREEK_LETTERS[greek];
    return base[0] === base[0].toUpperCase() ? symbol.toUpperCase() : symbol;
  };
  const match = /^([A-Za-z]+)(?:_(\w+)|(\d+))$/.exec(name);
  if (match) {
    const sub = match[2] || match[3];
    return `<msub><mi>${escapeHtml(letter(match[1]))}</mi><mi>${escapeHtml(sub)}</mi></msub>`;
  }
  return `<mi>${escapeHtml(letter(name))}</mi>`;
}

/** `<math>…</math>` with `left =` put in front of its content. */
function equation(left, mathml) {
  const inner = mathml.replace(/^\s*<math[^>]*>/, "").replace(/<\/math>\s*$/, "");
  return `<math display="block">${left}<mo>=</mo>${inner}</math>`;
}

function copyButtons(entry, what) {
  const box = document.createElement("div");
  box.className = "copy";
  for (const [label, text] of [["LaTeX", entry.latex], ["Unicode", entry.expr], ["ASCII", entry.ascii]]) {
    if (text === undefined) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.title = `Copy ${what} as ${label}`;
    button.setAttribute("aria-label", `Copy ${what} as ${label}`);
    button.addEventListener("click", () => copy(text, button));
    box.appendChild(button);
  }
  return box;
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  button.classList.add("copied");
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => {
    button.classList.remove("copied");
    button.textContent = label;
  }, 1200);
}

function showGradients(report) {
  const gradients = $("gradients");
  const definitions = $("definitions");
  gradients.innerHTML = "";
  definitions.innerHTML = "";
  $("gradients-panel").hidden = !report;
  $("values-panel").hidden = !report;
  if (!report) return;
  const output = report.output;
  $("layout").textContent = report.layout || "";
  for (const name of report.wrt) {
    const entry = report.gradients[name];
    const row = document.createElement("div");
    row.className = "gradient";
    row.dataset.wrt = name;
    const partial = `<mfrac><mrow><mo>∂</mo>${nameMathml(output)}</mrow><mrow><mo>∂</mo>${nameMathml(name)}</mrow></mfrac>`;
    const formula = document.createElement("div");
    formula.className = "formula";
    formula.innerHTML = equation(partial, entry.mathml || `<math><mtext>${escapeHtml(entry.expr)}</mtext></math>`);
    row.appendChild(formula);
    row.appendChild(copyButtons(entry, `∂${output}/∂${name}`));
    gradients.appendChild(row);
  }
  const defined = Object.entries(report.definitions || {});
  if (defined.length) {
    const title = document.createElement("p");
    title.className = "definitions-title";
    title.textContent = "where";
    definitions.appendChild(title);
    for (const [name, entry] of defined) {
      const row = document.createElement("div");
      row.className = "gradient definition";
      const formula = document.createElement("div");
      formula.className = "formula";
      formula.innerHTML = equation(nameMathml(name), entry.mathml || `<math><mtext>${escapeHtml(entry.expr)}</mtext></math>`);
      row.appendChild(formula);
      row.appendChild(copyButtons(entry, name));
      definitions.appendChild(row);
    }
  }
  showValues(report);
}

function showValues(report) {
  const sizes = Object.entries(report.sizes || {}).map(([n, s]) => `${n} = ${s}`).join(", ");
  const random = (report.random_inputs || []).join(", ");
  let point = sizes ? `Sizes ${sizes}. ` : "";
  if (random) point += `Random inputs, N(0, 1) with seed ${report.seed}: ${random}.`;
  $("point").textContent = point;
  if (!$("dims").value.trim()) $("dims").placeholder = Object.entries(report.sizes || {}).map(([n, s]) => `${n}=${s}`).join(", ") || "K=4, n=3";
  const check = $("check");
  check.innerHTML = "";
  if (report.check) {
    const heading = document.createElement("p");
    heading.innerHTML = `Finite-difference check, largest relative error per variable (central differences, tolerance ${number(report.check.tolerance)}):`;
    check.appendChild(heading);
    for (const [name, error] of Object.entries(report.check.errors)) {
      // A non-finite error comes as the string "NaN" or "Infinity".
      const good = typeof error === "number" && error <= report.check.tolerance;
      const line = document.createElement("div");
      line.className = "check-row " + (good ? "ok" : "bad");
      line.dataset.wrt = name;
      line.textContent = `${good ? "✓" : "✗"} ${name}: ${typeof error === "number" ? error.toExponential(1) : error}`;
      check.appendChild(line);
    }
  }
  const values = $("values");
  values.innerHTML = "";
  values.appendChild(valueBlock(report.output, report.value));
  for (const name of report.wrt) {
    values.appendChild(valueBlock(`∂${report.output}/∂${name}`, report.gradients[name].value));
  }
}

function number(value) {
  // JSON has no NaN or infinity: the library writes them as the strings "NaN", "Infinity".
  if (typeof value === "string") return value;
  if (value === null) return "NaN";
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-4 && magnitude < 1e6) return String(Number(value.toPrecision(6)));
  return value.toExponential(4).replace(/\.?0+e/, "e");
}

function valueBlock(label, value) {
  const block = document.createElement("div");
  block.className = "value";
  const title = document.createElement("span");
  title.className = "label";
  block.appendChild(title);
  if (value === undefined) {
    title.textContent = `${label}: not evaluated`;
    return block;
  }
  if (!Array.isArray(value)) {
    title.textContent = `${label} = ${number(value)}`;
    return block;
  }
  title.textContent = `${label} =`;
  const rows = Array.isArray(value[0]) ? value : value.map((v) => [v]);
  const table = document.createElement("table");
  table.className = "matrix";
  for (const row of rows.slice(0, MAX_SHOWN)) {
    const tr = document.createElement("tr");
    for (const cell of row.slice(0, MAX_SHOWN)) {
      const td = document.createElement("td");
      td.textContent = number(cell);
      tr.appendChild(td);
    }
    if (row.length > MAX_SHOWN) tr.appendChild(Object.assign(document.createElement("td"), { textContent: "…" }));
    table.appendChild(tr);
  }
  if (rows.length > MAX_SHOWN) {
    const tr = document.createElement("tr");
    tr.appendChild(Object.assign(document.createElement("td"), { textContent: `… ${rows.length} rows` }));
    table.appendChild(tr);
  }
  block.appendChild(table);
  return block;
}

// ---------------------------------------------------------------------------------------
// The explanation's views and verify's verdicts, as tabs.

function shortTitle(title) {
  title = title.replace(/^\d+\.\s*/, "");
  if (/graph/i.test(title)) return "Graph";
  if (/^backprop/i.test(title)) return "Backpropagation";
  if (/^differential/i.test(title)) return "Differentials";
  return title;
}

function showViews(explanation, explainError, verification, code) {
  const panel = $("views-panel");
  const tabs = $("tabs");
  const views = $("views");
  tabs.innerHTML = "";
  views.innerHTML = "";
  const entries = [];
  if (explanation) {
    for (const section of explanation.sections || []) {
      const view = document.createElement("div");
      view.className = "view";
      const title = shortTitle(section.title);
      if (title === "Graph" && explanation.svg && !section.html.includes("<svg")) {
        const figure = document.createElement("div");
        figure.className = "graph";
        figure.innerHTML = explanation.svg.replace(/^<\?xml[^>]*>\s*/, "");
        view.appendChild(figure);
      }
      const html = document.createElement("div");
      html.innerHTML = section.html.replace(/<\?xml[^>]*>\s*/g, "");
      for (const figure of html.querySelectorAll("figure")) {
        if (figure.querySelector("svg")) figure.classList.add("graph");
      }
      view.appendChild(html);
      entries.push([title, view]);
    }
    const failures = explanation.failures || [];
    $("explain-status").textContent = explanation.passed
      ? "Every step is checked with numbers at the random point, and holds."
      : `${failures.length} step${failures.length === 1 ? "" : "s"} failed the check: ${failures.join(", ")}`;
  } else if (explainError && explainError.error) {
    $("explain-status").textContent = `No explanation: ${explainError.error.message}`;
  } else {
    $("explain-status").textContent = "";
  }
  if (verification && (verification.claims || []).length) {
    entries.push(["Claims", claimsView(verification)]);
  }
  if (code) entries.push(["Code", codeView(code)]);
  panel.hidden = entries.length === 0 && !$("explain-status").textContent;
  if (!entries.some(([title]) => title === selectedView) && entries.length) selectedView = entries[0][0];
  entries.forEach(([title, view], index) => {
    const id = `view-${index}`;
    const tab = document.createElement("button");
    tab.type = "button";
    tab.setAttribute("role", "tab");
    tab.id = `tab-${index}`;
    tab.dataset.view = title;
    tab.setAttribute("aria-controls", id);
    tab.textContent = title;
    view.id = id;
    view.setAttribute("role", "tabpanel");
    view.setAttribute("aria-labelledby", tab.id);
    view.tabIndex = 0;
    tabs.appendChild(tab);
    views.appendChild(view);
    tab.addEventListener("click", () => selectView(title));
  });
  selectView(selectedView);
}

// The generated Python module (`codegen`): the target, the Hessian or not, copy and download.
let codeTarget = "numpy";
let codeHessian = false;

function codeView(code) {
  const view = document.createElement("div");
  view.className = "view code";
  const bar = document.createElement("div");
  bar.className = "code-bar";
  const select = document.createElement("select");
  select.setAttribute("aria-label", "Library");
  for (const [value, label] of [["numpy", "NumPy"], ["jax", "JAX"], ["torch", "PyTorch"]]) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    option.selected = value === code.target;
    select.appendChild(option);
  }
  const hessianLabel = document.createElement("label");
  const hessian = document.createElement("input");
  hessian.type = "checkbox";
  hessian.checked = codeHessian;
  hessianLabel.append(hessian, " Hessian");
  const message = document.createElement("span");
  message.className = "code-message";
  const copy = document.createElement("button");
  copy.type = "button";
  copy.textContent = "Copy";
  const download = document.createElement("a");
  download.className = "button";
  download.textContent = "Download";
  const pre = document.createElement("pre");
  const text = document.createElement("code");
  pre.appendChild(text);
  const show = (report) => {
    text.textContent = report.module;
    download.download = report.file_name;
    if (download.href) URL.revokeObjectURL(download.href);
    download.href = URL.createObjectURL(new Blob([report.module], { type: "text/x-python" }));
  };
  show(code);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text.textContent);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Copy failed";
    }
    setTimeout(() => (copy.textContent = "Copy"), 1500);
  });
  const again = async () => {
    codeTarget = select.value;
    codeHessian = hessian.checked;
    const answer = await ask("codegen", { ...code.query, target: codeTarget, hessian: codeHessian });
    if (!answer) return;
    // A Hessian generated code cannot write is said, and the module shown stays.
    message.textContent = answer.ok ? "" : answer.data.error?.message ?? "";
    if (answer.ok) show(answer.data);
  };
  select.addEventListener("change", again);
  hessian.addEventListener("change", again);
  bar.append(select, hessianLabel, copy, download, message);
  view.append(bar, pre);
  return view;
}

function selectView(title) {
  selectedView = title;
  for (const tab of $("tabs").children) {
    const selected = tab.dataset.view === title;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !selected;
  }
}

// Arrow keys move between tabs, as in every tab list.
$("tabs").addEventListener("keydown", (event) => {
  const tabs = [...$("tabs").children];
  const at = tabs.indexOf(document.activeElement);
  if (at < 0) return;
  let next = null;
  if (event.key === "ArrowRight") next = (at + 1) % tabs.length;
  if (event.key === "ArrowLeft") next = (at - 1 + tabs.length) % tabs.length;
  if (event.key === "Home") next = 0;
  if (event.key === "End") next = tabs.length - 1;
  if (next === null) return;
  event.preventDefault();
  tabs[next].focus();
  selectView(tabs[next].dataset.view);
});

function claimsView(verification) {
  const view = document.createElement("div");
  view.className = "view";
  const summary = document.createElement("p");
  summary.textContent = verification.summary || "";
  view.appendChild(summary);
  const table = document.createElement("table");
  table.className = "claims";
  table.innerHTML = "<tr><th></th><th>where</th><th>claim</th><th>kind</th><th>error</th></tr>";
  const marks = { holds: ["✓", "ok"], fails: ["✗", "bad"], unchecked: ["?", "note"] };
  for (const claim of verification.claims) {
    const [mark, style] = marks[claim.verdict] || ["?", "note"];
    const tr = document.createElement("tr");
    tr.dataset.verdict = claim.verdict;
    const error = claim.relative_error === null || claim.relative_error === undefined ? "–" : claim.relative_error.toExponential(1);
    tr.innerHTML = `<td class="${style}" title="${escapeHtml(claim.verdict)}">${mark}</td>` +
      `<td class="where"><button type="button" title="Show it in the editor">${claim.line}:${claim.column}</button></td>` +
      `<td><div class="source">${escapeHtml(claim.source)}</div>${claim.note ? `<div class="note">${escapeHtml(claim.note)}</div>` : ""}</td>` +
      `<td>${escapeHtml(claim.kind.replace("_", " "))}</td><td>${error}</td>`;
    tr.querySelector("button").addEventListener("click", () => reveal(claim.line, claim.column));
    table.appendChild(tr);
  }
  view.appendChild(table);
  return view;
}

/** Puts the caret at 1-based `line`:`column` (code points) and scrolls it into view. */
function reveal(line, column) {
  const lines = editor.value.split("\n");
  let index = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) index += lines[i].length + 1;
  const text = lines[line - 1] || "";
  index += [...text].slice(0, column - 1).join("").length;
  editor.focus();
  editor.setSelectionRange(index, index);
  const lineHeight = 21;
  const charWidth = 8.4; // 14px monospace
  editor.scrollTop = Math.max(0, (line - 3) * lineHeight);
  editor.scrollLeft = Math.max(0, (column - 20) * charWidth);
  syncScroll();
}

// ---------------------------------------------------------------------------------------
// Start: the examples menu, then the fragment's program or the first example.

async function loadExamples() {
  const select = $("examples");
  let examples = [];
  try {
    examples = await (await fetch("/examples.json")).json();
  } catch (_) {
    examples = [];
  }
  const groups = new Map();
  for (const example of examples) {
    if (!groups.has(example.group)) {
      const group = document.createElement("optgroup");
      group.label = example.group;
      groups.set(example.group, group);
      select.appendChild(group);
    }
    const option = document.createElement("option");
    option.value = example.file;
    option.textContent = example.title;
    groups.get(example.group).appendChild(option);
  }
  select.addEventListener("change", () => {
    const example = examples.find((e) => e.file === select.value);
    if (!example) return;
    $("wrt").value = "";
    $("dims").value = "";
    replaceText(example.source);
    // The text is replaced through the editor (so Ctrl+Z undoes it), which takes the focus;
    // give it back, so that the arrow keys keep browsing the examples.
    select.focus();
    renderEditor();
    update();
  });
  return examples;
}

async function start() {
  editor.addEventListener("input", () => {
    currentError = null;
    renderEditor();
    schedule();
  });
  editor.addEventListener("scroll", syncScroll);
  for (const id of ["wrt", "dims", "seed"]) $(id).addEventListener("input", schedule);
  window.addEventListener("hashchange", () => {
    const state = readFragment();
    if (!state) return;
    applyFragment(state);
    update();
  });
  $("copy-link").addEventListener("click", () => {
    writeFragment();
    copy(location.href, $("copy-link"));
  });
  const examples = await loadExamples();
  const state = readFragment();
  if (state) {
    applyFragment(state);
  } else if (examples.length) {
    editor.value = examples[0].source;
    $("examples").value = examples[0].file;
  }
  renderEditor();
  update();
}

start();
