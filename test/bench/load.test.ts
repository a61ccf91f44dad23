// The benches' own parsing and checks: wrk's report read into figures (reports captured from wrk 4.1.0, Debian
// package, against a local node:http server; in the second, a socket-errors line and a percentile in seconds were
// put in as wrk's src/wrk.c prints them) and the rule that a figure which is not a number stops a bench.
import { describe, expect, it } from 'vitest';
import { BenchError, figure } from '../../bench/lib/check.js';
import { parseWrk } from '../../bench/lib/load.js';

const OK = `Running 1s test @ http://127.0.0.1:18999/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.83ms   18.17ms  95.80ms   89.53%
    Req/Sec     8.36k     9.08k   26.63k    80.00%
  Latency Distribution
     50%  516.00us
     75%    3.33ms
     90%   27.88ms
     99%   85.39ms
  8355 requests in 1.01s, 1.14MB read
Requests/sec:   8246.62
Transfer/sec:      1.12MB
`;

const NON_2XX = `Running 1s test @ http://127.0.0.1:18999/bad
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    13.79ms   37.10ms 197.93ms   91.14%
    Req/Sec    11.18k     9.70k   24.39k    70.00%
  Latency Distribution
     50%  403.00us
     75%    3.47ms
     90%   37.55ms
     99%     1.20s
  11401 requests in 1.11s, 1.76MB read
  Socket errors: connect 0, read 2, write 0, timeout 7
  Non-2xx or 3xx responses: 11401
Requests/sec:  10291.95
Transfer/sec:      1.59MB
`;

describe('parseWrk', () => {
  it('reads rate, percentiles in ms (from us, ms and s), request count', () => {
    expect(parseWrk(OK)).toEqual({ rps: 8246.62, p50: 0.516, p99: 85.39, requests: 8355, errors: 0, non2xx: 0 });
  });

  it('counts socket errors and non-2xx answers', () => {
    const r = parseWrk(NON_2XX);
    expect(r.p99).toBe(1200);
    expect(r.errors).toBe(9);
    expect(r.non2xx).toBe(11401);
  });

  it('gives NaN figures for a run that could not connect, which figure() then refuses', () => {
    const r = parseWrk('unable to connect to 127.0.0.1:18998 Connection refused\n');
    expect(Number.isNaN(r.rps)).toBe(true);
    expect(() => figure('usher req/s', r.rps)).toThrow(BenchError);
    expect(() => figure('usher req/s', r.rps)).toThrow(/usher req\/s: got NaN/);
  });
});

describe('figure', () => {
  it('passes a finite number in range through and refuses the rest, naming the figure', () => {
    expect(figure('x', 0)).toBe(0);
    expect(figure('x', -2, -Infinity)).toBe(-2);
    expect(() => figure('cpu', -0.1)).toThrow(/could not measure cpu: got -0.1 \(expected a number ≥ 0\)/);
    expect(() => figure('ratio', Infinity)).toThrow(BenchError);
    expect(() => figure('mbps', 0, Number.MIN_VALUE)).toThrow(/mbps/);
  });
});
