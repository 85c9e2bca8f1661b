/**
 * A fake Kiro / Amazon Q Developer backend on 127.0.0.1: the social refresh endpoint
 * and the AWS SSO OIDC token endpoint, generateAssistantResponse on both the
 * CodeWhisperer and the Amazon Q host (the primary can be made to fail), answers as a
 * real AWS binary event stream (framed with @smithy's codec, sent in odd-sized pieces),
 * getUsageLimits, and scripted 403/429 per account.
 *
 * URL templates for cligate: social `${url}/social/{region}/refreshToken`,
 * oidc `${url}/oidc/{region}/token`, api `${url}/cw/{region}`, q `${url}/q/{region}`.
 */
import { randomBytes } from 'node:crypto';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { startFakeServer, sendJson, sleep, type FakeServer } from './http.js';

export interface FakeKiroAccount {
  refresh_token: string;
  auth_method: 'social' | 'builder-id' | 'idc';
  client_id?: string;
  client_secret?: string;
  /** issue a new refresh token on each refresh (Kiro social logins do) */
  rotate?: boolean;
}

export interface FakeKiroScript {
  /** answer text; default "Kiro says: <first 30 chars of the current message>" */
  reply?: string;
  thinking?: string;
  toolCalls?: { name: string; input: Record<string, unknown> }[];
  contextUsagePercentage?: number;
  /** the CodeWhisperer host answers 503 */
  primaryDown?: boolean;
  /** per refresh token (as first configured): generateAssistantResponse status */
  status?: Record<string, number>;
  retryAfter?: number;
  /** token lifetime in seconds */
  expiresIn?: number;
  refreshDelayMs?: number;
}

