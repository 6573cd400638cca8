// The watch page: a tenant's batches and one batch followed live, over the console API of this same origin.
// Whatever the API returns is shown with textContent and DOM nodes, never parsed as HTML: batch metadata and
// custom ids are whatever the batch's author wrote.
"use strict";

const API = location.pathname.replace(/\/watch\/?$/, "") + "/api/client/v1/batches";
const STORED_KEY = "batch-api-key"; // sessionStorage: gone when the tab closes
const TERMINAL = new Set(["completed", "failed", "expired", "cancelled"]);
const DETAIL_POLL_MS = 1500;
const LIST_POLL_MS = 5000;
const LIST_PAGE = 50;
const LIST_MOST = 500; // the list route's largest page
const ITEMS_PAGE = 20;

const $ = (id) => document.getElementById(id);
const state = {
  key: sessionStorage.getItem(STORED_KEY) || "",
  listLimit: LIST_PAGE,
  listTimer: 0,
  batchId: "",
  following: 0, // each follow of a batch has a number; a newer one ends the older one's polling
  skip: 0,
};

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function call(method, path, query = {}) {
  const params = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== "" && value !== null));
  const search = params.toString();
  const url = API + path + (search ? "?" + search : "");
  let answer;
  try {
    answer = await fetch(url, { method, headers: { Authorization: "Bearer " + state.key }, cache: "no-store" });
  } catch (failure) {
    throw new ApiError(0, `could not reach the API (${failure.message})`);
  }
  if (!answer.ok) throw new ApiError(answer.status, await errorText(answer));
  return answer;
}

async function errorText(answer) {
  let text = "";
  try {
    const body = await answer.json();
    text = typeof body.error === "string" ? body.error : (body.error && body.error.message) || body.message || "";
  } catch {
    // Not JSON: the status says it.
  }
  const hint = answer.status === 401 || answer.status === 403 ? " (check the API key)" : "";
  return `${answer.status} ${text || answer.statusText}${hint}`;
}

function notify(text) {
  $("notice").textContent = text;
  $("notice").hidden = !text;
}

// A refused key or a batch that is not there ends the polling; anything else may pass, so polling goes on.
function failed(error) {
  notify(error.message);
  const refused = error.status === 401 || error.status === 403;
  if (refused) stop();
  return refused || error.status === 404;
}

// --- the key ---------------------------------------------------------------------------------------------

function useKey(event) {
  event.preventDefault();
  state.key = $("key").value.trim();
  $("key").value = "";
  sessionStorage.setItem(STORED_KEY, state.key);
  start();
}

function forgetKey() {
  sessionStorage.removeItem(STORED_KEY);
  state.key = "";
  stop();
  notify("");
  $("key").placeholder = "Paste your API key";
}

function start() {
  notify("");
  $("watch").hidden = false;
  $("forget").hidden = false;
  $("key").placeholder = "Key in use; paste another to switch";
  loadList();
  route();
}

function stop() {
  clearTimeout(state.listTimer);
  state.following += 1;
  $("watch").hidden = true;
  $("forget").hidden = !state.key;
}

// --- the list --------------------------------------------------------------------------------------------

async function loadList() {
  clearTimeout(state.listTimer);
  let page;
  try {
    page = await (await call("GET", "", { limit: state.listLimit, status: $("list-status").value })).json();
  } catch (error) {
    if (!failed(error)) state.listTimer = setTimeout(loadList, LIST_POLL_MS);
    return;
  }
  $("batches").tBodies[0].replaceChildren(...page.data.map(batchRow));
  $("no-batches").hidden = page.data.length > 0;
  $("older").hidden = !page.nextCursor || state.listLimit >= LIST_MOST;
  $("list-updated").textContent = "Updated " + new Date().toLocaleTimeString();
  state.listTimer = setTimeout(loadList, LIST_POLL_MS);
}

function batchRow(batch) {
  const link = element("a", { href: "#" + encodeURIComponent(batch.id) }, batch.id);
  const row = element(
    "tr",
    { "data-id": batch.id },
    cell(link),
    cell(badge(batch.status)),
    cell(bar(batch), " ", progressText(batch)),
    cell(when(batch.created_at)),
  );
  row.classList.toggle("selected", batch.id === state.batchId);
  return row;
}

// --- one batch -------------------------------------------------------------------------------------------

function route() {
  const id = decodeURIComponent(location.hash.slice(1));
  for (const row of $("batches").tBodies[0].rows) row.classList.toggle("selected", row.dataset.id === id);
  state.batchId = id;
  state.skip = 0;
  $("detail").hidden = !id;
  if (id) follow(id);
  else state.following += 1;
}

async function follow(id) {
  const run = ++state.following;
  $("batch-id").textContent = id;
  // Nothing of the batch shown before stays on screen while this one loads.
  for (const shown of ["batch-status", "progress-text", "counts", "usage", "about"]) $(shown).replaceChildren();
  $("items").tBodies[0].replaceChildren();
  while (run === state.following) {
    try {
      const batch = await (await call("GET", "/" + encodeURIComponent(id))).json();
      if (run !== state.following) return;
      showBatch(batch);
      await loadItems(run);
      if (TERMINAL.has(batch.status)) return;
    } catch (error) {
      if (failed(error)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, DETAIL_POLL_MS));
  }
}

