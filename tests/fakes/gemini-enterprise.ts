/**
 * A fake Gemini Enterprise (business Gemini) on 127.0.0.1 speaking its wire format:
 * /auth/getoxsrf (cookies in, ")]}'"-prefixed key out), HS256 JWT verification on every
 * widget call (a wrongly signed, expired or foreign JWT is a 401), widgetCreateSession,
 * widgetStreamAssist streamed as one JSON array in pieces, generated images in each of
 * their forms, widgetListSessionFileMetadata and :downloadFile. Scripts per account
 * give 401 / 429 answers. The JWT check is written here from the protocol, not shared
 * with cligate's code.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { startFakeServer, sendJson, sleep, type FakeServer } from './http.js';

export interface FakeEnterpriseAccount {
  csesidx: string;
  secure_c_ses: string;
  host_c_oses: string;
  team_id: string;
}

export type ImageForm = 'generatedImages' | 'inlineData' | 'attachment' | 'file' | 'file-base64-text';

export interface FakeEnterpriseScript {
  /** default: "Echo: <first 40 chars of the query>" */
  reply?: string | ((query: string, body: any) => string);
  thought?: string;
  /** answer with these images too */
  images?: ImageForm[];
  /** per csesidx: fail getoxsrf with this status */
  oxsrfStatus?: Record<string, number>;
  /** per csesidx: fail widgetStreamAssist with this status (429 adds retry-after) */
  streamStatus?: Record<string, number>;
  retryAfter?: number;
  /** delay between streamed pieces */
  chunkDelayMs?: number;
  /** per csesidx: accept widgetStreamAssist and never answer */
  stall?: string[];
}

export interface FakeEnterprise extends FakeServer {
  png: Buffer;
  calls: { path: string; csesidx?: string; body?: any }[];
  sessions: Map<string, string>;
  setScript(s: FakeEnterpriseScript): void;
  count(path: string, csesidx?: string): number;
}

const b64url = (b: Buffer) => b.toString('base64url');