export interface FakeKiro extends FakeServer {
  templates: { social: string; oidc: string; api: string; q: string };
  calls: { path: string; account?: string; body?: any; headers?: Record<string, unknown> }[];
  setScript(s: FakeKiroScript): void;
  count(pathEnd: string, account?: string): number;
  /** the current refresh token of an account (after rotations) */
  refreshTokenOf(original: string): string;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
function frame(type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':message-type': { type: 'string', value: 'event' },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

export async function startFakeKiro(accounts: FakeKiroAccount[]): Promise<FakeKiro> {
  let script: FakeKiroScript = {};
  const calls: FakeKiro['calls'] = [];
  const current = new Map(accounts.map((a) => [a.refresh_token, a.refresh_token])); // original -> current refresh token
  const access = new Map<string, string>(); // access token -> original refresh token

  const byRefresh = (rt: string) => [...current.entries()].find(([, cur]) => cur === rt)?.[0];
  const issue = (original: string, res: import('node:http').ServerResponse, snake = false) => {
    const a = accounts.find((x) => x.refresh_token === original)!;
    const token = `at-${randomBytes(8).toString('hex')}`;
    access.set(token, original);
    let refresh = current.get(original)!;
    if (a.rotate) {
      refresh = `${original}~${randomBytes(4).toString('hex')}`;
      current.set(original, refresh);
    }
    const expiresIn = script.expiresIn ?? 3600;
    sendJson(res, 200, snake ? { access_token: token, refresh_token: refresh, expires_in: expiresIn } : { accessToken: token, refreshToken: refresh, expiresIn, profileArn: `arn:aws:codewhisperer:us-east-1:000000000000:profile/${original.slice(0, 6)}` });
  };

  const server = await startFakeServer(async ({ req, res, path, body }) => {
    let m = /^\/social\/([\w-]+)\/refreshToken$/.exec(path);
    if (m && req.method === 'POST') {
      const original = byRefresh(body?.refreshToken ?? '');
      calls.push({ path, account: original, body });
      if (script.refreshDelayMs) await sleep(script.refreshDelayMs);
      const a = original && accounts.find((x) => x.refresh_token === original);
      if (!a || a.auth_method !== 'social') return sendJson(res, 401, { message: 'Invalid refresh token' });
      return issue(original!, res);
    }
    m = /^\/oidc\/([\w-]+)\/token$/.exec(path);
    if (m && req.method === 'POST') {
      const original = byRefresh(body?.refreshToken ?? '');
      calls.push({ path, account: original, body });
      if (script.refreshDelayMs) await sleep(script.refreshDelayMs);
      const a = original && accounts.find((x) => x.refresh_token === original);
      if (!a || a.auth_method === 'social' || body.grantType !== 'refresh_token' || body.clientId !== a.client_id || body.clientSecret !== a.client_secret) {
        return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Invalid refresh token or client' });
      }
      return issue(original!, res, true);
    }
    m = /^\/(cw|q)\/([\w-]+)\/(generateAssistantResponse|getUsageLimits)$/.exec(path);
    if (!m) return sendJson(res, 404, { message: `no route ${path}` });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const original = access.get(token);
    calls.push({ path, account: original, body, headers: req.headers });
    if (!original) return sendJson(res, 403, { message: 'The bearer token included in the request is invalid.' });
    if (m[3] === 'getUsageLimits') {
      return sendJson(res, 200, { usageBreakdownList: [{ resourceType: 'AGENTIC_REQUEST', currentUsage: 12, usageLimit: 50, nextDateReset: 1_800_000_000 }] });
    }
    if (m[1] === 'cw' && script.primaryDown) return sendJson(res, 503, { message: 'Service unavailable' });
    const status = script.status?.[original];
    if (status) return sendJson(res, status, { message: status === 429 ? 'Too many requests' : 'denied' }, status === 429 && script.retryAfter ? { 'retry-after': String(script.retryAfter) } : {});
    const cur = body?.conversationState?.currentMessage?.userInputMessage;
    if (!cur?.modelId || typeof cur.content !== 'string' || !cur.content) return sendJson(res, 400, { message: 'Improperly formed request.' });
    // faults a request asks for: [[kiro:429]], [[kiro:500]], [[kiro:stall]] (nothing, ever), [[kiro:cut]] (half an answer, then the socket closes)
    const fault = /\[\[kiro:(\w+)\]\]/.exec(cur.content)?.[1];
    if (fault === '429' || fault === '500') return sendJson(res, Number(fault), { message: fault === '429' ? 'Too many requests' : 'Internal failure' });
    if (fault === 'stall') return void req.socket.setTimeout(0);

    const frames: Uint8Array[] = [];
    const text = script.reply ?? `Kiro says: ${cur.content.slice(0, 30)}`;
    const thinking = script.thinking && cur.content.includes('<thinking_mode>enabled</thinking_mode>') ? `<thinking>${script.thinking}</thinking>\n\n` : '';
    for (const piece of `${thinking}${text}`.match(/[\s\S]{1,7}/g) ?? []) frames.push(frame('assistantResponseEvent', { content: piece }));
    for (const call of script.toolCalls ?? []) {
      const id = `tooluse_${randomBytes(6).toString('hex')}`;
      const input = JSON.stringify(call.input);
      frames.push(frame('toolUseEvent', { name: call.name, toolUseId: id, input: '' }));
      for (const piece of input.match(/[\s\S]{1,5}/g) ?? []) frames.push(frame('toolUseEvent', { name: call.name, toolUseId: id, input: piece }));
      frames.push(frame('toolUseEvent', { name: call.name, toolUseId: id, stop: true }));
    }
    frames.push(frame('meteringEvent', { unit: 'credit', usage: 0.01 }));
    frames.push(frame('contextUsageEvent', { contextUsagePercentage: script.contextUsagePercentage ?? 1.5 }));
    const all = Buffer.concat(frames);
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
    if (fault === 'cut') {
      res.write(all.subarray(0, Math.floor(all.length / 2)));
      await sleep(5);
      return void res.destroy();
    }
    for (let i = 0; i < all.length; i += 23) {
      res.write(all.subarray(i, i + 23));
      await sleep(0);
    }
    res.end();
  });

  return {
    ...server,
    templates: { social: `${server.url}/social/{region}/refreshToken`, oidc: `${server.url}/oidc/{region}/token`, api: `${server.url}/cw/{region}`, q: `${server.url}/q/{region}` },
    calls,
    setScript(s) {
      script = s;
    },
    count(pathEnd, account) {
      return calls.filter((c) => c.path.endsWith(pathEnd) && (account === undefined || c.account === account)).length;
    },
    refreshTokenOf: (original) => current.get(original)!,
  };
}

/** the four endpoint variables that point cligate's Kiro provider at this fake */
export function kiroEnv(fake: Pick<FakeKiro, 'templates'>): Record<string, string> {
  return { KIRO_SOCIAL_REFRESH_URL: fake.templates.social, KIRO_OIDC_URL: fake.templates.oidc, KIRO_API_URL: fake.templates.api, KIRO_Q_URL: fake.templates.q };
}
