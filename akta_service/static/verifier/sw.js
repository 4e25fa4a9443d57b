// Keeps the verifier page, its script and style, the office's keys and the status list,
// so that the page opens and checks codes without a connection; refreshes them when online.
"use strict";

const CACHE = "akta-verifier-v1";
const SHELL = [
  "/periksa-akta/",
  "/static/verifier/verifier.js",
  "/static/verifier/verifier.css",
  "/static/base.css",
  "/.well-known/akta-keys.json",
  "/periksa-akta/status",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

// A kept copy says so, so that the page can tell a fresh status list from an old one.
function marked(kept) {
  const headers = new Headers(kept.headers);
  headers.set("X-Akta-Kept", "1");
  return new Response(kept.body, { status: kept.status, statusText: kept.statusText, headers });
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) {
    return;
  }
  // Network first (the freshest keys and statuses), the kept copy when offline.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname).then((kept) => (kept ? marked(kept) : Response.error()))),
  );
});
