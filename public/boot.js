// The loading state, before the WebAssembly arrives (public/loader.js calls these hooks while it
// downloads and starts the wasm, as Trunk's `data-initializer` did). index.html shows #boot at once; this module
// fills in the progress, removes #boot once the app has mounted, and says clearly what went
// wrong if WebAssembly is missing or the download fails. No framework, no dependencies.
const el = (id) => document.getElementById(id);

let failed = false;

function fail(message) {
  const boot = el('boot');
  if (!boot || failed) return; // the first, most specific reason stays
  failed = true;
  boot.classList.add('boot-failed');
  boot.setAttribute('role', 'alert');
  el('boot-status').textContent = message;
  el('boot-bar')?.remove();
}

export default function initializer() {
  return {
    onStart() {
      if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
        fail('This browser cannot run WebAssembly, which Gateway Lab needs: the simulator runs entirely in your browser. Try a current Firefox, Chrome, Edge or Safari (WebAssembly may also be switched off by a policy or a lockdown mode).');
      }
    },
    onProgress({ current, total }) {
      const bar = el('boot-bar');
      if (!bar || !total) return;
      const pct = Math.min(100, Math.round((current / total) * 100));
      bar.value = pct;
      el('boot-status').textContent = `Loading the simulator… ${pct} %`;
    },
    onSuccess() {
      // main() has run: the app (or the panic overlay) is on the page.
      el('boot')?.remove();
    },
    onFailure(reason) {
      // A panic while starting shows its own overlay (src/ui/panic.rs), which says more.
      if (document.querySelector('[data-testid=panic-overlay]')) {
        el('boot')?.remove();
        return;
      }
      const why = reason && reason.message ? reason.message : String(reason);
      fail(`Gateway Lab could not start: the simulator (WebAssembly) did not load (${why}). Check your connection and reload the page.`);
    },
  };
}