function showBatch(batch) {
  const counts = batch.request_counts;
  const usage = batch.usage;
  $("batch-status").replaceChildren(badge(batch.status));
  const progress = $("progress");
  if (counts.total) progress.value = done(batch) / counts.total;
  else if (TERMINAL.has(batch.status)) progress.value = 0;
  else progress.removeAttribute("value"); // still validating: no line count yet
  $("progress-text").textContent = progressText(batch);
  describe($("counts"), [
    ["Completed", counts.completed],
    ["Failed", counts.failed],
    ["Cancelled", counts.cancelled],
    ["Expired", counts.expired],
    ["Total", counts.total],
  ]);
  describe($("usage"), [
    ["Input tokens", usage.input_tokens],
    ["Output tokens", usage.output_tokens],
    ["Total tokens", usage.total_tokens],
  ]);
  const facts = [
    ["Endpoint", batch.endpoint],
    ["Model", batch.model || "—"],
    ["Created", when(batch.created_at)],
    ["Started", when(batch.started_at)],
    ["Ended", when(batch.completed_at || batch.cancelled_at || batch.failed_at || batch.expired_at)],
    ["Window", batch.completion_window],
  ];
  if (batch.waiting_for_capacity) facts.push(["Waiting", `${batch.waiting_for_capacity.lines} lines for capacity`]);
  if (Object.keys(batch.metadata).length) facts.push(["Metadata", JSON.stringify(batch.metadata)]);
  describe($("about"), facts);
  $("batch-error").textContent = batch.error_message || "";
  $("batch-error").hidden = !batch.error_message;
  $("cancel").disabled = TERMINAL.has(batch.status) || batch.status === "cancelling";
  const row = $("batches").querySelector(`tr[data-id="${CSS.escape(batch.id)}"]`);
  if (row) row.replaceWith(batchRow(batch));
}

async function loadItems(run = state.following) {
  const query = { status: $("item-status").value, limit: ITEMS_PAGE, skip: state.skip };
  const page = await (await call("GET", `/${encodeURIComponent(state.batchId)}/items`, query)).json();
  if (run !== state.following) return;
  $("items").tBodies[0].replaceChildren(...page.data.map(itemRow));
  $("no-items").hidden = page.data.length > 0;
  $("previous").disabled = state.skip === 0;
  $("next").disabled = page.data.length < ITEMS_PAGE;
  const first = state.skip + 1;
  $("page").textContent = page.data.length ? `${first}–${state.skip + page.data.length}` : "";
}

function itemRow(item) {
  return element(
    "tr",
    {},
    cell(String(item.index)),
    cell(item.custom_id ?? "—"),
    cell(badge(item.status)),
    cell(item.response_status_code === null ? "—" : String(item.response_status_code)),
    cell(item.usage ? String(item.usage.total_tokens) : "—"),
    cell(item.error_message || ""),
  );
}

async function itemsFrom(skip) {
  state.skip = Math.max(0, skip);
  try {
    await loadItems();
  } catch (error) {
    failed(error);
  }
}

async function cancelBatch() {
  const id = state.batchId;
  if (!confirm(`Cancel ${id}? Lines not yet started are skipped; running ones finish.`)) return;
  $("cancel").disabled = true;
  try {
    showBatch(await (await call("POST", `/${encodeURIComponent(id)}/cancel`)).json());
    notify("");
  } catch (error) {
    failed(error); // the next poll enables the button again while the batch can still be cancelled
  }
}

// The results come inline, or as a redirect to storage when large: fetch follows it, and drops the key on
// the way, as browsers do across origins (the signed link is its own credential).
async function downloadResults() {
  const id = state.batchId;
  const button = $("download");
  button.disabled = true;
  button.textContent = "Downloading…";
  try {
    const blob = await (await call("GET", `/${encodeURIComponent(id)}/results`)).blob();
    const link = element("a", { href: URL.createObjectURL(blob), download: `${id}-results.jsonl` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    notify("");
  } catch (error) {
    failed(error);
  } finally {
    button.disabled = false;
    button.textContent = "Download results";
  }
}

// --- small DOM helpers -----------------------------------------------------------------------------------

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children); // strings become text nodes
  return node;
}

function cell(...children) {
  return element("td", {}, ...children);
}

function badge(status) {
  return element("span", { class: "status", "data-status": status }, status.replaceAll("_", " "));
}

function bar(batch) {
  const total = batch.request_counts.total;
  return element("progress", { max: "1", value: String(total ? done(batch) / total : 0) });
}

function done(batch) {
  const counts = batch.request_counts;
  return counts.completed + counts.failed + counts.cancelled + counts.expired;
}

function progressText(batch) {
  const total = batch.request_counts.total;
  if (!total) return TERMINAL.has(batch.status) ? "no lines" : "validating";
  return `${done(batch)} / ${total} (${Math.floor((100 * done(batch)) / total)}%)`;
}

function describe(list, pairs) {
  list.replaceChildren(...pairs.flatMap(([term, value]) => [element("dt", {}, term), element("dd", {}, String(value))]));
}

function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleString() : "—";
}

// --- wiring ----------------------------------------------------------------------------------------------

$("key-form").addEventListener("submit", useKey);
$("forget").addEventListener("click", forgetKey);
$("refresh").addEventListener("click", loadList);
$("list-status").addEventListener("change", loadList);
$("older").addEventListener("click", () => {
  state.listLimit = Math.min(LIST_MOST, state.listLimit + LIST_PAGE);
  loadList();
});
$("item-status").addEventListener("change", () => itemsFrom(0));
$("previous").addEventListener("click", () => itemsFrom(state.skip - ITEMS_PAGE));
$("next").addEventListener("click", () => itemsFrom(state.skip + ITEMS_PAGE));
$("cancel").addEventListener("click", cancelBatch);
$("download").addEventListener("click", downloadResults);
window.addEventListener("hashchange", route);
if (state.key) start();
