// The embed's static preview (issue 20), drawn by loader.js before the WebAssembly has loaded:
// the scenario's topology, status, log line and title as the engine produced them at build time
// (previews.json, crates/core/src/preview.rs), with the live embed's classes (style/embed.css).
// Loaded by embeds, and by the full page for an address that only chooses a scenario
// (`pagePreview`, drawn by public/boot.js).

import { topology } from './boot.js';

/** The picker's default when nothing is broken (src/ui/embed/mod.rs DEFAULT_PICK). */
const DEFAULT_PICK = 'app_down';

let isLoading = () => false;

/** The address's parameters as link::parse reads them: the last value of a key wins. */
function param(q, key) {
  const all = q.getAll(key);
  return all.length ? all[all.length - 1] : null;
}

/**
 * Draws the preview (once previews.json is in); `wake` is called with 'click' by its start
 * button; `loading()` says whether the simulator is already on its way.
 */
export async function preview(cfg, wake, loading) {
  isLoading = loading;
  const data = await flavorFile(await cfg.previews, new URLSearchParams(location.search), location.hash);
  // An eager embed whose simulator is already up needs no preview.
  if (document.querySelector('[data-testid=embed]')) return;
  const q = new URLSearchParams(location.search);
  const theme = param(q, 'theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.setAttribute('data-theme', theme);
  const found = pick(q, location.hash, data);
  const root = draw(found, data, cfg, wake);
  if (document.querySelector('[data-testid=embed]')) return; // the live embed won the race
  document.body.prepend(root);
}

/**
 * For the full page (public/boot.js): the prerendered preview of the address's scenario, and the
 * title its fault picker shows (src/ui/controls.rs: the first fault's title in the flavor's words;
 * for a scenario without a catalog fault, "This scenario: " and its title), or null when
 * previews.json has none for the address.
 */
export async function pagePreview() {
  const q = new URLSearchParams(location.search);
  let data = null;
  try {
    const r = await fetch('previews.json');
    data = r.ok ? await r.json() : null;
  } catch {
    return null;
  }
  data = await flavorFile(data, q, location.hash);
  const p = pick(q, location.hash, data).preview;
  if (!p) return null;
  const own = p.title.slice(0, Math.max(0, p.title.lastIndexOf(' · ')));
  const title = p.broken ? titleIn(data, p.pick, p.flavor) : own && own !== 'Healthy upstream' ? `This scenario: ${own}` : null;
  return { preview: p, title };
}

/**
 * The previews of the address's flavor when previews.json names a file of their own for it
 * (`files`: previews-apache.json, …; crates/core/src/preview.rs `split`), else `data`.
 */
async function flavorFile(data, q, hash) {
  const fragment = /(?:^#|&)(s=[^&]*)/.exec(hash)?.[1] ?? null;
  const flavor = param(q, 'flavor') ?? (fragment ? decodeFragment(fragment)?.flavor : null);
  const file = flavor && data?.files ? data.files[flavor] : null;
  if (!file) return data;
  try {
    const r = await fetch(file);
    const more = r.ok ? await r.json() : null;
    return more && more.format === data.format ? more : data;
  } catch {
    return data;
  }
}

/** A fault's title in the words of `flavor` (previews.json's `faults`, in `flavors`' order). */
function titleIn(data, id, flavor) {
  const i = Math.max(0, data?.flavors?.indexOf(flavor) ?? 0);
  return data?.faults?.[id]?.[i] ?? id;
}

/** { preview, state } when the address has a prerendered preview, else { title, faults, flavor }. */
function pick(q, hash, data) {
  const flavor = param(q, 'flavor');
  const fragment = /(?:^#|&)(s=[^&]*)/.exec(hash)?.[1] ?? null;
  const modified = param(q, 'retry') !== null || param(q, 'seed') !== null;
  let key = null;
  if (fragment) {
    if (flavor === null && !modified) key = fragment;
  } else if (!modified) {
    key = `${param(q, 'fault') ?? ''}|${flavor ?? ''}`;
  }
  let found;
  if (data && data.format === 1 && key !== null) {
    found = key.startsWith('s=') ? data.previews.find((p) => p.fragment === key) : data.previews[data.keys[key]];
  }
  if (found) return { preview: found };
  // No preview for this address: name what can be named without running the engine.
  const named = fragment ? decodeFragment(fragment) : null;
  const faults = named?.faults ?? (param(q, 'fault') && data?.faults?.[param(q, 'fault')] ? [param(q, 'fault')] : []);
  const fl = data?.flavors?.includes(flavor) ? flavor : named?.flavor ?? 'nginx';
  const titleOf = (id) => titleIn(data, id, fl);
  const title = named?.title || (faults.length ? titleOf(faults[0]) : param(q, 'fault') ?? 'Gateway Lab');
  return { title: `${title} · ${fl}`, faults: faults.map(titleOf), flavor: fl };
}

/** What a share fragment says of itself ({ title, faults, flavor }), or null when it does not read. */
function decodeFragment(fragment) {
  try {
    const [version, payload] = fragment.slice(2).split('.');
    if (version !== '1' || !payload) return null;
    const bin = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const json = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
    const faults = Array.isArray(json.faults) ? json.faults.map((f) => f && f.type).filter((t) => typeof t === 'string') : [];
    return { title: typeof json.title === 'string' ? json.title.trim() : '', faults, flavor: typeof json.proxy?.flavor === 'string' ? json.proxy.flavor : 'nginx' };
  } catch {
    return null;
  }
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** The full page on the same scenario (src/ui/embed/links.rs full_url), without the embed's own parameters. */
function fullUrl(q, fragment) {
  const keep = new URLSearchParams();
  for (const k of ['theme', 'lesson', 'view']) if (param(q, k) !== null) keep.set(k, param(q, k));
  const query = keep.toString();
  return `${location.href.split(/[?#]/)[0]}${query ? `?${query}` : ''}${fragment ? `#${fragment}` : ''}`;
}

function draw(found, data, cfg, wake) {
  const q = new URLSearchParams(location.search);
  const p = found.preview;
  // After the click, or as an embed without start=click starts (`auto`, when it differs).
  const st = p ? (cfg.click ? p.click : p.auto ?? p.click) : null;
  const title = p ? p.title : found.title;
  const fragment = /(?:^#|&)(s=[^&]*)/.exec(location.hash)?.[1] ?? p?.fragment ?? null;
  const root = el('div', { class: `embed${cfg.click ? ' waiting' : ''}`, 'data-preview': true, 'data-testid': 'embed-preview' });
  root.append(
    el('header', { class: 'embed-bar' },
      el('span', { class: 'embed-brand' }, 'Gateway Lab'),
      el('span', { class: 'embed-title', 'data-testid': 'preview-title' }, title),
      el('a', { class: 'embed-open', href: fullUrl(q, fragment), target: '_blank', rel: 'noopener' }, 'Open in Gateway Lab ↗'),
    ),
  );
  const body = el('div', { class: 'embed-body', inert: true });
  if (st) body.append(topology(st.topology));
  const pickId = p ? p.pick : DEFAULT_PICK;
  const pickTitle = titleIn(data, pickId, p?.flavor ?? found.flavor);
  body.append(
    el('div', { class: 'embed-controls' },
      // As the live embed draws them; the body is inert until the simulator has loaded.
      el('select', { class: 'embed-fault', 'aria-label': 'Fault to break the upstream with' }, el('option', { value: pickId }, pickTitle)),
      el('button', { class: 'embed-break' }, 'Break'),
      el('button', { class: 'embed-fix', disabled: !p?.broken }, 'Fix'),
      el('button', { class: 'send' }, 'Send GET /users'),
    ),
  );
  const result = el('div', { class: 'embed-result' });
  if (st) {
    result.append(
      el('p', { class: `embed-status ${st.status_class}`, 'data-testid': 'preview-status' },
        st.status ?? 'No request yet: press Send',
        el('span', { class: 'embed-request-no' }, st.request ? `request #${st.request}` : '')),
    );
    if (st.log_line) {
      result.append(el('div', { class: 'embed-log' },
        el('span', { class: 'embed-log-title' }, st.log_title),
        el('code', { class: 'embed-log-line', 'data-testid': 'preview-log-line' }, st.log_line)));
    }
    if (st.termination) result.append(el('p', { class: 'embed-termination' }, st.termination));
    result.append(el('p', { class: 'embed-explanation', title: st.explanation }, st.explanation));
  } else {
    // Not prerendered (another seed, a retry preset, an edited scenario): its faults, and no
    // status the engine has not produced.
    result.append(
      el('p', { class: 'embed-status none', 'data-testid': 'preview-status' },
        found.faults.length ? `Breaks: ${found.faults.join(', ')}` : 'No fault: a healthy upstream'),
      el('p', { class: 'embed-explanation' }, 'Run this example to see the status and the log line.'),
    );
  }
  body.append(result);
  root.append(body);
  if (cfg.click) {
    const button = el('button', { class: 'embed-start-button', 'data-testid': 'embed-start' }, '▶ Run this example');
    button.addEventListener('click', () => {
      button.disabled = true;
      button.textContent = 'Loading the simulator…';
      wake?.('click');
    });
    root.append(el('div', { class: 'embed-start embed-preview-start' }, button, el('p', { class: 'embed-start-note' }, title)));
  } else {
    root.append(el('p', { class: 'embed-preview-note', role: 'status' }, isLoading() ? 'Loading the simulator…' : ''));
  }
  return root;
}
