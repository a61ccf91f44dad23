/** The small XML reader used for rtmp_stat: correct on what nginx writes, bounded and inert on hostile input. */
import { describe, expect, it } from 'vitest';
import { parseStat } from '../../src/adapters/nginx-rtmp.js';
import { childText, parseXml, XmlError } from '../../src/adapters/xml.js';
import { FakeNginx } from '../fakes/nginx-rtmp.js';

describe('parseXml', () => {
  it('reads elements, self-closing tags, attributes, CDATA and entities', () => {
    const root = parseXml('<?xml version="1.0"?><!-- c --><a x="1 &amp; 2"><b>&lt;x&gt; &#65;&#x42;</b><c/><d><![CDATA[<raw>]]></d></a>');
    expect(root.name).toBe('a');
    expect(root.attrs.x).toBe('1 & 2');
    expect(childText(root, 'b')).toBe('<x> AB');
    expect(root.children.map((c) => c.name)).toEqual(['b', 'c', 'd']);
    expect(childText(root, 'd')).toBe('<raw>');
  });

  it('never expands DTD entities', () => {
    const root = parseXml('<!DOCTYPE r [<!ENTITY a "aaaaaaaa">]><r>&a;</r>');
    expect(root.text).toBe('&a;');
  });

  it('refuses broken documents and stops at its depth and node budgets', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(XmlError);
    expect(() => parseXml('<a>')).toThrow(XmlError);
    expect(() => parseXml('<a></a><b></b>')).toThrow(XmlError);
    expect(() => parseXml('<a>&#x110000;</a>')).toThrow(XmlError);
    expect(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100), { maxDepth: 64 })).toThrow(/too deep/);
    expect(() => parseXml(`<a>${'<b/>'.repeat(50)}</a>`, { maxNodes: 10 })).toThrow(/too many/);
  });
});

describe('parseStat', () => {
  it('lists every client with its stream, address and role; nginx relays (URL as address) are marked relay', () => {
    const fake = new FakeNginx();
    fake.clients = [
      { id: '3', app: 'live', name: 'a&b', address: '10.0.0.1', publishing: true },
      { id: '4', app: 'live', name: 'a&b', address: '10.0.0.2' },
      { id: '5', app: 'tv', name: 'one', address: '10.0.0.3' },
      // as real nginx 1.22 + module 1.2.2 lists a push relay: address = the push URL without its scheme
      { id: '6', app: 'tv', name: 'one', address: '127.0.0.1:1935/relay', flashver: 'ngx-local-relay' },
      // a client may send any flashver, but its address is its socket's: not a relay
      { id: '7', app: 'tv', name: 'one', address: '10.0.0.4', flashver: 'ngx-local-relay' },
    ];
    expect(parseStat(fake.stat())).toEqual([
      { clientId: '3', stream: 'live/a&b', action: 'publish', protocol: 'rtmp', ip: '10.0.0.1' },
      { clientId: '4', stream: 'live/a&b', action: 'play', protocol: 'rtmp', ip: '10.0.0.2' },
      { clientId: '5', stream: 'tv/one', action: 'play', protocol: 'rtmp', ip: '10.0.0.3' },
      { clientId: '6', stream: 'tv/one', action: 'play', protocol: 'rtmp', ip: '127.0.0.1', relay: true },
      { clientId: '7', stream: 'tv/one', action: 'play', protocol: 'rtmp', ip: '10.0.0.4' },
    ]);
  });

  it('reads a stat document with no clients', () => {
    expect(parseStat('<?xml version="1.0" encoding="utf-8" ?>\r\n<rtmp>\r\n<nginx_version>1.22.1</nginx_version>\r\n<server>\r\n<application>\r\n<name>live</name>\r\n<live>\r\n<nclients>0</nclients>\r\n</live>\r\n</application>\r\n</server>\r\n</rtmp>\r\n')).toEqual([]);
  });
});
