/** Modal dialogs (the native <dialog>), questions with choices, and short notices at the bottom. */
import { h, button, clear, icon } from './dom.js';

export interface Choice<T> {
  label: string;
  value: T;
  primary?: boolean;
  danger?: boolean;
}

/** Dismisses the dialog on screen, if any (its promise resolves with its dismiss value). */
let dismissOpen: (() => void) | null = null;

/** Shows a dialog and resolves with the chosen value (the `dismiss` value on Escape or close). */
export function choose<T>(title: string, body: Array<Node | string>, choices: Choice<T>[], dismiss: T, name = 'dialog'): Promise<T> {
  dismissOpen?.();
  const dialog = h('dialog', { class: 'kd-dialog', 'data-dialog': name, 'aria-label': title });
  return new Promise<T>((resolve) => {
    let settled = false;
    const finish = (value: T) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      if (dismissOpen === dismissThis) dismissOpen = null;
      resolve(value);
    };
    const actions = h('div', { class: 'kd-dialog-actions' });
    for (const c of choices) {
      actions.appendChild(button(c.label, null, () => finish(c.value), { class: c.primary ? 'kd-primary' : c.danger ? 'kd-danger' : '', 'data-choice': String(c.value) }));
    }
    dialog.append(
      h('header', { class: 'kd-dialog-head' }, h('h2', {}, title), button('', 'x', () => finish(dismiss), { class: 'kd-ghost kd-close', 'aria-label': 'Close', title: 'Close' })),
      h('div', { class: 'kd-dialog-body' }, ...body),
      actions,
    );
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      finish(dismiss);
    });
    const dismissThis = () => finish(dismiss);
    document.body.appendChild(dialog);
    dismissOpen = dismissThis;
    dialog.showModal();
    (actions.querySelector('.kd-primary') as HTMLElement | null)?.focus();
  });
}

/** Asks for one line of text (a name); resolves with it, or null when cancelled. */
export function ask(title: string, label: string, initial: string, confirm: string, name = 'ask'): Promise<string | null> {
  const input = h('input', { type: 'text', class: 'kd-input', value: initial, 'aria-label': label, spellcheck: 'false', autocomplete: 'off' });
  const form = h('form', { method: 'dialog', class: 'kd-ask' }, h('label', {}, h('span', {}, label), input));
  const answer = choose<string | null>(title, [form], [{ label: 'Cancel', value: null }, { label: confirm, value: 'ok', primary: true }], null, name);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    (form.closest('dialog')?.querySelector('[data-choice="ok"]') as HTMLButtonElement | null)?.click();
  });
  setTimeout(() => {
    input.focus();
    const dot = initial.lastIndexOf('.');
    input.setSelectionRange(0, dot > 0 ? dot : initial.length);
  });
  return answer.then((v) => (v === null ? null : input.value.trim() || null));
}

/** Shows a message (an error the server explained, a result). */
export function inform(title: string, lines: Array<Node | string>, kind: 'error' | 'info' = 'info'): Promise<void> {
  const body = lines.map((l) => (typeof l === 'string' ? h('p', {}, l) : l));
  return choose<void>(title, [h('div', { class: `kd-message kd-${kind}` }, ...body)], [{ label: 'OK', value: undefined, primary: true }], undefined, kind);
}

let toastTimer = 0;

/** A short notice at the bottom of the screen, with an optional action (Undo). */
export function toast(message: string, action?: { label: string; run: () => void }, ms = 8000): void {
  let bar = document.querySelector('.kd-toast') as HTMLElement | null;
  if (!bar) {
    bar = h('div', { class: 'kd-toast', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(bar);
  }
  clear(bar);
  bar.append(h('span', { class: 'kd-toast-text' }, message));
  if (action) {
    bar.append(button(action.label, null, () => {
      bar!.classList.remove('kd-show');
      action.run();
    }, { class: 'kd-toast-action' }));
  }
  bar.append(button('', 'x', () => bar!.classList.remove('kd-show'), { class: 'kd-ghost', 'aria-label': 'Dismiss' }));
  bar.classList.add('kd-show');
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => bar!.classList.remove('kd-show'), ms);
}

export { icon };
