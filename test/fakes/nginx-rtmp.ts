/**
 * Fake nginx-rtmp HTTP side: `rtmp_control` drop (filters app/name/clientid like ngx_rtmp_control_module.c,
 * answers the count as text) and `rtmp_stat` (the XML shape of ngx_rtmp_stat_module.c).
 */
import { FakeHttp } from './fake-http.js';

export interface NginxClient {
  id: string;
  app: string;
  name: string;
  address: string;
  publishing?: boolean;
  flashver?: string;
}

export class FakeNginx extends FakeHttp {
  clients: NginxClient[] = [];

  constructor() {
    super((r) => {
      if (r.path === '/control/drop/client') {
        const app = r.query.get('app');
        const name = r.query.get('name');
        const id = r.query.get('clientid');
        const hit = this.clients.filter((c) => (app === null || c.app === app) && (name === null || c.name === name) && (id === null || c.id === id));
        this.clients = this.clients.filter((c) => !hit.includes(c));
        return { body: String(hit.length) };
      }
      if (r.path === '/stat') return { body: this.stat(), headers: { 'content-type': 'text/xml' } };
      return { status: 404, body: 'not found' };
    });
  }

  stat(): string {
    const apps = new Map<string, Map<string, NginxClient[]>>();
    for (const c of this.clients) {
      const streams = apps.get(c.app) ?? new Map<string, NginxClient[]>();
      apps.set(c.app, streams);
      streams.set(c.name, [...(streams.get(c.name) ?? []), c]);
    }
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    let x = '<?xml version="1.0" encoding="utf-8" ?>\r\n<?xml-stylesheet type="text/xsl" href="stat.xsl" ?>\r\n<rtmp>\r\n';
    x += '<nginx_version>1.22.1</nginx_version>\r\n<nginx_rtmp_version>1.1.4</nginx_rtmp_version>\r\n<uptime>12</uptime>\r\n';
    x += '<server>\r\n';
    for (const [app, streams] of apps) {
      x += `<application>\r\n<name>${esc(app)}</name>\r\n<live>\r\n`;
      for (const [name, list] of streams) {
        x += `<stream>\r\n<name>${esc(name)}</name>\r\n<time>1500</time><bw_in>0</bw_in>`;
        for (const c of list) {
          x += `<client><id>${c.id}</id><address>${esc(c.address)}</address><time>1400</time>`;
          x += `<flashver>${esc(c.flashver ?? 'FMLE/3.0 (compatible; Lavf59.27')}</flashver><dropped>0</dropped><avsync>0</avsync><timestamp>1200</timestamp>`;
          x += `${c.publishing ? '<publishing/>' : ''}<active/></client>\r\n`;
        }
        x += `<meta><video><width>320</width><height>240</height></video></meta>\r\n<nclients>${list.length}</nclients>\r\n<active/>\r\n</stream>\r\n`;
      }
      x += `<nclients>0</nclients>\r\n</live>\r\n</application>\r\n`;
    }
    x += '</server>\r\n</rtmp>\r\n';
    return x;
  }
}
