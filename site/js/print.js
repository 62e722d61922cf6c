// Print the document on screen: any [data-print] button opens the browser's print dialog
// (the shell only dispatches [data-action] to Python; printing needs no Python).
// A sent document shows its stored snapshot in a sandboxed frame (views/documents/sent.html:
// no scripts run in it): the frame is sized here to its content, and printed on its own.
if (!window.medexPrintWired) {
  window.medexPrintWired = true;
  const FRAMES = "iframe.snapshot-frame";
  // Heights go in a constructed stylesheet, not on the element: the shell's morph keeps the
  // frame's attributes as rendered.
  const heights = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, heights];
  const fit = () => {
    const rules = [];
    for (const frame of document.querySelectorAll(FRAMES)) {
      const inner = frame.id && frame.contentDocument && frame.contentDocument.documentElement;
      if (!inner) continue;
      const height = Math.ceil(inner.getBoundingClientRect().height);
      if (height > 0) rules.push(`#${CSS.escape(frame.id)} { height: ${height}px; }`);
    }
    heights.replaceSync(rules.join("\n"));
  };
  document.addEventListener("load", (event) => {
    if (event.target instanceof HTMLIFrameElement && event.target.matches(FRAMES)) fit();
  }, true);
  window.addEventListener("resize", fit);
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-print]");
    if (!button) return;
    event.preventDefault();
    const frame = document.querySelector(FRAMES);
    if (frame && frame.contentDocument) frame.contentWindow.print();
    else window.print();
  });
}

// One-page documents: warn in the preview when the content would not fit one printed page.
// The report is measured as it will print: a copy laid out off screen at the page's content
// width (paper size less the @page margins of css/reports.css), its height compared with the
// page's content height. The warning (#fit-warning, in views/documents/document.html) is
// shown through a constructed stylesheet, which the shell's morph leaves alone; it is checked
// again after every render.
if (!window.medexFitWired) {
  window.medexFitWired = true;
  const MM = 96 / 25.4; // CSS px per millimetre
  const IN = 96; // CSS px per inch
  // Content box of each paper: size less the margins (@page letter/a4: 13mm 14mm 15mm).
  const PAGES = {
    letter: { width: 8.5 * IN - 28 * MM, height: 11 * IN - 28 * MM },
    a4: { width: 210 * MM - 28 * MM, height: 297 * MM - 28 * MM },
  };
  const shown = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, shown];
  const measure = (report) => {
    const paper = report.classList.contains("paper-a4") ? "a4" : "letter";
    const box = PAGES[paper];
    const holder = document.createElement("div");
    holder.setAttribute("aria-hidden", "true");
    holder.style.cssText = `position:absolute;left:-30000px;top:0;width:${box.width}px;visibility:hidden;`;
    const copy = report.cloneNode(true);
    copy.removeAttribute("id");
    for (const el of copy.querySelectorAll("[id]")) el.removeAttribute("id");
    holder.appendChild(copy);
    document.body.appendChild(holder);
    const height = copy.getBoundingClientRect().height;
    holder.remove();
    return { height, pageHeight: box.height, pages: Math.ceil((height - 2) / box.height) };
  };
  const check = () => {
    const report = document.querySelector(".paper-preview .report.one-page");
    const warning = document.getElementById("fit-warning");
    if (!report || !warning) {
      shown.replaceSync("");
      return;
    }
    const { height, pageHeight, pages } = measure(report);
    document.documentElement.dataset.reportKind = report.dataset.kind || "";
    document.documentElement.dataset.reportHeight = String(Math.round(height));
    document.documentElement.dataset.reportPageHeight = String(Math.round(pageHeight));
    shown.replaceSync(
      pages > 1
        ? `#fit-warning { display: block !important; } #fit-warning .fit-pages::after { content: "about ${pages} pages"; }`
        : "",
    );
  };
  let queued = 0;
  const soon = () => {
    cancelAnimationFrame(queued);
    queued = requestAnimationFrame(check);
  };
  new MutationObserver(soon).observe(document.documentElement, {
    childList: true,
    subtree: true,
    characterData: true,
  });
  window.addEventListener("resize", soon);
  document.fonts?.ready.then(soon);
  soon();
}