export async function startFakeEnterprise(accounts: FakeEnterpriseAccount[], png: Buffer): Promise<FakeEnterprise> {
  let script: FakeEnterpriseScript = {};
  const keys = new Map<string, { keyId: string; key: Buffer; csesidx: string }>();
  const calls: FakeEnterprise['calls'] = [];
  const sessions = new Map<string, string>(); // session path -> csesidx
  const files = new Map<string, Buffer>();

  /** the csesidx a valid JWT speaks for, or an error */
  function verify(auth: string | undefined): { csesidx: string } | { error: string } {
    const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(auth ?? '');
    if (!m) return { error: 'no bearer JWT' };
    const [, h, p, sig] = m;
    let header: any, payload: any;
    try {
      header = JSON.parse(Buffer.from(h!, 'base64url').toString('latin1'));
      payload = JSON.parse(Buffer.from(p!, 'base64url').toString('latin1'));
    } catch {
      return { error: 'JWT is not JSON' };
    }
    const k = keys.get(header.kid);
    if (header.alg !== 'HS256' || !k) return { error: 'unknown key id' };
    const want = createHmac('sha256', k.key).update(`${h}.${p}`).digest();
    const got = Buffer.from(sig!, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { error: 'bad signature' };
    const now = Math.floor(Date.now() / 1000);
    if (payload.iss !== 'https://business.gemini.google' || payload.aud !== 'https://biz-discoveryengine.googleapis.com') return { error: 'bad iss/aud' };
    if (payload.sub !== `csesidx/${k.csesidx}`) return { error: 'sub does not match the key' };
    if (!(payload.exp > now && payload.nbf <= now + 5 && payload.exp - payload.iat === 300)) return { error: 'expired or bad times' };
    return { csesidx: k.csesidx };
  }

  const reject = (res: import('node:http').ServerResponse, why: string) =>
    sendJson(res, 401, { error: { code: 401, message: `Request had invalid authentication credentials: ${why}`, status: 'UNAUTHENTICATED' } });

  const server = await startFakeServer(async ({ req, res, path, body }) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (path === '/auth/getoxsrf') {
      const csesidx = url.searchParams.get('csesidx') ?? '';
      calls.push({ path, csesidx });
      const acc = accounts.find((a) => a.csesidx === csesidx);
      const cookie = req.headers.cookie ?? '';
      if (script.oxsrfStatus?.[csesidx]) return void res.writeHead(script.oxsrfStatus[csesidx]!).end('denied');
      if (!acc || !cookie.includes(`__Secure-C_SES=${acc.secure_c_ses}`) || !cookie.includes(`__Host-C_OSES=${acc.host_c_oses}`)) {
        return void res.writeHead(401).end('not signed in');
      }
      const keyId = randomBytes(8).toString('hex');
      const key = randomBytes(32);
      keys.set(keyId, { keyId, key, csesidx });
      res.writeHead(200, { 'content-type': 'application/json' });
      // the token without its base64 padding, as Google sends it
      return void res.end(`)]}'\n${JSON.stringify({ xsrfToken: b64url(key), keyId })}`);
    }

    const who = verify(req.headers.authorization);
    if ('error' in who) {
      calls.push({ path, body });
      return reject(res, who.error);
    }
    calls.push({ path, csesidx: who.csesidx, body });
    const acc = accounts.find((a) => a.csesidx === who.csesidx)!;

    if (path.endsWith('/widgetCreateSession')) {
      if (body?.configId !== acc.team_id) return sendJson(res, 404, { error: { code: 404, message: 'config not found', status: 'NOT_FOUND' } });
      const name = body.createSessionRequest?.session?.name;
      if (!/^[0-9a-f]{12}$/.test(name)) return sendJson(res, 400, { error: { code: 400, message: 'bad session name', status: 'INVALID_ARGUMENT' } });
      const full = `collections/default_collection/engines/agentspace-engine/sessions/${name}`;
      sessions.set(full, who.csesidx);
      return sendJson(res, 200, { session: { name: full, displayName: name } });
    }

    if (path.endsWith('/widgetStreamAssist')) {
      if (script.stall?.includes(who.csesidx)) return; // the socket stays open, nothing is sent
      const status = script.streamStatus?.[who.csesidx];
      if (status) {
        return sendJson(res, status, { error: { code: status, message: status === 429 ? 'Resource exhausted' : 'failed', status: status === 429 ? 'RESOURCE_EXHAUSTED' : 'INTERNAL' } }, status === 429 && script.retryAfter ? { 'retry-after': String(script.retryAfter) } : {});
      }
      const sar = body?.streamAssistRequest;
      if (body?.configId !== acc.team_id || sessions.get(sar?.session) !== who.csesidx) return sendJson(res, 404, { error: { code: 404, message: 'session not found', status: 'NOT_FOUND' } });
      const query: string = (sar.query?.parts ?? []).map((p: any) => p.text ?? '').join('');
      const text = typeof script.reply === 'function' ? script.reply(query, body) : (script.reply ?? `Echo: ${query.slice(0, 40)}`);
      const session = sar.session;
      const el = (answer: any) => ({ streamAssistResponse: { answer: { state: 'IN_PROGRESS', ...answer }, sessionInfo: { session } } });
      const elements: any[] = [{ streamAssistResponse: { sessionInfo: { session } } }];
      if (script.thought) elements.push(el({ replies: [{ groundedContent: { content: { role: 'model', text: script.thought, thought: true } } }] }));
      for (const piece of text.match(/\S+\s*/g) ?? [text]) elements.push(el({ replies: [{ groundedContent: { content: { role: 'model', text: piece } } }] }));
      const b64 = png.toString('base64');
      for (const form of script.images ?? []) {
        if (form === 'generatedImages') elements.push(el({ generatedImages: [{ image: { bytesBase64Encoded: b64, mimeType: 'image/png' } }] }));
        if (form === 'inlineData') elements.push(el({ replies: [{ groundedContent: { content: { inlineData: { mimeType: 'image/png', data: b64 } } } }] }));
        if (form === 'attachment') elements.push(el({ replies: [{ attachments: [{ mimeType: 'image/png', data: b64, name: 'a.png' }] }] }));
        if (form === 'file' || form === 'file-base64-text') {
          const fileId = randomBytes(6).toString('hex');
          files.set(fileId, form === 'file' ? png : Buffer.from(b64));
          elements.push(el({ replies: [{ groundedContent: { content: { file: { fileId, mimeType: 'image/png', name: `${fileId}.png` } } } }] }));
        }
      }
      elements.push({ streamAssistResponse: { answer: { state: 'SUCCEEDED' }, sessionInfo: { session } } });
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      // one JSON array, cut at arbitrary places (inside strings too)
      const whole = `[${elements.map((e) => JSON.stringify(e)).join(',\r\n')}]`;
      for (let i = 0; i < whole.length; i += 37) {
        res.write(whole.slice(i, i + 37));
        if (script.chunkDelayMs) await sleep(script.chunkDelayMs);
      }
      return void res.end();
    }

    if (path.endsWith('/widgetListSessionFileMetadata')) {
      const name = body?.listSessionFileMetadataRequest?.name;
      return sendJson(res, 200, { listSessionFileMetadataResponse: { fileMetadata: [...files.keys()].map((fileId) => ({ fileId, name: `${fileId}.png`, session: name })) } });
    }

    const dl = /^\/v1alpha\/(.+):downloadFile$/.exec(path);
    if (dl) {
      const data = files.get(url.searchParams.get('fileId') ?? '');
      if (!data || sessions.get(dl[1]!) !== who.csesidx || url.searchParams.get('alt') !== 'media') return sendJson(res, 404, { error: { code: 404, message: 'no such file' } });
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return void res.end(data);
    }
    sendJson(res, 404, { error: { code: 404, message: `no route ${path}` } });
  });

  return {
    ...server,
    png,
    calls,
    sessions,
    setScript(s) {
      script = s;
    },
    count(path, csesidx) {
      return calls.filter((c) => c.path.endsWith(path) && (csesidx === undefined || c.csesidx === csesidx)).length;
    },
  };
}
