// Boot supervisor: the splash's progress, boot failures in words, the service worker and
// its update prompt. Runs before Python; everything after start-up is Python's.
const html = document.documentElement;
const $ = (id) => document.getElementById(id);
// A start is called failed only after this long without a new step: a slower engine or device
// (WebKit spends over a minute loading the interpreter on a busy machine) is still moving.
const BOOT_STALL_MS = 120000;
let failed = false;
let stalled = false; // failed only for taking too long: a start that then finishes recovers
let ready = false;
let lastStep = performance.now();

// PyScript reports its own stages as `py:progress` events ("Loading Pyodide", ...).
const PYSCRIPT_STAGES = {
  "Loading Storage": 8, "Loaded Storage": 10,
  "Loading interpreter": 12, "Loading Pyodide": 15, "Loaded Pyodide": 35,
  "Loaded interpreter": 38, "Loading files": 39, "Loaded files": 40,
  "Loading fetch": 40, "Loaded fetch": 41, "Loading JS": 41, "Loaded JS": 43,
};
const PYSCRIPT_LABELS = { 15: "Loading the Python runtime", 35: "Python runtime loaded" };

// [ms since navigation start, step] — read by benchmarks/startup.py; shared with the restore
// of a start snapshot, which begins before this script runs (js/start.js).
const timings = (globalThis.medexBootTimings ??= []);
function step(label, percent, detail) {
  lastStep = performance.now();
  timings.push([Math.round(lastStep), detail ? `${label}: ${detail}` : label]);
  if (failed || ready) return;
  const text = detail ? `${label}: ${detail}` : label;
  $("splash-step").textContent = text;
  const bar = $("splash-progress");
  if (percent > Number(bar.value)) bar.value = percent;
  html.dataset.bootStep = label;
}

function fail(message) {
  if (failed || ready) return;
  failed = true;
  const text = String(message || "Unknown error");
  html.dataset.appError = text;
  $("boot-error-message").textContent = text;
  $("splash").hidden = true;
  $("boot-error").hidden = false;
}

function markReady() {
  ready = true;
  if (stalled) {
    // It was only slow: the message goes, the app opens.
    failed = stalled = false;
    delete html.dataset.appError;
    $("boot-error").hidden = true;
  }
  if ("serviceWorker" in navigator) registerServiceWorker();
  scheduleStartSnapshot();
  $("splash").hidden = true;
  $("app").hidden = false;
  html.dataset.readyMs = String(performance.now());
  html.dataset.appReady = "true";
}

window.medexBoot = { step, fail, ready: markReady, timings };

addEventListener("py:progress", (event) => {
  lastStep = performance.now();
  timings.push([Math.round(lastStep), `pyscript: ${event.detail}`]);
  const pct = PYSCRIPT_STAGES[event.detail];
  if (pct !== undefined) step(PYSCRIPT_LABELS[pct] || "Loading the Python runtime", pct, "");
});
addEventListener("error", (event) => {
  // Script errors and failed <script> loads stop the boot; a missing image or stylesheet does not.
  const target = event.target;
  if (ready || (target && target !== window && target.tagName !== "SCRIPT")) return;
  const where = event.filename ? ` (${event.filename.split("/").pop()})` : "";
  fail(`${event.message || "A script failed to load"}${where}`);
}, true);
addEventListener("unhandledrejection", (event) => {
  if (ready) return;
  const reason = event.reason;
  fail(reason && reason.message ? reason.message : String(reason));
});
// PyScript shows Python errors in its own element; report them as a boot failure too.
new MutationObserver(() => {
  const err = document.querySelector(".py-error");
  if (err && !ready) fail(err.textContent.trim().split("\n").slice(-3).join(" "));
}).observe(document.body, { childList: true, subtree: true });
const watchdog = setInterval(() => {
  if (ready || failed) return clearInterval(watchdog);
  if (performance.now() - lastStep < BOOT_STALL_MS) return;
  clearInterval(watchdog);
  fail("Python did not finish loading: nothing moved for 2 minutes. The device may be short of memory, or the download was interrupted.");
  stalled = true;
}, 5000);

$("boot-error-reload").addEventListener("click", () => location.reload());
step("Loading the Python runtime", 5, "");

// The start snapshot that makes the next start fast (js/snapshot.js): made in a worker once
// the browser is idle after this start; data-start-snapshot says "ready" once it is stored.
function scheduleStartSnapshot() {
  const done = (result) => {
    html.dataset.startSnapshot = result.ok ? "ready" : "not made";
    if (!result.ok) console.info("Start snapshot not made:", result.error);
  };
  Promise.all([import("./snapshot.js"), import("./pyodide-boot.mjs")])
    .then(([{ makeInBackground }, { pyscriptSources }]) => makeInBackground(done, pyscriptSources))
    .catch((err) => done({ ok: false, error: String(err) }));
}

// Service worker: precaches the app for offline use. An update waits until the practitioner
// chooses to apply it (after Python has flushed any pending save), never mid-form.
// Registered once the app is ready, so precaching does not compete with start-up.
function registerServiceWorker() {
  navigator.serviceWorker.register("sw.js", { scope: "./" }).then((registration) => {
    const offer = () => {
      if (registration.waiting && navigator.serviceWorker.controller) $("update-banner").hidden = false;
    };
    offer();
    registration.addEventListener("updatefound", () => {
      const worker = registration.installing;
      if (worker) worker.addEventListener("statechange", () => worker.state === "installed" && offer());
    });
    $("update-apply").addEventListener("click", async () => {
      if (window.medexFlush) await window.medexFlush();
      if (registration.waiting) registration.waiting.postMessage({ type: "SKIP_WAITING" });
    });
  }).catch((err) => console.warn("Service worker not registered:", err));
}
if ("serviceWorker" in navigator) {
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading || !html.dataset.updateRequested) return;
    reloading = true;
    location.reload();
  });
  $("update-apply").addEventListener("click", () => { html.dataset.updateRequested = "1"; });
}
