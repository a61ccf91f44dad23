declare module 'autocannon' {
  namespace autocannon {
    interface Options { [k: string]: unknown }
    interface Result {
      requests: { average: number; total: number };
      latency: { p50: number; p99: number; [k: string]: number };
      errors: number;
      timeouts: number;
      non2xx: number;
    }
  }
  function autocannon(opts: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}
