/**
 * Cross-provider fallback: the targets of a route are tried in order until one starts the
 * answer. A target that fails before its first part (rate limited, 5xx, a timeout before the
 * first token, no usable account, its CLI missing or not logged in) hands over to the next;
 * once a part has come, or anything has gone to the client, its errors are the answer's.
 */
import { CligateError, toCligateError } from '../core/errors.js';
import type { StreamPart } from '../core/stream.js';
import type { Route } from './router.js';

/** one target that was tried, as x-cligate-attempts and the request log show it */
export interface Attempt {
  target: string;
  /** the HTTP status of its failure; absent for the target that served */
  status?: number;
  code?: string;
}

/** the client's own mistakes and the server's stop fail the same everywhere: no point trying elsewhere */
const FINAL_CODES = new Set(['invalid_api_key', 'invalid_internal_api_key', 'shutting_down', 'client_closed_request']);

/** true when another provider might serve what this one could not start */
export function mayTryNext(err: CligateError): boolean {
  if (FINAL_CODES.has(err.code)) return false;
  // 401/403 here are the provider's own credentials (a CLI not logged in, an account rejected)
  return err.status === 429 || err.status >= 500 || err.status === 401 || err.status === 403;
}

/**
 * When every target failed, the answer is the first one's failure (the provider the name was
 * meant for: its Retry-After, its reason), saying what else was tried.
 */
function alsoTried(primary: CligateError, tried: string[]): CligateError {
  const message = `${primary.message} (tried in turn: ${tried.join('; ')})`;
  return new CligateError(primary.kind, primary.status, message, {
    code: primary.code,
    ...(primary.param !== undefined ? { param: primary.param } : {}),
    ...(primary.retryAfter !== undefined ? { retryAfter: primary.retryAfter } : {}),
    cause: primary,
  });
}

export interface FallbackHooks {
  /** false once anything has been written to the client: from then on the current target is the answer */
  mayFallBack(): boolean;
  /** a target is about to be tried (headers name it) */
  onTry(route: Route): void;
  /** a target could not start the answer; `next` says whether another is tried */
  onFail(route: Route, err: CligateError, next: boolean): void;
}

/**
 * The parts of the first target that starts. `start` may throw before it returns a stream (a
 * refused hosted tool, a per-request account) and that counts as not starting.
 */
export function firstToStart(targets: readonly Route[], start: (route: Route) => Promise<AsyncIterable<StreamPart>>, hooks: FallbackHooks): AsyncIterable<StreamPart> {
  return targets.length === 1 ? lone(targets[0]!, start, hooks) : inTurn(targets, start, hooks);
}

/**
 * One target, nothing to fall back to: its own parts, the iterator handed over as it is once
 * started (no generator layer between the provider and the client, a promise less per part).
 */
function lone(route: Route, start: (route: Route) => Promise<AsyncIterable<StreamPart>>, hooks: FallbackHooks): AsyncIterable<StreamPart> {
  let it: AsyncIterator<StreamPart> | undefined;
  let stopped = false;
  const begin = async (): Promise<IteratorResult<StreamPart>> => {
    hooks.onTry(route);
    let first: IteratorResult<StreamPart>;
    try {
      const started = (await start(route))[Symbol.asyncIterator]();
      // keepalives before the first part are not the answer's start (as inTurn has it)
      do first = await started.next();
      while (!first.done && first.value.type === 'keepalive');
      it = started;
    } catch (e) {
      const err = toCligateError(e);
      hooks.onFail(route, err, false);
      throw err;
    }
    // stopped while it started: the target is told, as a generator's early stop would tell it
    if (stopped) {
      await it.return?.();
      return { done: true, value: undefined };
    }
    return first;
  };
  const iterator: AsyncIterator<StreamPart> = {
    next: () => (it ? it.next() : begin()),
    return: async () => {
      stopped = true;
      return (await it?.return?.()) ?? { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

async function* inTurn(
  targets: readonly Route[],
  start: (route: Route) => Promise<AsyncIterable<StreamPart>>,
  hooks: FallbackHooks,
): AsyncGenerator<StreamPart> {
  let primary: CligateError | undefined;
  const tried: string[] = [];
  for (let i = 0; i < targets.length; i++) {
    const route = targets[i]!;
    const last = i === targets.length - 1;
    hooks.onTry(route);
    let it: AsyncIterator<StreamPart> | undefined;
    let first: IteratorResult<StreamPart>;
    try {
      it = (await start(route))[Symbol.asyncIterator]();
      // keepalives say the target is alive, not that the answer has started
      do first = await it.next();
      while (!first.done && first.value.type === 'keepalive');
    } catch (e) {
      const err = toCligateError(e);
      const next = !last && mayTryNext(err) && hooks.mayFallBack();
      hooks.onFail(route, err, next);
      if (!next) throw primary && mayTryNext(err) ? alsoTried(primary, [...tried, `${route.target}: ${err.status} ${err.code}`]) : err;
      primary ??= err;
      tried.push(`${route.target}: ${err.status} ${err.code}`);
      await it?.return?.().catch(() => undefined);
      continue;
    }
    if (first.done) return;
    yield first.value;
    // the rest of this target's answer, whatever happens (an early stop reaches the target too)
    const rest = it;
    yield* { [Symbol.asyncIterator]: () => rest };
    return;
  }
}
