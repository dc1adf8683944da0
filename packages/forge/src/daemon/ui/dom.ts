/**
 * The dashboard's only way to make elements. SECURITY: text goes into the page through
 * `textContent` and attributes through `setAttribute`, never as markup: nothing here (or
 * anywhere in the dashboard) parses HTML, so plugin-supplied text (names, log lines,
 * event payloads, audit resources) is always shown as text. The page's CSP also demands
 * Trusted Types, so an assignment to `innerHTML` would throw rather than parse.
 */

/** What an element is made with. */
export interface Props {
  readonly class?: string;
  readonly text?: string;
  readonly title?: string;
  readonly attrs?: Readonly<Record<string, string>>;
}

/** An HTML element with `props` and `children`. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class !== undefined) element.className = props.class;
  if (props.text !== undefined) element.textContent = props.text;
  if (props.title !== undefined) element.title = props.title;
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  for (const child of children) element.append(child);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Readonly<Record<string, string>> = {}, ...children: Node[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  for (const child of children) element.append(child);
  return element;
}

/**
 * The page's element with `id`, of the expected type.
 * @throws Error when the page lacks it (a page and script out of step)
 */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the dashboard page has no ${type.name} #${id}`);
  return element;
}

/** Sets a node's text only when it differs: unchanged rows cost no DOM write. */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** Shows or hides an element. */
export function show(element: HTMLElement | SVGElement, visible: boolean): void {
  if (element instanceof HTMLElement) {
    if (element.hidden === visible) element.hidden = !visible;
  } else if (visible) element.removeAttribute('display');
  else element.setAttribute('display', 'none');
}

/** Calls `flush` once in the next animation frame, however often it is scheduled before then. */
export function frameBatcher(flush: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      flush();
    });
  };
}
