// The akta verifier: checks a sealed QR code (AK1: + base45(zlib(COSE_Sign1))) in the
// browser with WebCrypto (ECDSA P-256), against the office's published keys and its signed
// status list, both kept in the Cache API so that a check works offline once the page was
// opened. The format is described in akta_service/akta/seal.py.
"use strict";

const CACHE = "akta-verifier-v1";
const KEYS_URL = "/.well-known/akta-keys.json";
const STATUS_URL = "/periksa-akta/status";
const FACTS_CLAIM = -65537;
const STATUS_CLAIM = -65538;
const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

function base45Decode(text) {
  const out = [];
  for (let i = 0; i < text.length; i += 3) {
    const chunk = text.slice(i, i + 3);
    const digits = [...chunk].map((c) => {
      const d = B45.indexOf(c);
      if (d < 0) throw new Error("seal_not_base45");
      return d;
    });
    if (digits.length === 1) throw new Error("seal_not_base45");
    const value = digits[0] + digits[1] * 45 + (digits.length === 3 ? digits[2] * 2025 : 0);
    if (digits.length === 3) {
      if (value > 0xffff) throw new Error("seal_not_base45");
      out.push(value >> 8, value & 0xff);
    } else {
      if (value > 0xff) throw new Error("seal_not_base45");
      out.push(value);
    }
  }
  return new Uint8Array(out);
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  const inflated = new Uint8Array(await new Response(stream).arrayBuffer());
  if (inflated.length > 4096) throw new Error("seal_too_large");
  return inflated;
}

// A small CBOR decoder (RFC 8949): integers, byte and text strings, arrays, maps, tags,
// false/true/null. Maps come back as Map (their keys are integers here).
function cborDecode(bytes) {
  let at = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  function need(n) {
    if (at + n > bytes.length) throw new Error("seal_not_cbor");
  }
  function length(info) {
    if (info < 24) return info;
    if (info === 24) { need(1); return bytes[at++]; }
    if (info === 25) { need(2); const v = view.getUint16(at); at += 2; return v; }
    if (info === 26) { need(4); const v = view.getUint32(at); at += 4; return v; }
    if (info === 27) {
      need(8); const v = Number(view.getBigUint64(at)); at += 8; return v;
    }
    throw new Error("seal_not_cbor");
  }
  function item(depth) {
    if (depth > 16) throw new Error("seal_not_cbor");
    need(1);
    const first = bytes[at++];
    const major = first >> 5;
    const info = first & 31;
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      throw new Error("seal_not_cbor");
    }
    const n = length(info);
    switch (major) {
      case 0: return n;
      case 1: return -1 - n;
      case 2: need(n); at += n; return bytes.slice(at - n, at);
      case 3: need(n); at += n; return new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(at - n, at));
      case 4: { const list = []; for (let i = 0; i < n; i++) list.push(item(depth + 1)); return list; }
      case 5: {
        const map = new Map();
        for (let i = 0; i < n; i++) { const k = item(depth + 1); map.set(k, item(depth + 1)); }
        return map;
      }
      case 6: return { tag: n, value: item(depth + 1) };
      default: throw new Error("seal_not_cbor");
    }
  }
  const value = item(0);
  if (at !== bytes.length) throw new Error("seal_not_cbor");
  return value;
}

function cborHead(major, n) {
  if (n < 24) return [(major << 5) | n];
  if (n < 256) return [(major << 5) | 24, n];
  return [(major << 5) | 25, n >> 8, n & 0xff];
}

