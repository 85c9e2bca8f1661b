/**
 * Prometheus metrics (prom-client), one registry per server so in-process test servers
 * never share counters. Request-level series are fed when a chat request closes; gauges
 * (queue, processes, sandboxes, account states) are read at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Provider } from '../core/provider.js';
import type { WorkerPool } from '../runtime/pool.js';
import type { WarmPool } from '../runtime/warm-pool.js';
import { liveProcessCount } from '../runtime/process.js';
import { liveSandboxes } from '../runtime/sandbox.js';

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** how often the event-loop delay metric samples (ms) */
export const EVENT_LOOP_SAMPLE_MS = 100;

export interface RequestObservation {
  dialect: string;
  provider: string;
  model: string;
  status: number;
  /** the caller's key name ("master" for API_KEY), when the gateway is keyed */
  key?: string;
  durationMs: number;
  firstTokenMs?: number;
  tokensIn: number;
  tokensOut: number;
  tokensCached: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'dialect' | 'provider' | 'model' | 'status'>;
  private readonly duration: Histogram<'dialect' | 'provider'>;
  private readonly ttft: Histogram<'dialect' | 'provider'>;
  private readonly tokens: Counter<'provider' | 'model' | 'kind'>;
  // per caller in series of their own: a key's name is bounded (admins make keys), and it does not multiply the model series
  private readonly keyRequests: Counter<'key' | 'status'>;
  private readonly keyTokens: Counter<'key' | 'kind'>;
  private readonly keyRefusals: Counter<'key' | 'code'>;
  private readonly queueWait: Histogram;
  private readonly refreshes: Counter<'provider' | 'result'>;
  private readonly failures: Counter<'provider' | 'outcome'>;

  /** providers are read at scrape time (they are built after the metrics they report to) */
  constructor(sources: { providers: () => readonly Provider[]; pool: WorkerPool; warm?: WarmPool }) {
    const registers = [this.registry];
    // the event-loop delay is sampled every EVENT_LOOP_SAMPLE_MS, not prom-client's 10 ms: a timer
    // that wakes an idle server 100 times a second (~1% of a core, the relay path's only timer)
    collectDefaultMetrics({ register: this.registry, prefix: 'cligate_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    this.requests = new Counter({ name: 'cligate_requests_total', help: 'Chat requests by dialect, provider, model and HTTP status (502 for a stream that failed after it opened, 499 when the client left)', labelNames: ['dialect', 'provider', 'model', 'status'], registers });
    this.duration = new Histogram({ name: 'cligate_request_duration_seconds', help: 'Chat request duration, start to last byte', labelNames: ['dialect', 'provider'], buckets: LATENCY_BUCKETS, registers });
    this.ttft = new Histogram({ name: 'cligate_time_to_first_token_seconds', help: 'Time from request start to the first answer part (text, reasoning or tool call)', labelNames: ['dialect', 'provider'], buckets: LATENCY_BUCKETS, registers });
    this.keyRequests = new Counter({ name: 'cligate_key_requests_total', help: 'Chat requests by client key name ("master" for API_KEY) and HTTP status', labelNames: ['key', 'status'], registers });
    this.keyTokens = new Counter({ name: 'cligate_key_tokens_total', help: 'Tokens by client key name and kind (input, output, cached)', labelNames: ['key', 'kind'], registers });
    this.keyRefusals = new Counter({ name: 'cligate_key_refusals_total', help: "Requests refused by a client key's own limits, by key name and code (key_requests_per_minute, key_tokens_per_day, key_concurrency)", labelNames: ['key', 'code'], registers });
    this.tokens = new Counter({ name: 'cligate_tokens_total', help: 'Tokens by provider, model and kind (input, output, cached)', labelNames: ['provider', 'model', 'kind'], registers });
    this.queueWait = new Histogram({ name: 'cligate_queue_wait_seconds', help: 'Time CLI requests waited for a worker', buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 30, 60], registers });
    this.refreshes = new Counter({ name: 'cligate_account_refreshes_total', help: 'Account token refreshes by provider and result', labelNames: ['provider', 'result'], registers });
    this.failures = new Counter({ name: 'cligate_account_failures_total', help: 'Failed account attempts by provider and outcome (auth: out of rotation, cool: resting, fatal: request error)', labelNames: ['provider', 'outcome'], registers });

    const { providers, pool, warm } = sources;
    if (warm) {
      new Gauge({ name: 'cligate_warm_processes', help: 'Warm CLI processes waiting for a request', registers, collect() { this.set(warm.stats().idle); } });
      new Gauge({ name: 'cligate_warm_hits', help: 'Requests served by a warm CLI process since start', registers, collect() { this.set(warm.stats().hits); } });
    }
    new Gauge({ name: 'cligate_queue_depth', help: 'CLI requests waiting for a worker', registers, collect() { this.set(pool.stats().waiting); } });
    new Gauge({ name: 'cligate_workers_busy', help: 'CLI workers running a request', registers, collect() { this.set(pool.stats().running); } });
    new Gauge({ name: 'cligate_workers', help: 'CLI worker slots (WORKER_CONCURRENCY)', registers, collect() { this.set(pool.stats().concurrency); } });
    new Gauge({ name: 'cligate_cli_processes', help: 'CLI processes running', registers, collect() { this.set(liveProcessCount()); } });
    new Gauge({ name: 'cligate_sandboxes', help: 'Sandbox directories alive', registers, collect() { this.set(liveSandboxes().length); } });
    new Gauge({
      name: 'cligate_accounts',
      help: 'Accounts by provider and state (available, cooling, dead: credentials rejected, disabled)',
      labelNames: ['provider', 'state'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const p of providers()) {
          if (!p.pool) continue;
          const counts = { available: 0, cooling: 0, dead: 0, disabled: 0 };
          for (const s of p.pool.status()) {
            if (!s.enabled) counts.disabled++;
            else if (s.health.unavailable) counts.dead++;
            else if ((s.health.coolUntil ?? 0) > now) counts.cooling++;
            else counts.available++;
          }
          for (const [state, n] of Object.entries(counts)) this.set({ provider: p.id, state }, n);
        }
      },
    });
  }

