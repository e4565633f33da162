/**
 * The file list, rendered virtually: only the rows in view (plus a margin) exist in the DOM, placed
 * inside one tall container, so 100,000 entries scroll as smoothly as 10. The page scrolls as a
 * whole (also on phones); rows have one fixed height, the same as in app.css (--kd-row).
 */
import { clear } from './dom.js';
import type { Entry } from './dav.js';

const MARGIN_ROWS = 12;

export class ListView {
  private items: Entry[] = [];
  private scheduled = false;
  private first = -1;
  private last = -1;

  constructor(private readonly container: HTMLElement, private readonly rowHeight: () => number, private readonly renderRow: (e: Entry, index: number) => HTMLElement) {
    const schedule = () => this.schedule();
    window.addEventListener('scroll', schedule, { passive: true });
    window.addEventListener('resize', () => {
      this.container.style.height = `${this.items.length * this.rowHeight()}px`;
      this.first = -1;
      this.schedule();
    });
  }

  setItems(items: Entry[]): void {
    this.items = items;
    this.container.style.height = `${items.length * this.rowHeight()}px`;
    this.first = -1;
    this.draw();
  }

  /** Redraws the rows in view (after an entry changed in place). */
  refresh(): void {
    this.first = -1;
    this.draw();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  private draw(): void {
    const row = this.rowHeight();
    const top = this.container.getBoundingClientRect().top;
    const first = Math.max(0, Math.floor(-top / row) - MARGIN_ROWS);
    const last = Math.min(this.items.length, Math.ceil((window.innerHeight - top) / row) + MARGIN_ROWS);
    if (first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    const focused = document.activeElement instanceof HTMLElement && this.container.contains(document.activeElement) ? document.activeElement.dataset.focusKey : undefined;
    clear(this.container);
    const fragment = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const el = this.renderRow(this.items[i], i);
      el.style.transform = `translateY(${i * row}px)`;
      fragment.appendChild(el);
    }
    this.container.appendChild(fragment);
    if (focused) (this.container.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`) as HTMLElement | null)?.focus();
  }
}
