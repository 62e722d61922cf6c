// The offline indicator: a small chip while the browser reports no network. The app keeps
// working offline (the service worker serves every file; records live in IndexedDB), so the
// chip only says so. html[data-offline] lets the page leave room for it.
const html = document.documentElement;
const chip = document.getElementById("offline-chip");

function show() {
  const offline = !navigator.onLine;
  chip.hidden = !offline;
  if (offline) html.dataset.offline = "true";
  else delete html.dataset.offline;
}

addEventListener("online", show);
addEventListener("offline", show);
show();