// Sig_structure (RFC 9052 §4.4): ["Signature1", protected, h'', payload].
function sigStructure(protectedBytes, payload) {
  const context = new TextEncoder().encode("Signature1");
  const parts = [
    cborHead(4, 4), cborHead(3, context.length), context,
    cborHead(2, protectedBytes.length), protectedBytes, cborHead(2, 0),
    cborHead(2, payload.length), payload,
  ];
  const size = parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function cachedFetch(url, asBytes) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    const fresh = !response.headers.get("X-Akta-Kept");
    if (fresh) await cache.put(url, response.clone());
    return { body: asBytes ? new Uint8Array(await response.arrayBuffer()) : await response.json(), fresh };
  } catch (error) {
    const kept = await cache.match(url);
    if (!kept) return null;
    return { body: asBytes ? new Uint8Array(await kept.arrayBuffer()) : await kept.json(), fresh: false };
  }
}

async function openSign1(bytes, keys) {
  const message = cborDecode(bytes);
  if (!message || message.tag !== 18 || !Array.isArray(message.value) || message.value.length !== 4) {
    throw new Error("seal_not_cose");
  }
  const [protectedBytes, , payload, signature] = message.value;
  if (!(protectedBytes instanceof Uint8Array) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new Error("seal_not_cose");
  }
  const header = cborDecode(protectedBytes);
  if (!(header instanceof Map) || header.get(1) !== -7 || signature.length !== 64) {
    throw new Error("seal_algorithm_unknown");
  }
  const kid = header.get(4) instanceof Uint8Array ? b64url(header.get(4)) : "";
  const jwk = keys.find((key) => key.kid === kid);
  if (!jwk) throw new Error("seal_key_unknown");
  const key = await crypto.subtle.importKey(
    "jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
    { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"],
  );
  const ok = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" }, key, signature, sigStructure(protectedBytes, payload),
  );
  if (!ok) throw new Error("seal_signature_invalid");
  const claims = cborDecode(payload);
  if (!(claims instanceof Map)) throw new Error("seal_not_cose");
  return { claims, kid };
}

function toHex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function loadStatus(keys) {
  const got = await cachedFetch(STATUS_URL, true);
  if (!got) return null;
  try {
    const { claims } = await openSign1(got.body, keys);
    const entries = new Map();
    for (const [number, version, code, day] of claims.get(STATUS_CLAIM) || []) {
      entries.set(`${number}#${version}`, { status: code === 1 ? "annulled" : "superseded", day });
    }
    return { issuedAt: new Date(claims.get(6) * 1000), entries, fresh: got.fresh };
  } catch (error) {
    return null;
  }
}

export async function checkCode(text) {
  const compact = text.replace(/[\r\n\t]/g, "").replace(/^ +/, "");
  const keysGot = await cachedFetch(KEYS_URL, false);
  if (!keysGot) return { status: "invalid", problem: "keys_unavailable" };
  const keys = keysGot.body.keys || [];
  const statuses = await loadStatus(keys);
  if (!compact.toUpperCase().startsWith("AK1:")) return { status: "invalid", problem: "seal_prefix_missing", statuses };
  let opened;
  try {
    opened = await openSign1(await inflate(base45Decode(compact.slice(4))), keys);
  } catch (error) {
    const problem = String(error.message).startsWith("seal_") ? error.message : "seal_not_zlib";
    return { status: "invalid", problem, statuses };
  }
  const f = opened.claims.get(FACTS_CLAIM);
  if (!(f instanceof Map)) return { status: "invalid", problem: "seal_facts_missing", statuses };
  const facts = {
    number: f.get(1), version: f.get(2), child: f.get(3), sex: f.get(4), birthDate: f.get(5),
    birthPlace: f.get(6), father: f.get(7), mother: f.get(8), issueDate: f.get(9),
    digest: f.get(10) instanceof Uint8Array ? toHex(f.get(10)) : "", url: f.get(11),
  };
  const listed = statuses ? statuses.entries.get(`${facts.number}#${facts.version}`) : null;
  return {
    status: listed ? listed.status : "valid", day: listed ? listed.day : null,
    facts, kid: opened.kid, statuses,
  };
}

