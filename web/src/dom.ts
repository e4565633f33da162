/** Building DOM nodes without markup: text always goes in as text, so a name can never become HTML. */

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') el.className = String(value);
    else el.setAttribute(name, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

let spriteUrl = '';
export function setSpriteUrl(url: string): void {
  spriteUrl = url;
}

/** An icon from the sprite (served by keepdav; nothing is fetched from elsewhere). */
export function icon(name: string, cls = ''): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', `kd-icon ${cls}`.trim());
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', `${spriteUrl}#i-${name}`);
  svg.appendChild(use);
  return svg;
}

export function button(label: string, iconName: string | null, onClick: (ev: MouseEvent) => void, attrs: Attrs = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', ...attrs }, iconName ? icon(iconName) : null, label ? h('span', { class: 'kd-label' }, label) : null);
  b.addEventListener('click', onClick);
  return b;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}
