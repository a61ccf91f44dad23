/**
 * A small, safe XML reader: enough for nginx-rtmp's `rtmp_stat` document (elements, text, self-closing tags,
 * the five predefined entities and character references). It never expands DTD entities (no billion laughs),
 * ignores attributes' meaning, and stops at a depth and node budget, so a hostile document costs bounded work.
 */
import { UsherError } from '../errors.js';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text directly inside this element (entities decoded), not trimmed. */
  text: string;
}

export interface XmlLimits {
  maxDepth: number;
  maxNodes: number;
}

const DEFAULT_LIMITS: XmlLimits = { maxDepth: 64, maxNodes: 2_000_000 };

/** A document the reader refuses (malformed, or past a budget): code `E_XML_INVALID`, with the offset. */
export class XmlError extends UsherError {
  readonly offset: number;

  constructor(message: string, at: number) {
    super('E_XML_INVALID', `XML: ${message} at offset ${at}`);
    this.name = 'XmlError';
    this.offset = at;
  }
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ATTR = /\s*([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*')/y;

/** Parse a document and return its root element. */
export function parseXml(src: string, limits: Partial<XmlLimits> = {}): XmlElement {
  const { maxDepth, maxNodes } = { ...DEFAULT_LIMITS, ...limits };
  const doc: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [doc];
  let nodes = 0;
  let i = 0;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const top = stack[stack.length - 1];
    if (lt < 0) {
      top.text += decode(src.slice(i), i);
      break;
    }
    if (lt > i) top.text += decode(src.slice(i, lt), i);
    i = lt;
    if (src.startsWith('<?', i)) {
      i = skipPast(src, '?>', i);
    } else if (src.startsWith('<!--', i)) {
      i = skipPast(src, '-->', i);
    } else if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i);
      if (end < 0) throw new XmlError('unterminated CDATA', i);
      top.text += src.slice(i + 9, end);
      i = end + 3;
    } else if (src.startsWith('<!', i)) {
      // DOCTYPE and other declarations: skipped, never interpreted
      i = skipPast(src, '>', i);
    } else if (src.startsWith('</', i)) {
      NAME.lastIndex = i + 2;
      const m = NAME.exec(src);
      if (!m) throw new XmlError('bad end tag', i);
      if (stack.length === 1 || top.name !== m[0]) throw new XmlError(`unexpected </${m[0]}>`, i);
      const gt = src.indexOf('>', NAME.lastIndex);
      if (gt < 0 || src.slice(NAME.lastIndex, gt).trim() !== '') throw new XmlError('bad end tag', i);
      stack.pop();
      i = gt + 1;
    } else {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(src);
      if (!m) throw new XmlError('bad start tag', i);
      const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
      let j = NAME.lastIndex;
      for (;;) {
        ATTR.lastIndex = j;
        const a = ATTR.exec(src);
        if (!a) break;
        el.attrs[a[1]] = decode(a[2].slice(1, -1), j);
        j = ATTR.lastIndex;
      }
      while (j < src.length && /\s/.test(src[j])) j++;
      const selfClosing = src.startsWith('/>', j);
      if (!selfClosing && src[j] !== '>') throw new XmlError(`bad tag <${el.name}>`, i);
      if (++nodes > maxNodes) throw new XmlError('too many elements', i);
      top.children.push(el);
      if (!selfClosing) {
        if (stack.length > maxDepth) throw new XmlError('nested too deep', i);
        stack.push(el);
      }
      i = j + (selfClosing ? 2 : 1);
    }
  }
  if (stack.length !== 1) throw new XmlError(`<${stack[stack.length - 1].name}> is not closed`, src.length);
  const root = doc.children[0];
  if (!root || doc.children.length !== 1) throw new XmlError('expected exactly one root element', 0);
  return root;
}

function skipPast(src: string, end: string, from: number): number {
  const k = src.indexOf(end, from);
  if (k < 0) throw new XmlError(`missing "${end}"`, from);
  return k + end.length;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string, at: number): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9A-Fa-f]+|#\d+|[A-Za-z]+);/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff) throw new XmlError(`bad character reference ${whole}`, at);
      return String.fromCodePoint(cp);
    }
    // unknown named entities are left as written: nothing here may pull in a definition
    return NAMED[ref] ?? whole;
  });
}

/** Direct children named `name`. */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

/** Trimmed text of the first child named `name`, or ''. */
export function childText(el: XmlElement, name: string): string {
  return child(el, name)?.text.trim() ?? '';
}
