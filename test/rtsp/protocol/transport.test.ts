import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatTransport,
  parseTransportHeader,
  parseTransportSpec,
  pickTransport,
  type TransportSpec,
} from '../../../src/rtsp/protocol/index.js';

function spec(text: string): TransportSpec {
  const r = parseTransportSpec(text);
  if (!r.ok) throw new Error(r.message);
  return r.spec;
}

describe('Transport header', () => {
  it("parses ffmpeg's TCP publish transport", () => {
    expect(spec('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record')).toEqual({
      profile: 'RTP/AVP',
      lowerTransport: 'TCP',
      delivery: 'unicast',
      interleaved: [0, 1],
      mode: 'record',
    });
  });

  it("parses ffmpeg's UDP publish transport", () => {
    expect(spec('RTP/AVP/UDP;unicast;client_port=5000-5001;mode=record')).toEqual({
      profile: 'RTP/AVP',
      lowerTransport: 'UDP',
      delivery: 'unicast',
      clientPort: [5000, 5001],
      mode: 'record',
    });
  });

  it("parses live555's play transport (UDP implied, no mode)", () => {
    expect(spec('RTP/AVP;unicast;client_port=54090-54091')).toEqual({
      profile: 'RTP/AVP',
      lowerTransport: 'UDP',
      delivery: 'unicast',
      clientPort: [54090, 54091],
    });
  });

  it('is case-insensitive and accepts quoted modes, single ports and unknown parameters', () => {
    expect(spec('rtp/avp/tcp;Unicast;Interleaved=4;MODE="PLAY";append;rtcp-mux')).toEqual({
      profile: 'RTP/AVP',
      lowerTransport: 'TCP',
      delivery: 'unicast',
      interleaved: [4, 5],
      mode: 'play',
    });
    expect(spec('RTP/AVP;mode=receive').mode).toBe('record');
  });

  it('reads server-side parameters', () => {
    expect(spec('RTP/AVP;multicast;destination=239.1.2.3;source=10.0.0.1;port=6000-6001;ttl=16;ssrc=1A2B3C4D;server_port=7000-7001')).toEqual({
      profile: 'RTP/AVP',
      lowerTransport: 'UDP',
      delivery: 'multicast',
      destination: '239.1.2.3',
      source: '10.0.0.1',
      port: [6000, 6001],
      ttl: 16,
      ssrc: 0x1a2b3c4d,
      serverPort: [7000, 7001],
    });
  });

  it.each([
    'RTP',
    'RTP/AVP/SCTP',
    'RTP/AVP;interleaved=0-256',
    'RTP/AVP;client_port=70000',
    'RTP/AVP;client_port=a-b',
    'RTP/AVP;mode=teardown',
    'RTP/AVP;ssrc=xyz',
    'RTP/AVP;ttl=300',
    'RTP/AVP;unicast=1',
    'RTP/AVP;destination="a b"',
    'RTP/AVP;source=',
  ])('refuses %s', (text) => {
    expect(parseTransportSpec(text).ok).toBe(false);
  });

  it('parses each spec of a list on its own', () => {
    const r = parseTransportHeader('RTP/AVP/SCTP;unicast, RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;mode="PLAY"');
    expect(r.map((x) => x.ok)).toEqual([false, true, true]);
  });

  it('picks the first acceptable spec', () => {
    const header = 'RTP/AVP;multicast,RTP/SAVP;unicast;client_port=1-2,RTP/AVP/TCP;unicast;interleaved=2-3,RTP/AVP;unicast;client_port=5000-5001';
    expect(pickTransport(header)).toMatchObject({ lowerTransport: 'TCP', interleaved: [2, 3] });
    expect(pickTransport(header, { tcp: false })).toMatchObject({ lowerTransport: 'UDP', clientPort: [5000, 5001] });
    expect(pickTransport(header, { tcp: false, udp: false })).toBeUndefined();
    expect(pickTransport(header, { multicast: true })).toMatchObject({ delivery: 'multicast' });
  });

  it('requires client ports for UDP unicast and filters by mode when asked', () => {
    expect(pickTransport('RTP/AVP;unicast')).toBeUndefined();
    expect(pickTransport('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record', { mode: 'play' })).toBeUndefined();
    expect(pickTransport('RTP/AVP/TCP;unicast;interleaved=0-1', { mode: 'play' })).toBeDefined();
    expect(pickTransport('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record', { mode: 'record' })).toBeDefined();
  });

  it('formats replies the way clients expect', () => {
    expect(formatTransport({ profile: 'RTP/AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [0, 1], mode: 'record' })).toBe(
      'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
    );
    expect(
      formatTransport({ profile: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [5000, 5001], serverPort: [8000, 8001], ssrc: 0xbeef }),
    ).toBe('RTP/AVP;unicast;client_port=5000-5001;server_port=8000-8001;ssrc=0000BEEF');
  });

  const rangeArb = (max: number): fc.Arbitrary<[number, number]> =>
    fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max }));
  const specArb: fc.Arbitrary<TransportSpec> = fc
    .record(
      {
        profile: fc.constantFrom('RTP/AVP', 'RTP/AVPF', 'RTP/SAVP'),
        lowerTransport: fc.constantFrom('UDP' as const, 'TCP' as const),
        delivery: fc.constantFrom('unicast' as const, 'multicast' as const),
        interleaved: rangeArb(255),
        clientPort: rangeArb(65535),
        serverPort: rangeArb(65535),
        port: rangeArb(65535),
        mode: fc.constantFrom('play' as const, 'record' as const),
        ssrc: fc.integer({ min: 0, max: 0xffffffff }),
        destination: fc.stringMatching(/^[a-z0-9.:-]{1,40}$/),
        source: fc.ipV4(),
        ttl: fc.integer({ min: 0, max: 255 }),
      },
      { requiredKeys: ['profile', 'lowerTransport'] },
    );

  it('round-trips format → parse', () => {
    fc.assert(
      fc.property(specArb, (s) => {
        expect(parseTransportSpec(formatTransport(s))).toEqual({ ok: true, spec: s });
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const all = parseTransportHeader(s);
        expect(all.length).toBeLessThanOrEqual(16);
        const picked = pickTransport(s);
        if (picked) expect(['RTP/AVP', 'RTP/AVPF']).toContain(picked.profile);
      }),
      { numRuns: 1000 },
    );
  });
});
