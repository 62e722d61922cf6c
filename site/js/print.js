// Print the document on screen: any [data-print] button opens the browser's print dialog
// (the shell only dispatches [data-action] to Python; printing needs no Python).
if (!window.medexPrintWired) {
  window.medexPrintWired = true;
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-print]");
    if (!button) return;
    event.preventDefault();
    window.print();
  });
}
