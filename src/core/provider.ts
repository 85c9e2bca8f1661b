/**
 * The Provider contract. A provider turns a ChatRequest into StreamParts and never
 * sees HTTP or a dialect.
 */
import type { ChatRequest } from './request.js';
import type { StreamPart } from './stream.js';

export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface ProviderContext {
  /** aborted when the client goes away, the request times out, or the server drains */
  signal: AbortSignal;
  requestId: string;
  log: Logger;
  /** the origin the client reached us at (for links to /image/<file>) */
  publicUrl?: string;
  /** stateless gateway mode: the one account to use, sent with the request */
  account?: RequestAccount;
  /** account pools say which account serves the request (usage accounting, logs) */
  onAccount?: (id: string) => void;
}

/** an account that arrives with a request instead of from the store */
export interface RequestAccount {
  id: string;
  provider: string;
  enabled: boolean;
  weight: number;
  credentials: Record<string, string>;
}

export interface ModelInfo {
  id: string;
  provider: string;
  /** the name the provider passes upstream, if different from id */
  upstreamId?: string;
  description?: string;
}

export interface ProviderStatus {
  id: string;
  available: boolean;
  detail: Record<string, unknown>;
}

/** the state of one account of a pool, as the admin API and metrics show it */
export interface PoolAccountHealth {
  /** why the account is out of rotation (its credentials were rejected) */
  unavailable?: string;
  /** epoch ms until which the account rests (rate limit, failures) */
  coolUntil?: number;
  /** consecutive failures */
  failures: number;
  lastError?: string;
  lastUsed?: number;
  lastSuccess?: number;
  /** epoch ms of the last token refresh that worked, and the last one's error */
  lastRefresh?: number;
  lastRefreshError?: string;
}

export interface PoolAccountStatus {
  id: string;
  label?: string;
  enabled: boolean;
  weight: number;
  /** in rotation now: enabled, credentials not rejected, not cooling */
  usable: boolean;
  health: PoolAccountHealth;
}

export type AccountCheckResult = { ok: true; detail: string } | { ok: false; status: number; error: string };

/**
 * What the server side (admin API, metrics) sees of an API provider's account pool: the
 * accounts' rotation states, putting an account back in rotation, and a real credential
 * check. The pool itself (src/accounts) satisfies this structurally; selection, failover
 * and token refresh stay the provider's business. The accounts themselves (credentials,
 * labels) are read from the account store, not through the pool.
 */
export interface AccountPoolView {
  /** at least one account is enabled (a pool without one does not claim bare model names) */
  hasEnabled(): boolean;
  /** every account of the provider with its rotation state */
  status(): PoolAccountStatus[];
  /** back in rotation now (credentials edited, account re-enabled): rests and failures forgotten */
  restore(id: string): void;
  /**
   * an admin's credential check of one stored account: `work` talks to the upstream with it;
   * success puts it back in rotation, failure is recorded as a request's would be
   */
  check(id: string, work: (account: RequestAccount & { proxy?: string }) => Promise<string>, log: Logger): Promise<AccountCheckResult>;
}

export interface Provider {
  readonly id: string;
  models(): ModelInfo[];
  /** true when this provider serves the given public model name */
  handles(model: string): boolean;
  /** list a "-progress" variant of each model (providers whose streams can carry progress markers) */
  readonly progressVariants?: boolean;
  /** the provider calls the client's tools itself; otherwise features emulate them in the prompt */
  readonly nativeTools?: boolean;
  /** the provider can turn reasoning on (the router then strips a "-thinking" suffix) */
  readonly supportsThinking?: boolean;
  /** the provider enforces `responseFormat` upstream; otherwise features ask for it in the system prompt */
  readonly structuredOutput?: boolean;
  /** hosted tool types this provider runs itself (e.g. "web_search"); others are refused when a client declares them */
  readonly hostedTools?: readonly string[];
  stream(req: ChatRequest, ctx: ProviderContext): AsyncIterable<StreamPart>;
  /** stateless gateway mode: an account described by the request's headers, if any (needs INTERNAL_API_KEY) */
  accountFromHeaders?(headers: Record<string, string | string[] | undefined>): RequestAccount | undefined;
  status?(): Promise<ProviderStatus>;
  /** API providers: what the admin API and metrics see of the account pool behind them */
  readonly pool?: AccountPoolView;
  /** a real credential check of one account against the upstream (refresh a token, get a JWT); says what it got */
  testAccount?(account: RequestAccount & { proxy?: string }): Promise<string>;
  /** CLI providers: start warm processes for this model (requests without a system prompt) */
  prewarm?(model: string): void;
  /** stop accepting work and release everything (processes, sandboxes) */
  close?(): Promise<void>;
}
