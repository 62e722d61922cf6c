// The page's first script (async: it waits for neither the styles nor the document): a stored
// start snapshot starts restoring at once, in parallel with everything else the page loads.
// PyScript receives the restored Python when it asks for its interpreter (js/pyodide-boot.mjs).
import { startRestore } from "./pyodide-boot.mjs";

startRestore();
