// MedEx Practice service worker. build.py writes the version and the precache list
// ([path, content hash] pairs). Cache-first for precached files; nothing else is cached.
const VERSION = "%CACHE_VERSION%";
const PRECACHE = "%PRECACHE%";
const CACHE = `medex-${VERSION}`;
const HASHES = "__hashes__"; // per cache: {path: hash}, so unchanged files are reused on update
const scope = new URL(self.registration.scope);
const urlOf = (path) => new URL(path, scope).href;
const wanted = new Map(PRECACHE.map(([path, hash]) => [urlOf(path), hash]));

async function previousCopies() {
  // Files whose hash is unchanged are copied from an older cache instead of downloaded.
  const copies = new Map();
  for (const name of await caches.keys()) {
    if (!name.startsWith("medex-") || name === CACHE) continue;
    const cache = await caches.open(name);
    const index = await cache.match(urlOf(HASHES));
    if (!index) continue;
    const hashes = await index.json();
    for (const [url, hash] of Object.entries(hashes)) {
      if (wanted.get(url) === hash && !copies.has(url)) copies.set(url, cache);
    }
  }
  return copies;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const copies = await previousCopies();
    await Promise.all([...wanted.keys()].map(async (url) => {
      const old = copies.get(url);
      const response = (old && (await old.match(url))) || (await fetch(url, { cache: "no-cache" }));
      if (!response.ok) throw new Error(`precache failed for ${url}: ${response.status}`);
      await cache.put(url, response);
    }));
    await cache.put(urlOf(HASHES), new Response(JSON.stringify(Object.fromEntries(wanted))));
    // The first install activates at once (there is no page to disturb); an update waits
    // for the page to ask (see boot.js), so it never lands mid-form.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("medex-") && name !== CACHE) await caches.delete(name);
    }
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== scope.origin) return;
  url.search = "";
  url.hash = "";
  let key = url.href;
  if (request.mode === "navigate" && (key === scope.href || key === urlOf("index.html"))) key = urlOf("index.html");
  if (!wanted.has(key)) return; // not ours to cache: straight to the network
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(key);
    return hit || fetch(request);
  })());
});
