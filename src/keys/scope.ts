/**
 * A client key's models: names or globs, checked after routing so aliases and routes count.
 * The name the client sent may match (a route or alias behind it is the admin's choice);
 * otherwise only the targets whose model (or provider/model) matches are tried, and with
 * none left the request is refused (403).
 */
import { Forbidden } from '../core/errors.js';
import { globTest, nameVariants } from '../routing/names.js';
import type { ClientKey } from './key.js';

const tests = new WeakMap<readonly string[], ((name: string) => boolean)[]>();

/** true when one of the patterns matches a spelling of the name */
export function allows(patterns: readonly string[], name: string): boolean {
  let t = tests.get(patterns);
  if (!t) tests.set(patterns, (t = patterns.map(globTest)));
  const spellings = nameVariants(name);
  return t.some((test) => spellings.some(test));
}

const notAllowed = (key: ClientKey, requested: string) =>
  new Forbidden(`API key '${key.name}' may not use model '${requested}'. It may use: ${key.models!.join(', ')}.`, { code: 'model_not_allowed', param: 'model' });

/** routes the name; a name outside the key's list that does not route is refused as not allowed (403), not as unknown: a key learns nothing about names it may not use */
export function planWithin<P>(key: ClientKey | undefined, requested: string, plan: () => P): P {
  try {
    return plan();
  } catch (err) {
    if (key?.models && !allows(key.models, requested)) throw notAllowed(key, requested);
    throw err;
  }
}

/** what a model list shows this key: the names it may use (a listed `provider/model` by either part) */
export function listedFor<M extends { id: string }>(key: ClientKey | undefined, models: M[]): M[] {
  const patterns = key?.models;
  if (!patterns) return models;
  return models.filter((m) => allows(patterns, m.id) || (m.id.includes('/') && allows(patterns, m.id.slice(m.id.indexOf('/') + 1))));
}

/** the targets this key may use for the requested name (all of them for a key without a model list) */
export function scopeTargets<T extends { model: string; target: string }>(key: ClientKey | undefined, requested: string, targets: T[]): T[] {
  const models = key?.models;
  if (!models || allows(models, requested)) return targets;
  const left = targets.filter((t) => allows(models, t.model) || allows(models, t.target));
  if (left.length) return left;
  throw notAllowed(key!, requested);
}
