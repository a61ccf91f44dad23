/**
 * Property tests for the hand-written XML reader (src/adapters/xml.ts): any tree it is given back as XML is read
 * back exactly (names, attributes, text with every character that needs escaping), and any input at all either
 * parses or fails with XmlError (code E_XML_INVALID) — never another exception, never past its budgets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseXml, XmlError, type XmlElement } from '../../src/adapters/xml.js';

interface Tree {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: Tree[];
}

const anyChar = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 });
const name = fc.stringMatching(/^[A-Za-z_][-A-Za-z0-9_.]{0,8}$/);
// text with the characters XML must escape, plus arbitrary unicode (no control characters XML 1.0 forbids)
const text = fc.string({ unit: fc.oneof(fc.constantFrom('<', '>', '&', '"', "'", ' ', 'a', 'é', '😀'), anyChar), maxLength: 12 })
  .map((s) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, ''));
const node = (children: fc.Arbitrary<Tree[]>): fc.Arbitrary<Tree> => fc.record({ name, attrs: fc.dictionary(name, text, { maxKeys: 3 }), text, children });
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  // depth bounded (at most 5 levels), so the reader's own depth budget (64) is never what stops it here
  tree: fc.oneof({ maxDepth: 4, depthIdentifier: 'xml' }, node(fc.constant([])), node(fc.array(tie('tree') as fc.Arbitrary<Tree>, { maxLength: 3 }))),
}));

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
/** Text first, then the children (the reader concatenates direct text; putting it first keeps it one run). */
function write(t: Tree, cdata: boolean): string {
  const attrs = Object.entries(t.attrs).map(([k, v]) => ` ${k}="${esc(v)}"`).join('');
  const body = cdata && !t.text.includes(']]>') ? `<![CDATA[${t.text}]]>` : esc(t.text);
  if (t.text === '' && t.children.length === 0) return `<${t.name}${attrs}/>`;
  return `<${t.name}${attrs}>${body}${t.children.map((c) => write(c, cdata)).join('')}</${t.name}>`;
}
function shape(e: XmlElement): Tree {
  return { name: e.name, attrs: e.attrs, text: e.text, children: e.children.map(shape) };
}
function count(t: Tree): number {
  return 1 + t.children.reduce((n, c) => n + count(c), 0);
}

describe('parseXml (properties)', () => {
  it('reads back exactly any tree written as XML, escaped or in CDATA, with a declaration and comments around', () => {
    fc.assert(fc.property(tree, fc.boolean(), (t, cdata) => {
      const doc = `<?xml version="1.0" encoding="utf-8" ?>\n<!-- head -->${write(t, cdata)}<!-- tail -->\n`;
      expect(shape(parseXml(doc))).toEqual(t);
    }), { numRuns: 300 });
  });

  it('decodes numeric character references to the same code points', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0x20, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff), { maxLength: 8 }), fc.boolean(), (cps, hex) => {
      const refs = cps.map((c) => (hex ? `&#x${c.toString(16)};` : `&#${c};`)).join('');
      expect(parseXml(`<a>${refs}</a>`).text).toBe(String.fromCodePoint(...cps));
    }));
  });

  it('on any input, either parses or throws XmlError with code E_XML_INVALID', () => {
    const junk = fc.string({ unit: fc.oneof(fc.constantFrom('<', '>', '/', '!', '?', '[', ']', '-', '&', ';', '#', 'x', '"', '=', ' ', 'a', 'CDATA'), anyChar), maxLength: 60 });
    fc.assert(fc.property(fc.oneof(junk, tree.map((t) => write(t, false)).chain((s) => fc.nat(s.length).map((n) => s.slice(0, n)))), (src) => {
      try {
        parseXml(src);
      } catch (e) {
        expect(e).toBeInstanceOf(XmlError);
        expect((e as XmlError).code).toBe('E_XML_INVALID');
      }
    }), { numRuns: 1000 });
  });

  it('never exceeds its node and depth budgets: a document over them is refused, one within them is read', () => {
    fc.assert(fc.property(tree, fc.integer({ min: 1, max: 40 }), (t, maxNodes) => {
      const doc = write(t, false);
      if (count(t) <= maxNodes) expect(() => parseXml(doc, { maxNodes })).not.toThrow();
      else expect(() => parseXml(doc, { maxNodes })).toThrow(/too many elements/);
    }));
  });
});
