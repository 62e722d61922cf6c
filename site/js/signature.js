// Drawn signatures (consent forms): wires npm signature_pad to every
// [data-signature-pad] block the app renders. Each stroke writes the drawing, as an SVG
// data URL, into the form's hidden `signature_svg` field; Python validates and stores it.
const pads = new WeakMap();
let SignaturePad = null;

async function wire(block) {
  const canvas = block.querySelector("canvas");
  if (!canvas || pads.get(canvas)) return;
  if (!SignaturePad) SignaturePad = (await import("../%SIGNATURE_PAD%")).default;
  const pad = new SignaturePad(canvas, { penColor: "#10202a", minWidth: 0.8, maxWidth: 2.4 });
  pads.set(canvas, pad);
  const field = block.closest("form")?.querySelector("input[name=signature_svg]");
  pad.addEventListener("endStroke", () => {
    if (field) {
      field.value = pad.toDataURL("image/svg+xml");
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });
  block.querySelector("[data-signature-clear]")?.addEventListener("click", () => {
    pad.clear();
    if (field) field.value = "";
  });
  document.documentElement.classList.add("signature-ready");
}

new MutationObserver(() => {
  document.querySelectorAll("[data-signature-pad]").forEach((block) => wire(block));
}).observe(document.body, { childList: true, subtree: true });
