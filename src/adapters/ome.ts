/**
 * OvenMediaEngine AdmissionWebhooks (docs/access-control/admission-webhooks.md, admission_webhooks.cpp).
 * Each call is signed: `X-OME-Signature` = base64url(HMAC-SHA1(SecretKey, body)), no padding. OME needs HTTP 200
 * and `{"allowed": bool, "lifetime": ms (0 = infinite), "reason"}` for `opening`; `closing` needs only `{}`.
 *
 * OME has no per-session id in the hook and no API to list or drop one viewer (issue #1001): the connection id is
 * synthesised from protocol + address + port (the same on opening and closing), a kick cannot reach the client
 * (it ends by its `lifetime`, and the banned key refuses it at the next opening), and there is no sync.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ServerConfig } from '../config/schema.js';
import { normalizeStream } from '../core/identity.js';
import type { AdmissionRequest } from '../core/types.js';
import { UsherError } from '../errors.js';
import { denial, header, isObject, json, jsonObject, plainIp, str } from './hook-util.js';
import type { Adapter, AdapterHost, HookRequest, HookResponse, ServerControl } from './types.js';

export const omeAdapter: Adapter = {
  type: 'ome',

  async handle(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse> {
    if (server.secret && !signatureOk(server.secret, req.body, header(req, 'x-ome-signature'))) {
      return json(401, { allowed: false, reason: 'X-OME-Signature does not match the body' });
    }
    const b = jsonObject(req);
    const client = isObject(b.client) ? b.client : {};
    const request = isObject(b.request) ? b.request : {};
    const status = str(request.status);
    const protocol = str(request.protocol).toLowerCase();
    const address = plainIp(str(client.address));
    // LLHLS sends no closing (OME #845) and thumbnails are single HTTP fetches: a connection id would never be
    // released, so those are admitted without one and their session ends by the inactivity timeout.
    const tracked = protocol !== 'llhls' && protocol !== 'hls' && protocol !== 'thumbnail';
    const clientId = tracked && address ? `${protocol}:${address}:${str(client.port)}` : undefined;

    if (status === 'closing') {
      if (clientId) await host.connectionClosed(server.name, clientId);
      return json(200, {});
    }
    if (status !== 'opening') throw new UsherError('E_VALIDATION', `unknown OME request status "${status}"`, 'status');

    const direction = str(request.direction);
    if (direction !== 'incoming' && direction !== 'outgoing') throw new UsherError('E_VALIDATION', `unknown direction "${direction}"`, 'direction');
    const { stream, query } = splitUrl(str(request.url));
    const ask: AdmissionRequest = {
      server: server.name,
      protocol,
      action: direction === 'incoming' ? 'publish' : 'play',
      stream,
      // the socket address OME saw; `real_ip` comes from client-sent X-Real-IP/X-Forwarded-For and can be forged
      ip: address,
      query,
      clientId,
      userAgent: str(client.user_agent) || undefined,
    };
    // a thumbnail is a probe, not a viewer: checked, but not counted (sessions.unspecifiedMode)
    if (protocol === 'thumbnail') ask.kind = 'unspecified';
    const d = await host.admit(ask);
    if (!d.allow) return json(200, { allowed: false, reason: denial(d) });
    const lifetime = d.expiresAt ? Math.max(1, d.expiresAt - host.now()) : 0;
    return json(200, { allowed: true, lifetime });
  },

  control(): ServerControl {
    return {
      async kick(): Promise<void> {
        // Nothing to call: OME cannot drop one client. The registry bans the key, so the next opening is refused,
        // and a session admitted with a lifetime ends by itself. Resolving here records the kill as carried out.
      },
    };
  },
};

export function signatureOk(secret: string, body: Buffer, given: string): boolean {
  if (!given) return false;
  const want = createHmac('sha1', secret).update(body).digest();
  const got = Buffer.from(given.trim().replace(/=+$/, ''), 'base64url');
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * `scheme://host[:port]/app/stream[/file][?query]` → `app/stream` and the raw query. OME's app and stream are
 * single path segments; anything after them is a file or playlist (llhls.m3u8, thumb.jpg, a WebRTC ABR
 * playlist name) and not part of the stream's name.
 */
export function splitUrl(url: string): { stream: string; query: string } {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)(?:\?([^#]*))?/i.exec(url);
  let path = m ? m[1] : url.split('?')[0];
  let query = m ? (m[2] ?? '') : (url.split('?')[1] ?? '');
  // RTMP: OME's URL is the client's tcUrl + "/" + stream name, so connect-level args (OBS: server
  // rtmp://host/app?tkn=T, key stream) land between the two: `rtmp://host/app?tkn=T/stream[?more]`
  const slash = query.indexOf('/');
  if (slash >= 0 && path.split('/').filter((x) => x !== '').length < 2) {
    const tail = query.slice(slash + 1);
    const q = tail.indexOf('?');
    path += `/${q >= 0 ? tail.slice(0, q) : tail}`;
    query = [q >= 0 ? tail.slice(q + 1) : '', query.slice(0, slash)].filter((x) => x !== '').join('&');
  }
  const segs = path.split('/').filter((s) => s !== '');
  return { stream: normalizeStream(segs.slice(0, 2).join('/')), query };
}
