// Files: backups encrypted with a passphrase, downloads (no network), reading a picked file,
// scaling a picked image.
import { b64, decryptBytes, deriveKek, encryptBytes, PBKDF2_ITERATIONS, td, te, unb64 } from "./crypto.js";

const BACKUP_AAD = "medex-practice-backup";

// The backup text encrypted with a key derived from the passphrase, as the backup file text.
export async function encryptBackup(text, passphrase) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const kek = await deriveKek(passphrase, salt, PBKDF2_ITERATIONS);
  const box = await encryptBytes(kek, te.encode(text), BACKUP_AAD);
  return JSON.stringify({
    format: "medex-practice-backup",
    format_version: 1,
    encrypted: true,
    envelope: { v: 1, kdf: "PBKDF2-SHA256", params: { iterations: PBKDF2_ITERATIONS, hash: "SHA-256" }, salt: b64(salt), iv: box.iv, ct: box.ct },
  });
}

// The plain backup text inside an encrypted backup file, or undefined for a wrong passphrase
// (or a damaged envelope).
export async function decryptBackup(fileText, passphrase) {
  try {
    const env = JSON.parse(fileText).envelope;
    if (!env || env.v !== 1 || env.kdf !== "PBKDF2-SHA256") return undefined;
    const iterations = Number(env.params?.iterations);
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10000000) return undefined;
    const kek = await deriveKek(passphrase, unb64(env.salt), iterations);
    return td.decode(await decryptBytes(kek, env, BACKUP_AAD));
  } catch {
    return undefined;
  }
}

// Offer text, or a Blob (a backup file made of parts), as a file download (no network: a Blob
// URL and a.download).
export function download(filename, content, mime) {
  const blob = content instanceof Blob ? content : new Blob([content], { type: mime });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 120000);
}

// The text of the file picked in an <input type=file>.
export async function readText(file) {
  return await file.text();
}

// Read an image file the practitioner picked and return it as a PNG data URL, scaled down
// to fit max×max (a logo for the letterhead does not need a 12-megapixel photo).
// `type` "image/jpeg" (with `quality`) for photos: a tenth of a PNG's size.
export async function imageToDataUrl(file, max, type = "image/png", quality = 0.85) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, max / Math.max(bitmap.width, bitmap.height));
  const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await canvas.convertToBlob({ type, quality });
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${blob.type};base64,${btoa(binary)}`;
}
