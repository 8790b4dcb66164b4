// Building DOM nodes without HTML strings: every text goes in through textContent, so nothing a
// task, a model or a tool wrote can become markup (and the page's CSP forbids inline styles).

// h('div', {class: 'x', 'data-testid': 'y', onclick: fn}, child, 'text', [more children])
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

// Replaces every child of `el`.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}
