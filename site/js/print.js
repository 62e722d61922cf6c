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