const VERDICTS = {
  valid: "SAH — segel kantor cocok dengan isi kode ini.",
  invalid: "TIDAK SAH — kode ini tidak bersegel kantor atau isinya telah diubah.",
  annulled: "DIBATALKAN — akta ini telah dibatalkan",
  superseded: "TIDAK BERLAKU — akta ini telah diperbaiki; ada versi yang lebih baru",
};
const PROBLEMS = {
  keys_unavailable: "Kunci kantor belum pernah diunduh: buka halaman ini sekali saat ada sinyal.",
  seal_prefix_missing: "Ini bukan kode QR akta (harus diawali AK1:).",
  seal_key_unknown: "Kode ini disegel dengan kunci yang tidak dikenal kantor.",
  seal_signature_invalid: "Segel tidak cocok dengan isinya: ada yang diubah.",
};
const FIELDS = [
  ["number", "Nomor akta"], ["version", "Versi"], ["child", "Nama anak"], ["sex", "Jenis kelamin"],
  ["birthPlace", "Tempat lahir"], ["birthDate", "Tanggal lahir"], ["father", "Nama ayah"],
  ["mother", "Nama ibu"], ["issueDate", "Tanggal terbit"], ["digest", "SHA-256 teks akta"],
  ["url", "Halaman verifikasi"],
];

function show(result) {
  const out = document.getElementById("result");
  out.replaceChildren();
  out.dataset.status = result.status;
  const verdict = document.createElement("p");
  verdict.id = "verdict";
  verdict.className = `verdict verdict-${result.status}`;
  verdict.textContent = VERDICTS[result.status] + (result.day ? ` pada ${result.day}.` : "");
  out.append(verdict);
  if (result.problem) {
    const why = document.createElement("p");
    why.id = "problem";
    why.textContent = PROBLEMS[result.problem] || `Kode tidak dapat dibaca (${result.problem}).`;
    out.append(why);
  }
  if (result.facts) {
    const list = document.createElement("dl");
    list.id = "facts";
    for (const [name, label] of FIELDS) {
      const value = result.facts[name];
      if (value === null || value === undefined) continue;
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.id = `fact-${name}`;
      dd.textContent = String(value);
      list.append(dt, dd);
    }
    out.append(list);
  }
  const asOf = document.createElement("p");
  asOf.id = "status-as-of";
  asOf.textContent = result.statuses
    ? `Status pembatalan per ${result.statuses.issuedAt.toLocaleString("id-ID")}` +
      (result.statuses.fresh ? " (baru diperbarui)." : " (tersimpan; perangkat sedang luring).")
    : "Daftar status pembatalan belum pernah diunduh: pembatalan tidak dapat diperiksa.";
  out.append(asOf);
}

async function scanWithCamera() {
  const detector = new BarcodeDetector({ formats: ["qr_code"] });
  const video = document.getElementById("camera");
  video.hidden = false;
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  await video.play();
  for (;;) {
    const codes = await detector.detect(video);
    if (codes.length) {
      stream.getTracks().forEach((track) => track.stop());
      video.hidden = true;
      document.getElementById("code").value = codes[0].rawValue;
      show(await checkCode(codes[0].rawValue));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function start() {
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/periksa-akta/sw.js", { scope: "/periksa-akta/" });
  // Keep the keys and the status list for offline checks, as soon as the page opens.
  cachedFetch(KEYS_URL, false).then((got) => got && loadStatus(got.body.keys || [])).then((statuses) => {
    document.getElementById("ready").textContent = statuses
      ? `Siap memeriksa, juga tanpa sinyal. Status pembatalan per ${statuses.issuedAt.toLocaleString("id-ID")}.`
      : "Kunci kantor belum dapat diunduh.";
    document.body.dataset.ready = statuses ? "yes" : "no";
  });
  document.getElementById("check-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    show(await checkCode(document.getElementById("code").value));
  });
  const scan = document.getElementById("scan");
  if ("BarcodeDetector" in window && navigator.mediaDevices) {
    scan.hidden = false;
    scan.addEventListener("click", () => scanWithCamera().catch(() => { scan.hidden = true; }));
  }
}

if (typeof document !== "undefined") start();