  /** several instances: 1 while Redis answers, 0 while this instance runs degraded on its own memory */
  sharedState(state: { health(): 'ok' | 'degraded' }): void {
    new Gauge({
      name: 'cligate_shared_state_up',
      help: 'Shared state (Redis) in use: 1, or 0 while Redis is unreachable and this instance answers from its own memory (REDIS_DEADLINE_MS)',
      registers: [this.registry],
      collect() {
        this.set(state.health() === 'ok' ? 1 : 0);
      },
    });
  }

  request(o: RequestObservation): void {
    this.requests.inc({ dialect: o.dialect, provider: o.provider, model: o.model, status: String(o.status) });
    this.duration.observe({ dialect: o.dialect, provider: o.provider }, o.durationMs / 1000);
    if (o.firstTokenMs !== undefined) this.ttft.observe({ dialect: o.dialect, provider: o.provider }, o.firstTokenMs / 1000);
    if (o.tokensIn) this.tokens.inc({ provider: o.provider, model: o.model, kind: 'input' }, o.tokensIn);
    if (o.tokensOut) this.tokens.inc({ provider: o.provider, model: o.model, kind: 'output' }, o.tokensOut);
    if (o.tokensCached) this.tokens.inc({ provider: o.provider, model: o.model, kind: 'cached' }, o.tokensCached);
    if (o.key === undefined) return;
    this.keyRequests.inc({ key: o.key, status: String(o.status) });
    if (o.tokensIn) this.keyTokens.inc({ key: o.key, kind: 'input' }, o.tokensIn);
    if (o.tokensOut) this.keyTokens.inc({ key: o.key, kind: 'output' }, o.tokensOut);
    if (o.tokensCached) this.keyTokens.inc({ key: o.key, kind: 'cached' }, o.tokensCached);
  }

  /** a request a client key's limit refused (it never reached a provider, so the request series do not see it) */
  keyRefused(key: string, code: string): void {
    this.keyRefusals.inc({ key, code });
  }

  queueWaited(ms: number): void {
    this.queueWait.observe(ms / 1000);
  }

  refreshed(provider: string, ok: boolean): void {
    this.refreshes.inc({ provider, result: ok ? 'ok' : 'error' });
  }

  accountFailed(provider: string, outcome: string): void {
    this.failures.inc({ provider, outcome });
  }
}
